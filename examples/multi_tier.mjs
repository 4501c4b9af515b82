// Two tiers: an L1 in each process and Redis as the L2 shared by all of them, plus the bus
// that keeps the L1s coherent. Two caches stand for two processes here.
// Run: npm run example:multi-tier (starts its own redis-server, or uses REDIS_URL)
import assert from 'node:assert/strict'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'rustocache/drivers/redis'
import { redisForExample } from './redis_server.mjs'

const redis = await redisForExample()
const node = () =>
  new BentoCache({
    default: 'main',
    prefix: `example-${process.pid}`,
    stores: {
      main: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 1000 }))
        .useL2Layer(redisDriver({ connection: redis.url }))
        .useBus(redisBusDriver({ connection: redis.url })),
    },
  })
const [a, b] = [node(), node()]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

await a.set({ key: 'config', value: { theme: 'dark' } })
// b has never seen the key: its L1 misses, Redis has it, and b's L1 keeps a copy.
assert.deepEqual(await b.get({ key: 'config' }), { theme: 'dark' })
assert.equal(b.getStats().l2.hits, 1)
assert.deepEqual(await b.get({ key: 'config' }), { theme: 'dark' })
assert.equal(b.getStats().l1.hits, 1)
console.log('b read a\'s write from Redis, then from its own L1')

// a changes it; the bus tells b to drop its L1 copy, so b reads the new value.
await a.set({ key: 'config', value: { theme: 'light' } })
let seen
for (let attempt = 0; attempt < 100; attempt++) {
  seen = await b.get({ key: 'config' })
  if (seen.theme === 'light') break
  await sleep(10)
}
assert.deepEqual(seen, { theme: 'light' })
console.log('after a\'s update, b serves', seen, '- bus:', b.getStats().bus)

await a.clear()
await Promise.all([a.disconnectAll(), b.disconnectAll()])
await redis.stop()
