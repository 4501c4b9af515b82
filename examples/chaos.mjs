// Chaos: Redis (the L2) is killed mid-run and brought back. Meanwhile the L1 keeps serving,
// writes succeed locally and wait in the retry queue, and once Redis is back they reach it.
// Run: npm run example:chaos (starts, kills and restarts its own redis-server)
import assert from 'node:assert/strict'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'
import { redisDriver } from 'rustocache/drivers/redis'
import { redisForExample } from './redis_server.mjs'

if (process.env.REDIS_URL) {
  console.log('the chaos example kills its own redis-server: it ignores REDIS_URL')
  delete process.env.REDIS_URL
}
const redis = await redisForExample()
const store = () => bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: redis.url, timeout: '200ms' }))
const bento = new BentoCache({ default: 'main', stores: { main: store() } })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

await bento.set({ key: 'user:1', value: { name: 'Ada' } })
console.log('wrote user:1 to L1 and Redis')

await redis.kill()
console.log('redis-server killed')

// Reads: the L1 still has user:1.
assert.deepEqual(await bento.get({ key: 'user:1' }), { name: 'Ada' })
console.log('L1 still serves user:1 with Redis down')
// Writes: accepted (the L1 has them; L2 errors are suppressed when an L1 exists) and queued.
assert.equal(await bento.set({ key: 'user:2', value: { name: 'Grace' } }), true)
assert.deepEqual(await bento.get({ key: 'user:2' }), { name: 'Grace' })
const during = bento.getStats().l2
console.log('write during the outage: served from L1; L2 errors', during.errors, '- retries pending', during.retries.pending)
assert.ok(during.retries.pending >= 1)

await redis.restart()
console.log('redis-server restarted (empty: it keeps nothing on disk)')
// The queue retries every second: wait until it is empty.
for (let waited = 0; bento.getStats().l2.retries.pending > 0; waited += 100) {
  assert.ok(waited < 15_000, 'the retried write did not reach Redis')
  await sleep(100)
}
// A second cache with an empty L1 reads user:2 from Redis: the retried write arrived.
const fresh = new BentoCache({ default: 'main', stores: { main: store() } })
assert.deepEqual(await fresh.get({ key: 'user:2' }), { name: 'Grace' })
assert.equal(fresh.getStats().l2.hits, 1)
console.log('the queued write reached Redis once it was back:', await fresh.get({ key: 'user:2' }))

await Promise.all([bento.disconnectAll(), fresh.disconnectAll()])
await redis.stop()
