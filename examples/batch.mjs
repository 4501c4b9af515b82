// Batch operations: getMany and setMany cost one Redis round trip for the whole batch;
// deleteMany removes several keys at once.
// Run: npm run example:batch (starts its own redis-server, or uses REDIS_URL)
import assert from 'node:assert/strict'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'
import { redisDriver } from 'rustocache/drivers/redis'
import { redisForExample } from './redis_server.mjs'

const redis = await redisForExample()
const bento = new BentoCache({
  default: 'main',
  prefix: `example-${process.pid}`,
  stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: redis.url })) },
})

const items = Array.from({ length: 100 }, (_, i) => ({ key: `product:${i}`, value: { id: i, price: i * 10 } }))
await bento.setMany({ items })

const keys = ['product:0', 'product:42', 'product:99', 'product:missing']
const values = await bento.getMany({ keys })
console.log(Object.fromEntries(keys.map((key, i) => [key, values[i]])))
assert.deepEqual(values, [{ id: 0, price: 0 }, { id: 42, price: 420 }, { id: 99, price: 990 }, undefined])

await bento.deleteMany({ keys: ['product:0', 'product:42'] })
assert.deepEqual(await bento.getMany({ keys: ['product:0', 'product:42', 'product:1'] }), [undefined, undefined, { id: 1, price: 10 }])
console.log('deleteMany removed product:0 and product:42')

await bento.clear()
await bento.disconnectAll()
await redis.stop()
