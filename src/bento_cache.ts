import { EventEmitter } from 'node:events'
import type { BentoStore } from './bento_store.js'
import { TagRegistry } from './tag_registry.js'
import { CacheBus } from './bus/cache_bus.js'
import { Cache, type GetManyOptions, type GetOptions, type GetOrSetOptions, type KeyOptions, type SetManyOptions, type SetOptions } from './cache.js'
import { InvalidOptionError } from './errors.js'
import { CircuitBreaker } from './circuit_breaker.js'
import { EventSink, ListenerGate, type CacheEvents, type Emitter } from './events.js'
import { CACHE_OPTION_NAMES, type CacheOptions, rejectUnknownOptions, ResolvedOptions } from './options.js'
import { parseDuration, type Duration } from './duration.js'
import { jsonSerializer, type Serializer } from './serializer.js'
import { CacheCounters, type CacheStats } from './stats.js'
import { prometheusText, type MetricsOptions } from './metrics.js'
import { Tracer } from './tracing.js'
import { busOf, l2TierOf } from './custom_drivers.js'
import type { Wire } from './drivers/memory.js'

/** Options of `new BentoCache()`: its stores, and the global defaults of every option. */
export interface BentoCacheOptions<Stores extends Record<string, BentoStore>> extends CacheOptions {
  /** The store used when none is named. */
  default: keyof Stores & string
  /** The stores, by name. */
  stores: Stores
  /** Key prefix of every store, unless the store sets its own. Default `'bentocache'`. */
  prefix?: string
  /** How values are serialized for tiers that keep bytes. Default JSON. */
  serializer?: Serializer
  /** Where events are emitted. Default: a new node `EventEmitter`. */
  emitter?: Emitter
  /** A pino-style logger: factory failures are logged at `warn`. Default: none. */
  logger?: Logger
  /** bentocache plugins: each one's `register(cache)` is called by the constructor. */
  plugins?: Array<{ register(cache: BentoCache<any>): void }>
  /** How long the L2 tier is skipped after a failure. Default: not skipped. */
  l2CircuitBreakerDuration?: Duration
  /**
   * What the Redis L2 tier and bus write and read. `'rustocache'` (default): our binary
   * envelopes and numbered bus frames. `'bentocache'`: bentocache 1.x's JSON entries, key
   * scheme, tag keys and bus frames, so that a fleet moves from bentocache node by node
   * while old and new nodes share one Redis and one bus. It needs the default (JSON)
   * serializer, `redisDriver()` as the L2 layer and `redisBusDriver()` as the bus; lost
   * bus messages cannot be noticed in it (bentocache's frames are not numbered). Not
   * part of bentocache.
   */
  wire?: Wire
}

/** What every store of a cache is built with. */
interface StoreBuild {
  prefix: string
  wire: Wire
  serializer: Serializer
  breakerMs: number | null
  logger?: Logger
}

/** What of a logger RustoCache uses. */
export interface Logger {
  warn(context: object, message: string): void
}

/** How often evictions are read from the engine while `cache:evicted` has listeners. */
const EVICTION_POLL_MS = 100

const GLOBAL_OPTION_NAMES = [
  ...CACHE_OPTION_NAMES,
  'default',
  'stores',
  'prefix',
  'serializer',
  'emitter',
  'logger',
  'plugins',
  'l2CircuitBreakerDuration',
  'wire',
]

/**
 * The cache: a set of named stores, each with its tiers and defaults. Methods called on it
 * act on the default store; `use(name)` selects another. A drop-in for bentocache's.
 *
 * Every store is built in the constructor, so an invalid option throws there.
 */
export class BentoCache<Stores extends Record<string, BentoStore> = Record<string, BentoStore>> {
  readonly #caches = new Map<string, Cache>()
  readonly #default: Cache
  readonly #emitter: Emitter
  readonly #listeners: ListenerGate
  readonly defaultStoreName: string

  constructor(options: BentoCacheOptions<Stores>) {
    rejectUnknownOptions(options, GLOBAL_OPTION_NAMES, 'new BentoCache()')
    const { default: defaultStore, stores, prefix, serializer, emitter, logger, plugins, l2CircuitBreakerDuration, wire = 'rustocache', ...global } = options
    if (wire !== 'rustocache' && wire !== 'bentocache') throw new InvalidOptionError('wire', wire, "'rustocache' or 'bentocache'")
    if (wire === 'bentocache' && serializer !== undefined && serializer !== jsonSerializer) {
      throw new InvalidOptionError('serializer', serializer, "the default (JSON) serializer with wire: 'bentocache' (bentocache's entries are JSON)")
    }
    const breakerMs = l2CircuitBreakerDuration === undefined ? null : parseDuration(l2CircuitBreakerDuration, 'l2CircuitBreakerDuration')
    this.#emitter = emitter ?? new EventEmitter()
    this.#listeners = new ListenerGate(emitter === undefined)
    for (const [name, store] of Object.entries(stores)) {
      const config = { prefix: prefix ?? 'bentocache', wire, serializer: serializer ?? jsonSerializer, breakerMs, logger }
      this.#caches.set(name, this.#build(name, store, global, config))
    }
    const selected = this.#caches.get(defaultStore)
    if (!selected) throw new InvalidOptionError('default', defaultStore, `the name of a store (${[...this.#caches.keys()].join(', ')})`)
    this.#default = selected
    this.defaultStoreName = defaultStore
    for (const plugin of plugins ?? []) plugin.register(this)
  }

