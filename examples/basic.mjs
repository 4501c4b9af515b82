// Basic usage: one in-memory tier, getOrSet with a factory, get/set/delete, events, stats.
// Run: npm run example:basic
import assert from 'node:assert/strict'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'

const bento = new BentoCache({
  default: 'cache',
  ttl: '10m',
  stores: { cache: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, maxSize: '50mb' })) },
})

const database = new Map([[1, { id: 1, name: 'Ada' }]])
let queries = 0
const findUser = async (id) => {
  queries++
  return database.get(id)
}

bento.on('cache:miss', ({ key }) => console.log('miss', key))

// The first call runs the factory; the second is served from the cache.
for (let i = 0; i < 2; i++) {
  const user = await bento.getOrSet({ key: 'user:1', factory: () => findUser(1) })
  console.log('user:1 ->', user)
}
assert.equal(queries, 1)

// ctx.skip(): cache nothing for a row that does not exist.
const missing = await bento.getOrSet({ key: 'user:2', factory: async (ctx) => (await findUser(2)) ?? ctx.skip() })
assert.equal(missing, undefined)
assert.equal(await bento.has({ key: 'user:2' }), false)

await bento.set({ key: 'greeting', value: 'hello', ttl: '1m' })
assert.equal(await bento.get({ key: 'greeting' }), 'hello')
assert.equal(await bento.get({ key: 'nothing', defaultValue: 'fallback' }), 'fallback')
await bento.delete({ key: 'greeting' })
assert.equal(await bento.get({ key: 'greeting' }), undefined)

const { hits, misses, hitRate } = bento.getStats()
console.log({ hits, misses, hitRate })
await bento.disconnectAll()
