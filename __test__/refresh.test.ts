/**
 * Background refresh, counted exactly: stale-while-revalidate (a stale value served at once
 * while one factory run replaces it) and eager refresh (a fresh value served past its
 * `eagerRefresh` threshold while one factory run replaces it). Each test counts the
 * factory's calls; none asserts a duration. Thresholds are crossed with sleeps that leave
 * wide margins on both sides (an eager threshold at 10% of a 2 s ttl is crossed after
 * 400 ms, so a slow machine has 1.6 s before the entry would turn stale).
 */
import { describe, expect, it } from 'vitest'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { BentoCache, bentostore, errors } from '../src/index.js'
import { memoryBusDriver, memoryDriver } from '../src/drivers/memory.js'
import { redisBusDriver, redisDriver } from '../src/drivers/redis.js'
import { busConnected, createCache, deferred, eventually, rejectionOf, sleep } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'

/** A factory that counts its calls and, while `gate` is pending, waits for it. */
function countingFactory(values: (call: number) => unknown, gate?: Promise<void>) {
  const factory = async () => {
    factory.calls++
    const call = factory.calls
    if (gate) await gate
    return values(call)
  }
  factory.calls = 0
  return factory
}

/** A factory that always fails, counting its calls. */
const failingFactory = () =>
  countingFactory(() => {
    throw new Error('down')
  })

const TTL = 2000
const RATIO = 0.1
/** Past the eager threshold (200 ms) of an entry written now, well before its ttl (2 s). */
const PAST_THRESHOLD = 400

describe('stale-while-revalidate (timeout 0, grace, a stale value)', () => {
  it('N concurrent callers of a stale key get the stale value and start exactly one run; the next call gets its value', async () => {
    const bento = createCache({ grace: '1h', timeout: 0 })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(150)
    const gate = deferred()
    const factory = countingFactory(() => 'fresh', gate.promise)
    const values = await Promise.all(Array.from({ length: 20 }, () => bento.getOrSet({ key: 'k', factory, ttl: '1h' })))
    expect(values).toEqual(Array(20).fill('stale'))
    expect(factory.calls).toBe(1)
    // Still running: more callers get the stale value and start nothing.
    expect(await bento.getOrSet({ key: 'k', factory, ttl: '1h' })).toBe('stale')
    expect(factory.calls).toBe(1)
    gate.resolve()
    await eventually(async () => (await bento.get({ key: 'k', grace: false })) === 'fresh')
    expect(await bento.getOrSet({ key: 'k', factory, ttl: '1h' })).toBe('fresh')
    expect(factory.calls).toBe(1)
    const stats = bento.getStats()
    expect(stats.refresh).toEqual({ staleWhileRevalidate: 1, eager: 0, errors: 0 })
    expect(stats.factory.runs).toBe(1)
  })

  it('a failed background run goes to onFactoryError, is counted, rejects nobody; the next call tries again, once', async () => {
    const seen: any[] = []
    const bento = createCache({ grace: '1h', timeout: 0, graceBackoff: 0, onFactoryError: (error) => seen.push(error) })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(150)
    const failing = failingFactory()
    const values = await Promise.all(Array.from({ length: 5 }, () => bento.getOrSet({ key: 'k', factory: failing })))
    expect(values).toEqual(Array(5).fill('stale'))
    await eventually(() => seen.length === 1)
    expect(failing.calls).toBe(1)
    expect(seen[0]).toBeInstanceOf(errors.E_FACTORY_ERROR)
    expect(seen[0].isBackgroundFactory).toBe(true)
    expect(bento.getStats().refresh).toEqual({ staleWhileRevalidate: 1, eager: 0, errors: 1 })
    const working = countingFactory(() => 'fresh')
    expect(await bento.getOrSet({ key: 'k', factory: working })).toBe('stale')
    await eventually(async () => (await bento.get({ key: 'k' })) === 'fresh')
    expect(working.calls).toBe(1)
  })
})