  #build(name: string, store: BentoStore, global: CacheOptions, config: StoreBuild): Cache {
    const { l1, l2, bus, options } = store.entry
    if (!l1 && !l2) throw new InvalidOptionError('stores', name, 'a store with an L1 layer (memoryDriver()), an L2 layer (redisDriver()) or both')
    const { prefix: storePrefix, ...storeOptions } = options
    const driverConfig = { prefix: storePrefix ?? config.prefix, serializer: config.serializer, wire: config.wire }
    const defaults = ResolvedOptions.resolve(global, storeOptions)
    const remote = l2 && l2TierOf(l2, driverConfig, config.logger)
    const tags = new TagRegistry()
    // Invalidations other nodes recorded before this one started; best effort, in the
    // background: a store must be usable while Redis is down.
    remote?.invalidations().then(
      (records) => records.forEach(({ kind, tag, at }) => tags.note(kind, [tag], at)),
      (error) => config.logger?.warn({ cacheName: name, error }, 'could not load tag invalidations'),
    )
    const events = new EventSink(this.#emitter, name, this.#listeners.heard)
    const transport = bus && busOf(bus, { store: name, prefix: driverConfig.prefix, wire: config.wire })
    const cache = new Cache(
      name,
      l1?.factory(driverConfig),
      remote,
      defaults,
      events,
      new CacheCounters(),
      new CircuitBreaker(config.breakerMs),
      new Tracer(name, driverConfig.prefix),
      config.logger,
      tags,
      transport && new CacheBus(transport.transport, transport.retryQueue, events, config.logger),
    )
    cache.listen()
    return cache
  }

  /** The store `name` (the default store without one). */
  use(name?: keyof Stores & string): Cache {
    if (name === undefined) return this.#default
    const cache = this.#caches.get(name)
    if (!cache) throw new InvalidOptionError('store', name, `the name of a store (${[...this.#caches.keys()].join(', ')})`)
    return cache
  }

  /** A namespace of the default store. */
  namespace(name: string): Cache {
    return this.#default.namespace(name)
  }

  get<T = any>(options: GetOptions<T>): Promise<T> {
    return this.#default.get(options)
  }

  getOrSet<T = any>(options: GetOrSetOptions<T>): Promise<T> {
    return this.#default.getOrSet(options)
  }

  getOrSetForever<T = any>(options: GetOrSetOptions<T>): Promise<T> {
    return this.#default.getOrSetForever(options)
  }

  set<T>(options: SetOptions<T>): Promise<boolean> {
    return this.#default.set(options)
  }

  setForever<T>(options: SetOptions<T>): Promise<boolean> {
    return this.#default.setForever(options)
  }

  has(options: KeyOptions): Promise<boolean> {
    return this.#default.has(options)
  }

  missing(options: KeyOptions): Promise<boolean> {
    return this.#default.missing(options)
  }

  pull<T = any>(key: string): Promise<T | undefined> {
    return this.#default.pull(key)
  }

  delete(options: KeyOptions): Promise<boolean> {
    return this.#default.delete(options)
  }

  deleteByTag(options: { tags: string[] }): Promise<boolean> {
    return this.#default.deleteByTag(options)
  }

  expireByTag(options: { tags: string[] }): Promise<boolean> {
    return this.#default.expireByTag(options)
  }

  deleteMany(options: { keys: string[] }): Promise<boolean> {
    return this.#default.deleteMany(options)
  }

  expire(options: KeyOptions): Promise<boolean> {
    return this.#default.expire(options)
  }

  clear(): Promise<void> {
    return this.#default.clear()
  }

  /** Clears every store. */
  async clearAll(): Promise<void> {
    await Promise.all([...this.#caches.values()].map((cache) => cache.clear()))
  }

  prune(): Promise<void> {
    return this.#default.prune()
  }

  disconnect(): Promise<void> {
    return this.#default.disconnect()
  }

  /** Disconnects every store. */
  async disconnectAll(): Promise<void> {
    await Promise.all([...this.#caches.values()].map((cache) => cache.disconnect()))
  }

  /** Counters of the default store. */
  getStats(): CacheStats {
    return this.#default.getStats()
  }

  /** Every store's {@link getStats} in the Prometheus text format, labelled `store="<name>"` (see `metrics.ts`). */
  metrics(options?: MetricsOptions): string {
    return prometheusText([...this.#caches.values()].map((cache) => ({ store: cache.name, stats: cache.getStats() })), options)
  }

  getMany<T = any>(options: GetManyOptions): Promise<Array<T | undefined>> {
    return this.#default.getMany(options)
  }

  setMany<T>(options: SetManyOptions<T>): Promise<boolean> {
    return this.#default.setMany(options)
  }

  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#emitter.on(event, listener)
    this.#listeners.subscribed(event)
    if (event === 'cache:evicted') this.#watchEvictions()
    return this
  }

  once<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#emitter.once(event, listener)
    this.#listeners.subscribed(event)
    if (event === 'cache:evicted') this.#watchEvictions()
    return this
  }

  #evictionTimer: NodeJS.Timeout | undefined

  /**
   * `cache:evicted` is reported from the engine's eviction log, which is kept only while
   * someone listens, and read every {@link EVICTION_POLL_MS}: evictions happen on the
   * engine's policy thread, not in a JS call.
   */
  #watchEvictions() {
    if (this.#evictionTimer) return
    const caches = [...this.#caches.values()]
    for (const cache of caches) cache.reportEvictions(true)
    this.#evictionTimer = setInterval(() => {
      for (const cache of caches) cache.emitEvictions()
      if (this.#emitter.listenerCount('cache:evicted') === 0) {
        for (const cache of caches) cache.reportEvictions(false)
        clearInterval(this.#evictionTimer)
        this.#evictionTimer = undefined
      }
    }, EVICTION_POLL_MS)
    this.#evictionTimer.unref()
  }

  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#emitter.off(event, listener)
    this.#listeners.unsubscribed(event, this.#emitter.listenerCount(event))
    return this
  }
}
