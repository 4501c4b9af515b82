/**
 * Observability: the `bentocache.cache.operation` tracing channel (subscribed to through
 * `node:diagnostics_channel`, as a user or an APM agent does, and compared with what
 * bentocache 1.6.1 publishes on the same channel), and `metrics()`, read back with a
 * Prometheus text-format parser and checked against `getStats()`.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import * as bentoMain from 'bentocache'
import * as bentoMemory from 'bentocache/drivers/memory'
import { BentoCache, bentostore, errors, PROMETHEUS_CONTENT_TYPE, tracingChannels, type CacheStats } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisDriver } from '../src/drivers/redis.js'
import { createCache, rejectionOf, sleep } from './helpers.js'
import { startRedis, type RedisServer } from './support/redis_server.js'

// ---------------------------------------------------------------------------------------
// Tracing
// ---------------------------------------------------------------------------------------

type TraceEvent = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'

/** One event as a subscriber saw it: the message's fields at that moment. */
interface Seen {
  event: TraceEvent
  operation: string
  key?: string
  keys?: string[]
  store: string
  hit?: boolean
  tier?: string
  graced?: boolean
  /** For `error`: the error's code, or its message. */
  error?: string
}

const channel = diagnostics_channel.tracingChannel('bentocache.cache.operation')
let unsubscribe: (() => void) | undefined

/**
 * Subscribes to every event of the channel, through `node:diagnostics_channel` (not through
 * our export), and records each as a snapshot: a message is one object mutated along the
 * operation, so it is copied when seen.
 */