describe('eager refresh (L1)', () => {
  it('hits before the threshold run nothing', async () => {
    const bento = createCache({ eagerRefresh: 0.5 })
    const factory = countingFactory((n) => `v${n}`)
    expect(await bento.getOrSet({ key: 'k', factory, ttl: '1h' })).toBe('v1')
    for (let i = 0; i < 100; i++) expect(await bento.getOrSet({ key: 'k', factory, ttl: '1h' })).toBe('v1')
    expect(factory.calls).toBe(1)
    expect(bento.getStats().refresh.eager).toBe(0)
  })

  it('many concurrent hits past the threshold: the current value at once, exactly one run, then its value with a fresh ttl', async () => {
    const bento = createCache({ eagerRefresh: RATIO })
    const gate = deferred()
    const factory = countingFactory((n) => `v${n}`, gate.promise)
    gate.resolve() // the first run is a plain miss
    expect(await bento.getOrSet({ key: 'k', factory, ttl: TTL })).toBe('v1')
    await sleep(PAST_THRESHOLD)

    const slow = deferred()
    const refresh = countingFactory((n) => `v${n + 1}`, slow.promise)
    const values = await Promise.all(Array.from({ length: 50 }, () => bento.getOrSet({ key: 'k', factory: refresh, ttl: TTL })))
    // Every caller got the cached value although the refresh is still blocked.
    expect(values).toEqual(Array(50).fill('v1'))
    expect(refresh.calls).toBe(1)
    expect(await bento.getOrSet({ key: 'k', factory: refresh, ttl: TTL })).toBe('v1')
    expect(refresh.calls).toBe(1)
    slow.resolve()
    await eventually(async () => (await bento.get({ key: 'k' })) === 'v2')
    expect(await bento.getOrSet({ key: 'k', factory: refresh, ttl: TTL })).toBe('v2')
    expect(refresh.calls).toBe(1)

    const stats = bento.getStats()
    expect(stats.refresh).toEqual({ staleWhileRevalidate: 0, eager: 1, errors: 0 })
    expect(stats.factory.runs).toBe(2)
    // The eager hits are hits: one miss (the first call), no stale hits.
    expect(stats.misses).toBe(1)
    expect(stats.staleHits).toBe(0)

    // The refreshed entry has a threshold of its own: a second refresh comes past it, once.
    await sleep(PAST_THRESHOLD)
    const again = await Promise.all(Array.from({ length: 10 }, () => bento.getOrSet({ key: 'k', factory: refresh, ttl: TTL })))
    expect(again).toEqual(Array(10).fill('v2'))
    await eventually(async () => (await bento.get({ key: 'k' })) === 'v3')
    expect(refresh.calls).toBe(2)
    expect(bento.getStats().refresh.eager).toBe(2)
    // The same counters as a Prometheus scraper reads them.
    const families = parsePrometheusTextFormat(bento.metrics()) as Array<{ name: string; metrics: Array<{ value: string }> }>
    const value = (name: string) => Number(families.find((f) => f.name === name)?.metrics[0].value)
    expect(value('bentocache_refresh_eager_total')).toBe(2)
    expect(value('bentocache_refresh_stale_while_revalidate_total')).toBe(0)
    expect(value('bentocache_refresh_errors_total')).toBe(0)
    expect(value('bentocache_factory_runs_total')).toBe(3)
  })

  it('get() past the threshold serves the value and leaves the refresh to the next getOrSet', async () => {
    const bento = createCache({ eagerRefresh: RATIO, ttl: TTL })
    await bento.set({ key: 'k', value: 'old' })
    await sleep(PAST_THRESHOLD)
    expect(await bento.get({ key: 'k' })).toBe('old')
    expect(await bento.getMany({ keys: ['k'] })).toEqual(['old'])
    const factory = countingFactory(() => 'new')
    expect(await bento.getOrSet({ key: 'k', factory })).toBe('old')
    await eventually(async () => (await bento.get({ key: 'k' })) === 'new')
    expect(factory.calls).toBe(1)
  })

  it('a failed eager refresh goes to onFactoryError and is counted; callers keep the cached value', async () => {
    const seen: any[] = []
    const bento = createCache({ eagerRefresh: RATIO, ttl: TTL, onFactoryError: (error) => seen.push(error) })
    await bento.set({ key: 'k', value: 'kept' })
    await sleep(PAST_THRESHOLD)
    const failing = failingFactory()
    const values = await Promise.all(Array.from({ length: 10 }, () => bento.getOrSet({ key: 'k', factory: failing })))
    expect(values).toEqual(Array(10).fill('kept'))
    await eventually(() => seen.length === 1)
    expect(failing.calls).toBe(1)
    expect(seen[0].isBackgroundFactory).toBe(true)
    expect(seen[0].cause.message).toBe('down')
    expect(bento.getStats().refresh).toEqual({ staleWhileRevalidate: 0, eager: 1, errors: 1 })
    expect(bento.getStats().factory.errors).toBe(1)
    // The entry is still fresh and served; the failed claim is not retried on every hit.
    expect(await bento.getOrSet({ key: 'k', factory: failing })).toBe('kept')
    expect(failing.calls).toBe(1)
  })

  it('set per call, per store, or globally; false per call turns it off', async () => {
    const perCall = createCache()
    const perStore = createCache({ store: { eagerRefresh: RATIO } })
    const global = createCache({ eagerRefresh: RATIO })
    const off = createCache({ eagerRefresh: RATIO })
    const factories = [perCall, perStore, global, off].map(() => countingFactory((n) => n))
    await perCall.getOrSet({ key: 'k', factory: factories[0], ttl: TTL, eagerRefresh: RATIO })
    await perStore.getOrSet({ key: 'k', factory: factories[1], ttl: TTL })
    await global.getOrSet({ key: 'k', factory: factories[2], ttl: TTL })
    await off.getOrSet({ key: 'k', factory: factories[3], ttl: TTL, eagerRefresh: false })
    await sleep(PAST_THRESHOLD)
    const caches = [perCall, perStore, global, off]
    for (const [i, cache] of caches.entries()) expect(await cache.getOrSet({ key: 'k', factory: factories[i], ttl: TTL })).toBe(1)
    await eventually(async () => (await perCall.get({ key: 'k' })) === 2 && (await perStore.get({ key: 'k' })) === 2 && (await global.get({ key: 'k' })) === 2)
    expect(factories.map((f) => f.calls)).toEqual([2, 2, 2, 1])
    expect(await off.get({ key: 'k' })).toBe(1)
  })

  it('works with serialize: false (values kept by reference)', async () => {
    const bento = createCache({ eagerRefresh: RATIO, ttl: TTL, driver: { serialize: false } })
    const first = { n: 1 }
    await bento.set({ key: 'k', value: first })
    await sleep(PAST_THRESHOLD)
    const factory = countingFactory(() => ({ n: 2 }))
    expect(await bento.getOrSet({ key: 'k', factory })).toBe(first)
    await eventually(async () => (await bento.get({ key: 'k' }))?.n === 2)
    expect(factory.calls).toBe(1)
  })

  it('an entry without a ttl is never refreshed eagerly', async () => {
    const bento = createCache({ eagerRefresh: RATIO })
    await bento.setForever({ key: 'k', value: 'forever' })
    await sleep(50)
    const factory = countingFactory(() => 'new')
    for (let i = 0; i < 10; i++) expect(await bento.getOrSet({ key: 'k', factory })).toBe('forever')
    expect(factory.calls).toBe(0)
  })

  it.each([0, 1, 1.5, -0.2, Number.NaN, '0.8', true])('eagerRefresh %s is refused with E_INVALID_OPTION', async (eagerRefresh: any) => {
    expect(() => createCache({ eagerRefresh })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'eagerRefresh' }))
    expect(() => createCache({ store: { eagerRefresh } })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'eagerRefresh' }))
    const bento = createCache()
    const error = await rejectionOf(() => bento.getOrSet({ key: 'k', factory: () => 1, eagerRefresh }))
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', option: 'eagerRefresh' })
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('an eager refresh in a namespace writes that namespace\'s key only', async () => {
    const bento = createCache({ eagerRefresh: RATIO, ttl: TTL })
    const users = bento.namespace('users')
    await users.set({ key: '1', value: 'u1' })
    await bento.set({ key: '1', value: 'root' })
    await sleep(PAST_THRESHOLD)
    const factory = countingFactory(() => 'u1b')
    expect(await users.getOrSet({ key: '1', factory })).toBe('u1')
    await eventually(async () => (await users.get({ key: '1' })) === 'u1b')
    expect(await bento.get({ key: '1' })).toBe('root')
    expect(factory.calls).toBe(1)
  })
})

