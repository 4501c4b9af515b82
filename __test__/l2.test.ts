/**
 * The L2 tier against a real redis-server (started on a free loopback port by the harness):
 * backfill and ttl propagation, grace from L2, L2-only stores, batches, outages, corrupted
 * values and a server that stops answering.
 */
import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisDriver } from '../src/drivers/redis.js'
import { sleep } from './helpers.js'
import { freePort, redisForSuite } from './support/redis_server.js'

const redis = redisForSuite()

/** A cache with an L1 and/or an L2 on the test server. */
function tiered(options: { l1?: boolean; l2?: boolean; timeout?: number; global?: Record<string, unknown> } = {}) {
  let store = bentostore()
  if (options.l1 !== false) store = store.useL1Layer(memoryDriver())
  if (options.l2 !== false) store = store.useL2Layer(redisDriver({ connection: redis.url, timeout: options.timeout ?? 1000 }))
  return new BentoCache({ default: 'main', stores: { main: store }, ...options.global })
}

describe('two tiers', () => {
  it('a value written by one node is read from L2 by another, then served from its L1', async () => {
    const writer = tiered()
    const reader = tiered()
    await writer.set({ key: 'user:1', value: { name: 'Ada' }, ttl: '1m' })
    expect(await reader.get({ key: 'user:1' })).toEqual({ name: 'Ada' })
    expect(reader.getStats().l2.hits).toBe(1)
    expect(await reader.get({ key: 'user:1' })).toEqual({ name: 'Ada' })
    expect(reader.getStats().l2.hits).toBe(1) // the second read was an L1 hit
    expect(reader.getStats().l1?.hits).toBe(1)
  })

  it('the L2 key lives ttl + grace, and a backfilled L1 entry keeps the writer\'s expiry', async () => {
    const writer = tiered()
    const reader = tiered()
    await writer.set({ key: 'k', value: 'v', ttl: 300, grace: 700 })
    const pttl = Number(await redis.command('PTTL', 'bentocache:k'))
    expect(pttl).toBeGreaterThan(700)
    expect(pttl).toBeLessThanOrEqual(1000)
    await sleep(100)
    expect(await reader.get({ key: 'k' })).toBe('v') // backfilled with ~200 ms left
    await sleep(350)
    // Past the writer's ttl: the reader's L1 copy is stale too, and without grace a miss.
    expect(await reader.get({ key: 'k', grace: false })).toBeUndefined()
  })

  it('grace serves a stale L2 entry when the factory fails', async () => {
    const writer = tiered()
    await writer.set({ key: 'k', value: 'old', ttl: 100, grace: '1h' })
    await sleep(250)
    const reader = tiered()
    const value = await reader.getOrSet({ key: 'k', grace: '1h', factory: () => { throw new Error('db down') } })
    expect(value).toBe('old')
  })

  it('getOrSet finds a value in L2 without running the factory', async () => {
    await tiered().set({ key: 'k', value: 42 })
    let calls = 0
    const value = await tiered().getOrSet({ key: 'k', factory: () => ++calls })
    expect(value).toBe(42)
    expect(calls).toBe(0)
  })

  it('getOrSet writes the factory value to both tiers', async () => {
    const cache = tiered()
    await cache.getOrSet({ key: 'k', factory: () => 'computed' })
    expect(await tiered({ l1: false }).get({ key: 'k' })).toBe('computed')
  })

  it('delete, deleteMany, expire and clear reach L2', async () => {
    const cache = tiered()
    await cache.setMany({ items: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'c', value: 3 }, { key: 'd', value: 4 }] })
    await cache.delete({ key: 'a' })
    await cache.deleteMany({ keys: ['b'] })
    await cache.expire({ key: 'c' })
    const l2Only = tiered({ l1: false })
    expect(await l2Only.get({ key: 'a' })).toBeUndefined()
    expect(await l2Only.get({ key: 'b' })).toBeUndefined()
    expect(await l2Only.get({ key: 'c' })).toBeUndefined() // stale, no grace
    expect(await l2Only.get({ key: 'c', grace: '1h' })).toBe(3)
    await cache.clear()
    expect(await redis.command('EXISTS', 'bentocache:d')).toBe(0)
  })

  it('namespaces are prefixes in Redis too, and clear only their own keys', async () => {
    const cache = tiered()
    await cache.namespace('users').set({ key: '1', value: 'u' })
    await cache.set({ key: 'other', value: 'o' })
    expect(await redis.command('EXISTS', 'bentocache:users:1')).toBe(1)
    await cache.namespace('users').clear()
    expect(await redis.command('EXISTS', 'bentocache:users:1')).toBe(0)
    expect(await redis.command('EXISTS', 'bentocache:other')).toBe(1)
  })
})

