/**
 * A fleet moving from bentocache to RustoCache: a bentocache process and a RustoCache
 * process in `wire: 'bentocache'` mode share one real redis-server (L2 and bus). Each
 * reads what the other writes, and each one's writes, deletions, tag invalidations and
 * clears reach the other's L1.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { fileDriver } from '../src/drivers/file.js'
import { redisDriver } from '../src/drivers/redis.js'
import { InvalidOptionError } from '../src/errors.js'
import { ChildCache } from './support/child_cache.js'
import { startRedis, type RedisServer } from './support/redis_server.js'

const SCRIPT = fileURLToPath(new URL('./support/fleet_node.mjs', import.meta.url))

/** Polls `read` until it gives `expected` (deep equality), or fails after `ms`. */
async function eventually(read: () => Promise<unknown>, expected: unknown, ms = 3000) {
  const start = performance.now()
  let last: unknown
  while (performance.now() - start < ms) {
    last = await read()
    try {
      expect(last).toEqual(expected)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  expect(last).toEqual(expected)
}

let redis: RedisServer
let bento: ChildCache
let rusto: ChildCache

beforeAll(async () => {
  redis = await startRedis()
  ;[bento, rusto] = await Promise.all([ChildCache.start(SCRIPT, [redis.url, 'bentocache']), ChildCache.start(SCRIPT, [redis.url, 'rustocache'])])
  // Both subscribed to bentocache's channel before anything is published.
  const start = Date.now()
  while (Number(await redis.command('PUBSUB', 'NUMSUB', 'bentocache.notifications:main').then((r: any) => r[1])) < 2) {
    if (Date.now() - start > 10_000) throw new Error('the two nodes did not subscribe')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}, 30_000)

afterAll(async () => {
  await Promise.all([bento?.exitAfter('disconnect', 30_000), rusto?.exitAfter('disconnect', 30_000)])
  await redis?.stop()
})

describe("wire: 'bentocache' beside a bentocache process", () => {
  it("writes bentocache's JSON entry under bentocache's key, which bentocache reads", async () => {
    await rusto.call('set', { key: 'r:1', value: { id: 1, name: 'Ada' }, ttl: '1m' })
    const raw = JSON.parse(String(await redis.command('GET', 'bentocache:r:1')))
    expect(raw.value).toEqual({ id: 1, name: 'Ada' })
    // Creation and expiry are stamped by two clock reads, as bentocache stamps them.
    expect(raw.logicalExpiration - raw.createdAt).toBeGreaterThanOrEqual(60_000)
    expect(raw.logicalExpiration - raw.createdAt).toBeLessThan(60_100)
    expect(Number(await redis.command('PTTL', 'bentocache:r:1'))).toBeGreaterThan(60_000) // grace: 1h
    expect(await bento.call('get', { key: 'r:1' })).toEqual({ id: 1, name: 'Ada' })
  })

  it('reads what bentocache writes', async () => {
    await bento.call('set', { key: 'b:1', value: [1, 'two', { three: 3 }] })
    expect(await rusto.call('get', { key: 'b:1' })).toEqual([1, 'two', { three: 3 }])
  })

  it("a write on either node reaches the other's L1", async () => {
    await rusto.call('set', { key: 'shared', value: 'v1' })
    expect(await bento.call('get', { key: 'shared' })).toBe('v1') // now in bentocache's L1
    expect(await rusto.call('get', { key: 'shared' })).toBe('v1')
    await rusto.call('set', { key: 'shared', value: 'v2' })
    await eventually(() => bento.call('get', { key: 'shared' }), 'v2')
    await bento.call('set', { key: 'shared', value: 'v3' })
    await eventually(() => rusto.call('get', { key: 'shared' }), 'v3')
  })

  it('a delete on either node reaches the other', async () => {
    await bento.call('set', { key: 'd:1', value: 1 })
    await rusto.call('set', { key: 'd:2', value: 2 })
    expect(await rusto.call('get', { key: 'd:1' })).toBe(1)
    expect(await bento.call('get', { key: 'd:2' })).toBe(2)
    await bento.call('delete', { key: 'd:1' })
    await rusto.call('delete', { key: 'd:2' })
    await eventually(() => rusto.call('get', { key: 'd:1' }), undefined)
    await eventually(() => bento.call('get', { key: 'd:2' }), undefined)
  })

  it("bentocache's deleteByTag reaches RustoCache's L1 and its later L2 reads", async () => {
    await bento.call('set', { key: 't:1', value: 'tagged', tags: ['posts'] })
    expect(await rusto.call('get', { key: 't:1' })).toBe('tagged') // in RustoCache's L1
    await bento.call('deleteByTag', { tags: ['posts'] })
    await eventually(() => rusto.call('get', { key: 't:1' }), undefined)
    // Not even with grace: the entry is still in Redis, but refused by its tag key.
    expect(await redis.command('EXISTS', 'bentocache:t:1')).toBe(1)
    expect(await rusto.call('get', { key: 't:1', defaultValue: 'none' })).toBe('none')
    await bento.call('set', { key: 't:1', value: 'after', tags: ['posts'] })
    expect(await rusto.call('get', { key: 't:1' })).toBe('after')
  })

  it("RustoCache's deleteByTag reaches bentocache", async () => {
    await rusto.call('set', { key: 't:2', value: 'tagged', tags: ['news'] })
    expect(await bento.call('get', { key: 't:2' })).toBe('tagged') // in bentocache's L1
    await rusto.call('deleteByTag', { tags: ['news'] })
    // bentocache serves a tag-invalidated entry within grace (its own deleteByTag only marks
    // entries stale: its issues #71 and #63), so it is asked without grace.
    await eventually(() => bento.call('get', { key: 't:2', grace: false }), undefined)
    expect(await redis.command('EXISTS', 'bentocache:t:2')).toBe(0) // removed from Redis, not only marked
    const tagEntry = JSON.parse(String(await redis.command('GET', 'bentocache:___bc:t:news')))
    expect(typeof tagEntry.value).toBe('number')
  })

  it('namespaces share keys and messages', async () => {
    await rusto.call('users.set', { key: '1', value: { name: 'Ada' } })
    expect(await redis.command('EXISTS', 'bentocache:users:1')).toBe(1)
    expect(await bento.call('users.get', { key: '1' })).toEqual({ name: 'Ada' })
    await rusto.call('users.set', { key: '1', value: { name: 'Grace' } })
    await eventually(() => bento.call('users.get', { key: '1' }), { name: 'Grace' })
    await bento.call('users.delete', { key: '1' })
    await eventually(() => rusto.call('users.get', { key: '1' }), undefined)
  })

  it('a clear on either node reaches the other', async () => {
    await bento.call('set', { key: 'c:1', value: 1 })
    expect(await rusto.call('get', { key: 'c:1' })).toBe(1)
    await bento.call('clear')
    await eventually(() => rusto.call('get', { key: 'c:1' }), undefined)
    await rusto.call('set', { key: 'c:2', value: 2 })
    expect(await bento.call('get', { key: 'c:2' })).toBe(2)
    await rusto.call('clear')
    await eventually(() => bento.call('get', { key: 'c:2' }), undefined)
  })
})

describe("wire: 'bentocache' options", () => {
  const l2 = () => redisDriver({ connection: 'redis://127.0.0.1:1' })

  it('refuses an unknown wire, a custom serializer and L2 layers that cannot speak it', () => {
    const store = bentostore().useL1Layer(memoryDriver()).useL2Layer(l2())
    expect(() => new BentoCache({ default: 's', wire: 'json' as any, stores: { s: store } })).toThrow(InvalidOptionError)
    const serializer = { serialize: JSON.stringify, deserialize: JSON.parse }
    expect(() => new BentoCache({ default: 's', wire: 'bentocache', serializer, stores: { s: store } })).toThrow(/serializer/)
    const file = bentostore().useL2Layer(fileDriver({ directory: '/tmp/rustocache-wire-refused' }))
    expect(() => new BentoCache({ default: 's', wire: 'bentocache', stores: { s: file } })).toThrow(/wire/)
  })
})