describe('eager refresh across two caches (L1 + L2 + bus, real redis-server)', () => {
  const redis = redisForSuite()

  function node(options: { l1?: boolean } = {}) {
    let store = bentostore()
    if (options.l1 !== false) store = store.useL1Layer(memoryDriver())
    return new BentoCache({
      default: 'main',
      eagerRefresh: RATIO,
      stores: {
        main: store
          .useL2Layer(redisDriver({ connection: redis.url, timeout: 500 }))
          .useBus(redisBusDriver({ connection: redis.url, timeout: 500, retryQueue: { retryInterval: '50ms' } })),
      },
    })
  }

  it('one cache refreshes once; its value reaches the L2 and the other cache, whose factory never runs', async () => {
    const [a, b] = [node(), node()]
    await busConnected([a, b])
    const fa = countingFactory((n) => `a${n}`)
    const fb = countingFactory((n) => `b${n}`)
    expect(await a.getOrSet({ key: 'k', factory: fa, ttl: TTL })).toBe('a1')
    expect(await b.getOrSet({ key: 'k', factory: fb, ttl: TTL })).toBe('a1') // from L2
    await sleep(PAST_THRESHOLD)
    const values = await Promise.all(Array.from({ length: 20 }, () => a.getOrSet({ key: 'k', factory: fa, ttl: TTL })))
    expect(values).toEqual(Array(20).fill('a1'))
    // get(), not getOrSet(): b's own copy is past its threshold too, and getOrSet would
    // refresh it if asked before a's message arrives.
    await eventually(async () => (await b.get({ key: 'k' })) === 'a2')
    expect(await b.getOrSet({ key: 'k', factory: fb, ttl: TTL })).toBe('a2')
    expect(fa.calls).toBe(2)
    expect(fb.calls).toBe(0)
    expect(a.getStats().refresh.eager).toBe(1)
    expect(b.getStats().refresh.eager).toBe(0)
    // The refreshed entry in Redis has a fresh ttl (close to 2 s, far above what was left).
    expect(Number(await redis.command('PTTL', 'bentocache:k'))).toBeGreaterThan(TTL - PAST_THRESHOLD)
    await Promise.all([a.disconnect(), b.disconnect()])
  })

  it('an L2 hit past the threshold refreshes too, once for concurrent callers (store without L1)', async () => {
    const writer = node()
    const reader = node({ l1: false })
    await writer.set({ key: 'k', value: 'old', ttl: TTL })
    await sleep(PAST_THRESHOLD)
    const gate = deferred()
    const factory = countingFactory(() => 'new', gate.promise)
    const values = await Promise.all(Array.from({ length: 10 }, () => reader.getOrSet({ key: 'k', factory, ttl: TTL })))
    expect(values).toEqual(Array(10).fill('old'))
    expect(factory.calls).toBe(1)
    gate.resolve()
    await eventually(async () => (await reader.get({ key: 'k' })) === 'new')
    expect(factory.calls).toBe(1)
    expect(reader.getStats().refresh.eager).toBe(1)
    await Promise.all([writer.disconnect(), reader.disconnect()])
  })

  it('an L2 hit past the threshold copied into an L1 refreshes once, and the copy is not claimed again meanwhile', async () => {
    const writer = node()
    const reader = node()
    await writer.set({ key: 'k', value: 'old', ttl: TTL })
    await sleep(PAST_THRESHOLD)
    const gate = deferred()
    const factory = countingFactory(() => 'new', gate.promise)
    expect(await reader.getOrSet({ key: 'k', factory, ttl: TTL })).toBe('old') // L2 → L1
    const values = await Promise.all(Array.from({ length: 10 }, () => reader.getOrSet({ key: 'k', factory, ttl: TTL }))) // L1
    expect(values).toEqual(Array(10).fill('old'))
    expect(factory.calls).toBe(1)
    gate.resolve()
    await eventually(async () => (await reader.get({ key: 'k' })) === 'new')
    expect(factory.calls).toBe(1)
    await Promise.all([writer.disconnect(), reader.disconnect()])
  })

  it('skipL2Write and skipBusNotify hold for the eager refresh write', async () => {
    const [a, b] = [node(), node()]
    await busConnected([a, b])
    await a.getOrSet({ key: 'k', factory: () => 'v1', ttl: TTL })
    expect(await b.get({ key: 'k' })).toBe('v1')
    await sleep(PAST_THRESHOLD)
    const received = b.getStats().bus!.received
    const factory = countingFactory(() => 'v2')
    expect(await a.getOrSet({ key: 'k', factory, ttl: TTL, skipL2Write: true, skipBusNotify: true })).toBe('v1')
    await eventually(async () => (await a.get({ key: 'k' })) === 'v2')
    // A probe after the refresh: once b has it, b would have had the refresh's message too.
    await a.delete({ key: 'probe' })
    await eventually(() => b.getStats().bus!.received === received + 1)
    expect(await b.get({ key: 'k' })).toBe('v1')
    expect(await redis.command('GET', 'bentocache:k')).toContain('v1')
    expect(factory.calls).toBe(1)
    await Promise.all([a.disconnect(), b.disconnect()])
  })
})

describe('eager refresh over the memory bus', () => {
  it('the refresh write of one cache expires the copy of the other', async () => {
    const make = () => new BentoCache({ default: 'main', eagerRefresh: RATIO, ttl: TTL, stores: { main: bentostore().useL1Layer(memoryDriver()).useBus(memoryBusDriver()) } })
    const [a, b] = [make(), make()]
    await b.set({ key: 'k', value: 'b-copy', skipBusNotify: true })
    await a.set({ key: 'k', value: 'a-old', skipBusNotify: true })
    await sleep(PAST_THRESHOLD)
    expect(await a.getOrSet({ key: 'k', factory: () => 'a-new' })).toBe('a-old')
    await eventually(async () => (await a.get({ key: 'k' })) === 'a-new')
    await eventually(async () => (await b.get({ key: 'k' })) === undefined)
  })
})