describe('L2-only stores', () => {
  it('every method works on L2 alone', async () => {
    const cache = tiered({ l1: false })
    await cache.set({ key: 'k', value: { a: 1 } })
    expect(await cache.get({ key: 'k' })).toEqual({ a: 1 })
    expect(await cache.has({ key: 'k' })).toBe(true)
    expect(await cache.getOrSet({ key: 'k', factory: () => 'unused' })).toEqual({ a: 1 })
    expect(await cache.getOrSet({ key: 'new', factory: () => 'made' })).toBe('made')
    expect(await cache.get({ key: 'new' })).toBe('made')
    await cache.delete({ key: 'k' })
    expect(await cache.missing({ key: 'k' })).toBe(true)
    expect(cache.getStats().l1).toBeUndefined()
  })

  it('a value that cannot be serialized rejects with E_SERIALIZATION, not an L2 error', async () => {
    const cache = tiered({ l1: false })
    await expect(cache.set({ key: 'big', value: 10n })).rejects.toMatchObject({ code: 'E_SERIALIZATION', key: 'big' })
    expect(cache.getStats().l2.errors).toBe(0)
    expect(cache.getStats().l2.retries.pending).toBe(0)
  })

  it('disconnect closes the connection; the next operation reopens it', async () => {
    const cache = tiered()
    await cache.set({ key: 'k', value: 1 })
    // Other tests' caches stay connected to the same server: count this one's going away.
    const clients = async () => String(await redis.command('CLIENT', 'LIST')).trim().split('\n').length - 1
    const before = await clients()
    await cache.disconnect()
    const deadline = Date.now() + 5_000
    while ((await clients()) !== before - 1 && Date.now() < deadline) await sleep(20)
    expect(await clients()).toBe(before - 1)
    expect(await tiered({ l1: false }).get({ key: 'k' })).toBe(1)
    expect(await cache.has({ key: 'k' })).toBe(true)
  })

  it('without an L1, L2 errors are not suppressed by default', async () => {
    const nobody = await freePort() // free a moment ago: nothing listens there
    const cache = new BentoCache({
      default: 'main',
      stores: { main: bentostore().useL2Layer(redisDriver({ connection: `redis://127.0.0.1:${nobody}`, timeout: 300 })) },
    })
    await expect(cache.get({ key: 'k' })).rejects.toMatchObject({ code: 'E_L2_CACHE_ERROR' })
  })
})

describe('batches', () => {
  it('concurrent reads, batched into one round trip, each get their own value', async () => {
    const writer = tiered({ l1: false })
    await writer.setMany({ items: Array.from({ length: 50 }, (_, i) => ({ key: `c${i}`, value: { i } })) })
    const reader = tiered({ l1: false })
    const users = reader.namespace('nobody') // a namespace shares the batch but not the keys
    const [values, fromNamespace] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, (_, i) => reader.get({ key: `c${i}` }))),
      users.get({ key: 'c1' }),
    ])
    expect(values).toEqual(Array.from({ length: 60 }, (_, i) => (i < 50 ? { i } : undefined)))
    expect(fromNamespace).toBeUndefined()
  })

  it('setMany and getMany move 100 keys in one call each, across tiers', async () => {
    const writer = tiered()
    await writer.setMany({ items: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: i })) })
    const reader = tiered()
    await reader.set({ key: 'k0', value: 'local' }) // an L1 hit on the reader
    const values = await reader.getMany({ keys: [...Array.from({ length: 100 }, (_, i) => `k${i}`), 'absent'] })
    expect(values[0]).toBe('local')
    expect(values.slice(1, 100)).toEqual(Array.from({ length: 99 }, (_, i) => i + 1))
    expect(values[100]).toBeUndefined()
    // The L2 hits were copied into the reader's L1.
    expect(await tiered({ l2: false }).get({ key: 'k5' })).toBeUndefined()
    const hitsBefore = reader.getStats().l2.hits
    expect(await reader.get({ key: 'k5' })).toBe(5)
    expect(reader.getStats().l2.hits).toBe(hitsBefore)
  })
})