function record(events: readonly TraceEvent[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error']): Seen[] {
  const seen: Seen[] = []
  const handlers: Record<string, (message: any) => void> = {}
  for (const event of events) {
    handlers[event] = (message: any) => {
      const { operation, key, keys, store, hit, tier, graced, error } = message
      const entry: Seen = { event, operation, store }
      if (key !== undefined) entry.key = key
      if (keys !== undefined) entry.keys = [...keys]
      if (hit !== undefined) entry.hit = hit
      if (tier !== undefined) entry.tier = tier
      if (graced !== undefined) entry.graced = graced
      if (event === 'error') entry.error = error?.code ?? error?.message
      seen.push(entry)
    }
  }
  channel.subscribe(handlers as any)
  unsubscribe = () => channel.unsubscribe(handlers as any)
  return seen
}

afterEach(() => {
  unsubscribe?.()
  unsubscribe = undefined
  vi.restoreAllMocks()
})

const only = (seen: Seen[], event: TraceEvent) => seen.filter((s) => s.event === event)

describe('tracing channel bentocache.cache.operation', () => {
  it('is the channel our tracingChannels.cacheOperation publishes on, as bentocache\'s', () => {
    expect(tracingChannels.cacheOperation.start).toBe(diagnostics_channel.channel('tracing:bentocache.cache.operation:start'))
    expect(tracingChannels.cacheOperation.asyncEnd).toBe(bentoMain.tracingChannels.cacheOperation.asyncEnd)
  })

  it('an L1 hit: start, end and asyncEnd with the full key, hit, tier l1, not graced', async () => {
    const bento = createCache()
    await bento.set({ key: 'user:1', value: 'ada' })
    const seen = record()
    expect(await bento.get({ key: 'user:1' })).toBe('ada')
    const hit = { operation: 'get', key: 'bentocache:user:1', store: 'memory', hit: true, tier: 'l1', graced: false }
    expect(seen).toEqual([
      { event: 'start', operation: 'get', key: 'bentocache:user:1', store: 'memory' },
      { event: 'end', ...hit },
      { event: 'asyncStart', ...hit },
      { event: 'asyncEnd', ...hit },
    ])
  })

  it('bentocache\'s end event of an L1 hit lacks what ours has (README, difference 18)', async () => {
    const bento = new bentoMain.BentoCache({ default: 'm', stores: { m: bentoMain.bentostore().useL1Layer(bentoMemory.memoryDriver({})) } })
    await bento.set({ key: 'k', value: 1 })
    const seen = record(['end', 'asyncEnd'])
    await bento.get({ key: 'k' })
    expect(seen).toEqual([
      { event: 'end', operation: 'get', key: 'bentocache:k', store: 'm' },
      { event: 'asyncEnd', operation: 'get', key: 'bentocache:k', store: 'm', hit: true, tier: 'l1', graced: false },
    ])
  })

  it('a miss: hit false, no tier', async () => {
    const bento = createCache()
    const seen = record()
    expect(await bento.get({ key: 'nothing', defaultValue: 'dflt' })).toBe('dflt')
    expect(only(seen, 'asyncEnd')).toEqual([{ event: 'asyncEnd', operation: 'get', key: 'bentocache:nothing', store: 'memory', hit: false }])
    expect(only(seen, 'error')).toEqual([])
  })

  it('getOrSet: a miss nests the factory and its write; then a hit', async () => {
    const bento = createCache()
    const seen = record(['start', 'asyncEnd'])
    expect(await bento.getOrSet({ key: 'k', factory: () => 42 })).toBe(42)
    expect(await bento.getOrSet({ key: 'k', factory: () => 43 })).toBe(42)
    const key = 'bentocache:k'
    const store = 'memory'
    expect(seen).toEqual([
      { event: 'start', operation: 'getOrSet', key, store },
      { event: 'start', operation: 'factory', key, store },
      { event: 'asyncEnd', operation: 'factory', key, store },
      { event: 'start', operation: 'set', key, store },
      { event: 'asyncEnd', operation: 'set', key, store },
      { event: 'asyncEnd', operation: 'getOrSet', key, store, hit: false },
      { event: 'start', operation: 'getOrSet', key, store },
      { event: 'asyncEnd', operation: 'getOrSet', key, store, hit: true, tier: 'l1', graced: false },
    ])
  })

  it('a failing factory: error events on the factory (its error) and on getOrSet (E_FACTORY_ERROR)', async () => {
    const bento = createCache()
    const seen = record(['error'])
    const error = await rejectionOf(() => bento.getOrSet({ key: 'k', factory: () => { throw new Error('db down') } }))
    expect(error).toBeInstanceOf(errors.E_FACTORY_ERROR)
    expect(seen).toEqual([
      { event: 'error', operation: 'factory', key: 'bentocache:k', store: 'memory', error: 'db down' },
      { event: 'error', operation: 'getOrSet', key: 'bentocache:k', store: 'memory', error: 'E_FACTORY_ERROR' },
    ])
  })

  it('a set whose value cannot be serialized rejects, traced: error then asyncEnd on the set', async () => {
    const bento = createCache()
    const seen = record(['start', 'error', 'asyncEnd'])
    const error = await rejectionOf(() => bento.set({ key: 'k', value: { n: 10n } }))
    expect(error).toBeInstanceOf(errors.E_SERIALIZATION)
    expect(seen).toEqual([
      { event: 'start', operation: 'set', key: 'bentocache:k', store: 'memory' },
      { event: 'error', operation: 'set', key: 'bentocache:k', store: 'memory', error: 'E_SERIALIZATION' },
      { event: 'asyncEnd', operation: 'set', key: 'bentocache:k', store: 'memory' },
    ])
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('a stale value served by grace is a graced hit', async () => {
    const bento = createCache({ grace: '1m' })
    await bento.set({ key: 'k', value: 'old', ttl: 50 })
    await sleep(150)
    const seen = record(['asyncEnd'])
    expect(await bento.get({ key: 'k' })).toBe('old')
    expect(await bento.getOrSet({ key: 'k', factory: () => { throw new Error('down') } })).toBe('old')
    expect(seen.filter((s) => s.operation !== 'factory')).toEqual([
      { event: 'asyncEnd', operation: 'get', key: 'bentocache:k', store: 'memory', hit: true, tier: 'l1', graced: true },
      { event: 'asyncEnd', operation: 'getOrSet', key: 'bentocache:k', store: 'memory', hit: true, tier: 'l1', graced: true },
    ])
  })

  it('keys carry the store prefix and the namespaces; deleteMany gives keys, clear none', async () => {
    const bento = new BentoCache({
      default: 'main',
      prefix: 'global',
      stores: { main: bentostore({ prefix: 'app:' }).useL1Layer(memoryDriver({ prefix: 'driver-only' })) },
    })
    const users = bento.namespace('users').namespace('eu')
    const seen = record(['start'])
    await users.set({ key: 1 as any, value: 'ada' })
    await users.expire({ key: '1' })
    await users.delete({ key: '1' })
    await users.deleteMany({ keys: ['1', '2'] })
    await users.clear()
    expect(seen).toEqual([
      { event: 'start', operation: 'set', key: 'app:users:eu:1', store: 'main' },
      { event: 'start', operation: 'expire', key: 'app:users:eu:1', store: 'main' },
      { event: 'start', operation: 'delete', key: 'app:users:eu:1', store: 'main' },
      { event: 'start', operation: 'deleteMany', keys: ['app:users:eu:1', 'app:users:eu:2'], store: 'main' },
      { event: 'start', operation: 'clear', store: 'main' },
    ])
  })

  it('an invalid key still rejects, as untraced', async () => {
    const bento = createCache()
    const seen = record()
    expect(await rejectionOf(() => bento.get({ key: {} as any }))).toBeInstanceOf(errors.E_INVALID_OPTION)
    expect(await rejectionOf(() => bento.deleteMany({ keys: null as any }))).toBeInstanceOf(TypeError)
    expect(seen.map((s) => s.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']) // the get; deleteMany's keys cannot be shown
  })

  it('publishes what bentocache 1.6.1 publishes for the same calls', async () => {
    type Lib = { BentoCache: any; bentostore: any; memoryDriver: any }
    const scenario = async (lib: Lib) => {
      const bento = new lib.BentoCache({
        default: 'main',
        prefix: 'app',
        grace: '1m',
        stores: { main: lib.bentostore().useL1Layer(lib.memoryDriver({})), other: lib.bentostore({ prefix: 'o' }).useL1Layer(lib.memoryDriver({})) },
      })
      const seen: unknown[] = record(['start', 'asyncEnd', 'error'])
      // The order of the message's fields too, for subscribers that print messages.
      const fieldOrder = (message: object) => seen.push(Object.keys(message).filter((k) => k !== 'result' && k !== 'error'))
      channel.asyncEnd.subscribe(fieldOrder)
      await bento.set({ key: 'a', value: 1 })
      await bento.get({ key: 'a' })
      await bento.get({ key: 'nope' })
      await bento.getOrSet({ key: 'b', factory: () => 2 })
      await bento.getOrSet({ key: 'b', factory: () => 3 })
      await bento.getOrSetForever({ key: 'f', factory: () => 4 })
      await bento.setForever({ key: 'g', value: 5 })
      const users = bento.namespace('users')
      await users.set({ key: '1', value: 'ada' })
      await users.get({ key: '1' })
      await bento.use('other').get({ key: 'x' })
      await bento.expire({ key: 'a' })
      await bento.get({ key: 'a' })
      await bento.pull('b')
      await bento.deleteMany({ keys: ['f', 'g'] })
      await users.clear()
      await bento.getOrSet({ key: 'fail', factory: () => { throw new Error('boom') } }).catch(() => {})
      unsubscribe?.()
      unsubscribe = undefined
      channel.asyncEnd.unsubscribe(fieldOrder)
      return seen
    }
    const ours = await scenario({ BentoCache, bentostore, memoryDriver })
    const theirs = await scenario({ BentoCache: bentoMain.BentoCache, bentostore: bentoMain.bentostore, memoryDriver: bentoMemory.memoryDriver })
    expect(ours.length).toBeGreaterThan(60)
    expect(ours).toEqual(theirs)
  })

  describe('with an L2', () => {
    let redis: RedisServer
    beforeAll(async () => {
      redis = await startRedis()
    })
    afterAll(async () => {
      await redis?.stop()
    })

    it('a value found in L2 is a hit from tier l2, for get and getOrSet', async () => {
      const node = () =>
        new BentoCache({ default: 'main', stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: redis.url })) } })
      const writer = node()
      await writer.set({ key: 'a', value: 1 })
      await writer.set({ key: 'b', value: 2 })
      const reader = node()
      const seen = record(['asyncEnd'])
      expect(await reader.get({ key: 'a' })).toBe(1)
      expect(await reader.getOrSet({ key: 'b', factory: () => 0 })).toBe(2)
      expect(await reader.get({ key: 'a' })).toBe(1)
      expect(seen).toEqual([
        { event: 'asyncEnd', operation: 'get', key: 'bentocache:a', store: 'main', hit: true, tier: 'l2', graced: false },
        { event: 'asyncEnd', operation: 'getOrSet', key: 'bentocache:b', store: 'main', hit: true, tier: 'l2', graced: false },
        { event: 'asyncEnd', operation: 'get', key: 'bentocache:a', store: 'main', hit: true, tier: 'l1', graced: false },
      ])
      await Promise.all([writer.disconnect(), reader.disconnect()])
    })
  })

  describe('without a subscriber', () => {
    it('no operation enters the traced path; with one, every operation does', async () => {
      const tracePromise = vi.spyOn(tracingChannels.cacheOperation, 'tracePromise')
      const bento = createCache()
      const run = async () => {
        await bento.set({ key: 'a', value: 1 })
        expect(await bento.get({ key: 'a' })).toBe(1) // the L1 fast path
        expect(await bento.get({ key: 'b' })).toBe(undefined)
        expect(await bento.getOrSet({ key: 'a', factory: () => 2 })).toBe(1) // fast path
        expect(await bento.getOrSet({ key: 'c', factory: () => 3 })).toBe(3) // factory and write
        await bento.expire({ key: 'a' })
        await bento.delete({ key: 'a' })
        await bento.deleteMany({ keys: ['c'] })
        await bento.clear()
      }
      expect(channel.hasSubscribers).toBe(false)
      await run()
      expect(tracePromise).not.toHaveBeenCalled()

      // Any one of the five events is enough to be traced.
      const seen = record(['asyncEnd'])
      await run()
      expect(tracePromise).toHaveBeenCalledTimes(11) // 9 calls + the factory + its write
      expect(seen).toHaveLength(11)

      unsubscribe!()
      unsubscribe = undefined
      tracePromise.mockClear()
      await run()
      expect(tracePromise).not.toHaveBeenCalled()
    })
  })
})

// ---------------------------------------------------------------------------------------
// metrics()
// ---------------------------------------------------------------------------------------

interface Family {
  name: string
  help: string
  type: string
  metrics: Array<{ value: string; labels?: Record<string, string> }>
}

/** `text` parsed by a real Prometheus text-format parser, as `name -> store -> value`. */
function parse(text: string): { families: Family[]; values: Map<string, Map<string, number>> } {
  const families = parsePrometheusTextFormat(text) as Family[]
  const values = new Map<string, Map<string, number>>()
  for (const family of families) {
    const byStore = new Map<string, number>()
    for (const sample of family.metrics) byStore.set(sample.labels!.store, Number(sample.value))
    values.set(family.name, byStore)
  }
  return { families, values }
}

/** What each metric must show, from `getStats()`: the table of `src/metrics.ts`. */
function expectedFrom(stats: CacheStats): Record<string, number | undefined> {
  return {
    bentocache_hits_total: stats.hits,
    bentocache_graced_hits_total: stats.staleHits,
    bentocache_misses_total: stats.misses,
    bentocache_factory_runs_total: stats.factory.runs,
    bentocache_factory_errors_total: stats.factory.errors,
    bentocache_factory_timeouts_total: stats.factory.timeouts,
    bentocache_refresh_stale_while_revalidate_total: stats.refresh.staleWhileRevalidate,
    bentocache_refresh_eager_total: stats.refresh.eager,
    bentocache_refresh_errors_total: stats.refresh.errors,
    bentocache_l1_hits_total: stats.l1?.hits,
    bentocache_l1_stale_hits_total: stats.l1?.staleHits,
    bentocache_l1_misses_total: stats.l1?.misses,
    bentocache_l1_writes_total: stats.l1?.writes,
    bentocache_l1_evictions_total: stats.l1?.evictions,
    bentocache_l1_expirations_total: stats.l1?.expirations,
    bentocache_l1_rejected_total: stats.l1?.rejected,
    bentocache_l1_entries: stats.l1?.entries,
    bentocache_l1_bytes: stats.l1?.bytes,
    bentocache_l2_hits_total: stats.l2.hits,
    bentocache_l2_misses_total: stats.l2.misses,
    bentocache_l2_errors_total: stats.l2.errors,
    bentocache_l2_skipped_total: stats.l2.skipped,
    bentocache_l2_unreadable_total: stats.l2.unreadable,
    bentocache_l2_retry_pending: stats.l2.retries.pending,
    bentocache_l2_retry_dropped_total: stats.l2.retries.dropped,
  }
}

const WEIRD = 'we"ird\\store\nname'

describe('metrics()', () => {
  it('gives every store\'s getStats() after a known sequence of operations', async () => {
    const bento = new BentoCache({
      default: 'main',
      grace: '1m',
      stores: {
        main: bentostore().useL1Layer(memoryDriver({ maxItems: 100, maxEntrySize: 200 })),
        [WEIRD]: bentostore().useL1Layer(memoryDriver()),
        // An L2-only store, never used: no connection is opened, and it has no L1 samples.
        remote: bentostore().useL2Layer(redisDriver({ connection: 'redis://127.0.0.1:1' })),
      },
    })
    await bento.set({ key: 'a', value: 1 }) // l1 write
    await bento.get({ key: 'a' }) // hit
    await bento.get({ key: 'a' }) // hit
    await bento.get({ key: 'b' }) // miss
    await bento.getOrSet({ key: 'c', factory: () => 3 }) // miss, factory run, l1 write
    await bento.getOrSet({ key: 'c', factory: () => 4 }) // hit
    await rejectionOf(() => bento.getOrSet({ key: 'd', factory: () => { throw new Error('x') } })) // miss, run, error
    await bento.set({ key: 'big', value: 'x'.repeat(500) }) // refused by maxEntrySize
    await bento.set({ key: 's', value: 's', ttl: 30 })
    await sleep(100)
    await bento.get({ key: 's' }) // a stale hit, by grace
    await bento.use(WEIRD).set({ key: 'w', value: 'w' })
    await bento.use(WEIRD).get({ key: 'w' }) // hit in the other store

    const { families, values } = parse(bento.metrics())
    const main = bento.getStats()
    // The sequence above, counted by hand: the comparison with getStats() below is not with itself.
    expect(main).toMatchObject({ hits: 3, staleHits: 1, misses: 3, factory: { runs: 2, errors: 1, timeouts: 0 } })
    expect(main.l1).toMatchObject({ rejected: 1, entries: 3 })
    expect(values.get('bentocache_hits_total')).toEqual(new Map([['main', 3], [WEIRD, 1], ['remote', 0]]))
    expect(values.get('bentocache_graced_hits_total')!.get('main')).toBe(1)
    expect(values.get('bentocache_misses_total')!.get('main')).toBe(3)
    expect(values.get('bentocache_l1_rejected_total')!.get('main')).toBe(1)
    expect(values.get('bentocache_l1_entries')!.get('main')).toBe(3)

    const stats: Record<string, CacheStats> = { main, [WEIRD]: bento.use(WEIRD).getStats(), remote: bento.use('remote').getStats() }
    const expected = new Map<string, Map<string, number>>()
    for (const [store, s] of Object.entries(stats)) {
      for (const [name, value] of Object.entries(expectedFrom(s))) {
        if (value === undefined) continue
        if (!expected.has(name)) expected.set(name, new Map())
        expected.get(name)!.set(store, value)
      }
    }
    expect(values).toEqual(expected)
    expect(values.get('bentocache_l1_bytes')!.has('remote')).toBe(false)

    for (const family of families) {
      expect(family.help).not.toBe('')
      expect(family.type).toBe(family.name.endsWith('_total') ? 'COUNTER' : 'GAUGE') // the parser's spelling
    }
  })

  it('escapes label values: a quote, a backslash and a line feed', () => {
    const bento = new BentoCache({ default: WEIRD, stores: { [WEIRD]: bentostore().useL1Layer(memoryDriver()) } })
    const text = bento.metrics()
    expect(text).toContain('bentocache_hits_total{store="we\\"ird\\\\store\\nname"} 0\n')
    const [family] = parse(text).families
    expect(family.metrics[0].labels).toEqual({ store: WEIRD })
  })

  it('is the text format: HELP and TYPE before each family\'s samples, a line feed at the end', async () => {
    const bento = createCache()
    await bento.get({ key: 'a' })
    const text = bento.metrics()
    expect(text.endsWith('\n')).toBe(true)
    expect(text.startsWith(
      '# HELP bentocache_hits_total Reads answered with a fresh value.\n' +
        '# TYPE bentocache_hits_total counter\n' +
        'bentocache_hits_total{store="memory"} 0\n' +
        '# HELP bentocache_graced_hits_total ',
    )).toBe(true)
    expect(text).toContain('\n# TYPE bentocache_l1_entries gauge\nbentocache_l1_entries{store="memory"} 0\n')
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# HELP [a-z0-9_]+ \S.*|# TYPE [a-z0-9_]+ (counter|gauge)|[a-z0-9_]+\{store="[^"]*"\} \d+)$/)
    }
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8')
  })

  it('a Cache gives its store only; a namespace, its store\'s', async () => {
    const bento = new BentoCache({
      default: 'a',
      stores: { a: bentostore().useL1Layer(memoryDriver()), b: bentostore().useL1Layer(memoryDriver()) },
    })
    await bento.use('b').namespace('ns').get({ key: 'k' })
    const b = parse(bento.use('b').namespace('ns').metrics()).values
    expect(b.get('bentocache_misses_total')).toEqual(new Map([['b', 1]]))
    expect(parse(bento.use('a').metrics()).values.get('bentocache_misses_total')).toEqual(new Map([['a', 0]]))
  })

  it('takes a prefix, as the bentocache plugin does', () => {
    const bento = createCache()
    const names = parse(bento.metrics({ prefix: 'app_cache' })).families.map((f) => f.name)
    expect(names).toContain('app_cache_hits_total')
    expect(names.every((name) => name.startsWith('app_cache_'))).toBe(true)
    expect(parse(bento.metrics({ prefix: '' })).families[0].name).toBe('hits_total')
    expect(() => bento.metrics({ prefix: 'my-app' })).toThrow(errors.E_INVALID_OPTION)
    expect(() => bento.metrics({ prefix: '1app' })).toThrow(errors.E_INVALID_OPTION)
  })
})