describe('resilience', () => {
  it('a corrupted or foreign value in Redis is a reported miss', async () => {
    const cache = tiered()
    const reports: unknown[] = []
    cache.on('l2:unreadable', (event) => reports.push(event))
    await redis.command('SET', 'bentocache:bad', 'not an envelope')
    expect(await cache.get({ key: 'bad' })).toBeUndefined()
    expect(await cache.getOrSet({ key: 'bad', factory: () => 'fresh' })).toBe('fresh')
    expect(reports).toHaveLength(2)
    expect(reports[0]).toMatchObject({ key: 'bad', store: 'main', reason: expect.stringContaining('not a RustoCache entry') })
    expect(cache.getStats().l2.unreadable).toBe(2)
    // The factory's value replaced the bad bytes.
    expect(await tiered({ l1: false }).get({ key: 'bad' })).toBe('fresh')
  })

  it('a server that stops answering costs a timeout, not a stall', async () => {
    const cache = tiered({ timeout: 200 })
    await cache.set({ key: 'cached', value: 'local' })
    redis.pause()
    try {
      expect(await cache.get({ key: 'cached' })).toBe('local') // L1 still serves
      expect(await cache.get({ key: 'uncached' })).toBeUndefined() // the L2 read times out: a miss
      expect(cache.getStats().l2.errors).toBeGreaterThan(0)
    } finally {
      redis.resume()
    }
    await cache.set({ key: 'after', value: 1 })
    expect(await tiered({ l1: false }).get({ key: 'after' })).toBe(1)
  })

  it('with redis-server killed, L1 keeps serving, the breaker opens and closes, nothing rejects', async () => {
    const cache = tiered({ timeout: 300, global: { l2CircuitBreakerDuration: 400 } })
    await cache.set({ key: 'k', value: 'v' })
    await redis.kill()
    try {
      expect(await cache.get({ key: 'k' })).toBe('v')
      expect(await cache.getOrSet({ key: 'new', factory: () => 'computed' })).toBe('computed')
      const errors = cache.getStats().l2.errors
      expect(errors).toBeGreaterThan(0)
      await cache.set({ key: 'during', value: 1 }) // skipped: the breaker is open
      expect(cache.getStats().l2.skipped).toBeGreaterThan(0)
      expect(cache.getStats().l2.errors).toBe(errors)
    } finally {
      await redis.restart()
    }
    await sleep(500) // the breaker closes
    await cache.set({ key: 'after', value: 2 })
    const l2Only = tiered({ l1: false })
    expect(await l2Only.get({ key: 'after' })).toBe(2)
    // The writes made during the outage are retried (every second) until Redis has them.
    const deadline = Date.now() + 5_000
    while (cache.getStats().l2.retries.pending > 0 && Date.now() < deadline) await sleep(100)
    expect(cache.getStats().l2.retries).toEqual({ pending: 0, dropped: 0 })
    expect(await l2Only.get({ key: 'during' })).toBe(1)
    expect(await l2Only.get({ key: 'new' })).toBe('computed')
  })
})

describe('connection options', () => {
  it('ioredis-style options, clients and clusters become URLs', async () => {
    const { resolveConnection } = await import('../src/drivers/redis.js')
    expect(resolveConnection({ host: 'cache.internal', port: 6380, username: 'app', password: 'p@ss', db: 2 }).urls).toEqual([
      'redis://app:p%40ss@cache.internal:6380/2',
    ])
    expect(resolveConnection({ options: { host: '10.0.0.1', tls: { rejectUnauthorized: false } } }).urls).toEqual([
      'rediss://10.0.0.1:6379/0#insecure',
    ])
    expect(resolveConnection({ host: 'h', keyPrefix: 'app:' }).keyPrefix).toBe('app:')
    expect(resolveConnection(['redis://a:1', { host: 'b', port: 2 }])).toEqual({ urls: ['redis://a:1', 'redis://b:2/0'], keyPrefix: '', cluster: true })
    expect(resolveConnection({ startupNodes: [{ host: 'c', port: 3 }], options: { redisOptions: { password: 'x' } } }).urls).toEqual([
      'redis://:x@c:3/0',
    ])
    expect(() => resolveConnection('http://nope')).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })

  it('an ioredis-style options object reaches the server', async () => {
    const cache = new BentoCache({
      default: 'main',
      stores: { main: bentostore().useL2Layer(redisDriver({ connection: { host: '127.0.0.1', port: redis.port } })) },
    })
    await cache.set({ key: 'via-options', value: 1 })
    expect(await redis.command('EXISTS', 'bentocache:via-options')).toBe(1)
  })
})
