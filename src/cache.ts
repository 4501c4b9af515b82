import { FactoryError, FactoryHardTimeout, InvalidOptionError, LockTimeoutError, UndefinedValueError } from './errors.js'
import type { Logger } from './bento_cache.js'
import type { EventSink } from './events.js'
import { FactoryContext, SKIP, type WriteOptions } from './factory_context.js'
import { MISS, STALE, type MemoryTier, type TierEntry } from './memory_tier.js'
import type { CacheOptions, CallOptions, ResolvedOptions } from './options.js'
import { CacheCounters, type CacheStats } from './stats.js'

/** A factory computes the value of a missing key. */
export type Factory<T> = (ctx: FactoryContext) => T | typeof SKIP | Promise<T | typeof SKIP>

export interface GetOptions<T> extends CacheOptions {
  key: string
  /** Returned on a miss; a function is called (and awaited) for it. */
  defaultValue?: T | (() => T | Promise<T>)
}
export interface SetOptions<T> extends CallOptions {
  key: string
  value: T
}
export interface GetOrSetOptions<T> extends CallOptions {
  key: string
  factory: Factory<T>
}
export interface KeyOptions {
  key: string
}

/**
 * A factory run in progress. `released` resolves when waiting callers may look again:
 * when the run ends, however it ends, or when its caller gave up at a hard timeout (the
 * factory then goes on, but no longer holds the key, as bentocache's lock is released).
 */
interface Run {
  released: Promise<void>
  release(): void
}

const TIMEOUT: unique symbol = Symbol('rustocache.timeout')

/**
 * One store (or namespace of it): what `bento.use(name)` and `bento.namespace(ns)`
 * return. Hits take the fast path — one synchronous call into Rust, no option object —
 * and everything else the slow path, which resolves options and runs factories.
 */
export class Cache {
  /** Factory runs in progress, by key: callers of a missing key share one run. */
  readonly #runs = new Map<string, Run>()

  constructor(
    /** The store's name. */
    readonly name: string,
    private readonly tier: MemoryTier,
    private readonly defaults: ResolvedOptions,
    private readonly events: EventSink,
    private readonly counters: CacheCounters,
    private readonly logger?: Logger,
  ) {}

  /** The namespace `name` of this cache: same store, keys under `<prefix>:<name>:`. */
  namespace(name: string): Cache {
    return new Cache(this.name, this.tier.namespace(name), this.defaults, this.events, this.counters, this.logger)
  }

  /** The value of `key`, or `defaultValue`; a stale value when grace is enabled. */
  get<T = any>(options: GetOptions<T>): Promise<T> {
    const key = options.key
    // The fast path: a string key and no option to resolve.
    if (typeof key === 'string' && options.grace === undefined && options.graceBackoff === undefined) {
      const value = this.tier.get(key)
      if (value !== MISS && value !== STALE) {
        this.counters.hits++
        this.events.hit(key, value)
        return Promise.resolve(value as T)
      }
      return this.#getSlow(options, key, value)
    }
    return this.#getSlow(options, key, undefined)
  }

  /** A miss or a stale entry (`found`), or a call the fast path cannot take (`undefined`). */
  async #getSlow<T>(options: GetOptions<T>, rawKey: unknown, found: unknown): Promise<T> {
    const key = toKey(rawKey)
    const resolved = this.defaults.withCall(options)
    if (found === undefined) {
      found = this.tier.get(key)
      if (found !== MISS && found !== STALE) {
        this.counters.hits++
        this.events.hit(key, found)
        return found as T
      }
    }
    if (found === STALE && resolved.graceEnabled) {
      const entry = this.tier.peek(key)
      if (entry) {
        this.counters.staleHits++
        this.events.hit(key, entry.value, !entry.fresh)
        return entry.value as T
      }
    }
    this.counters.misses++
    this.events.miss(key)
    const fallback = options.defaultValue
    return (typeof fallback === 'function' ? await (fallback as () => T)() : (fallback ?? undefined)) as T
  }

  /** Stores `value` under `key`. Resolves `true`. */
  async set<T>(options: SetOptions<T>): Promise<boolean> {
    const key = toKey(options.key)
    if (options.value === undefined) throw new UndefinedValueError(key)
    const resolved = this.defaults.withCall(options)
    this.#write(key, options.value, resolved.ttl, resolved.grace, options.tags)
    return true
  }

  /** Stores `value` under `key` with no expiry (unless the call gives a ttl). */
  setForever<T>(options: SetOptions<T>): Promise<boolean> {
    return this.set({ ...options, ttl: options.ttl === undefined ? null : options.ttl })
  }

  /**
   * The value of `key`; on a miss, the value `factory` computes, cached. Concurrent calls
   * for one missing key run the factory once and share its result.
   */
  getOrSet<T = any>(options: GetOrSetOptions<T>): Promise<T> {
    const key = options.key
    if (typeof key !== 'string') return this.#withKey(key, (k) => this.getOrSet({ ...options, key: k }))
    if (options.forceFresh === true) return this.#getOrSetSlow(options, undefined)
    const value = this.tier.get(key)
    if (value !== MISS && value !== STALE) {
      this.counters.hits++
      this.events.hit(key, value)
      return Promise.resolve(value as T)
    }
    return this.#getOrSetSlow(options, value === STALE ? this.tier.peek(key) : undefined)
  }

  /** Runs `operation` with `raw` as a key (numbers are turned to text), or rejects. */
  #withKey<R>(raw: unknown, operation: (key: string) => Promise<R>): Promise<R> {
    try {
      return operation(toKey(raw))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** As {@link getOrSet}, caching the value with no expiry (unless the call gives a ttl). */
  getOrSetForever<T = any>(options: GetOrSetOptions<T>): Promise<T> {
    return this.getOrSet({ ...options, ttl: options.ttl === undefined ? null : options.ttl })
  }

  /**
   * A miss, or a stale entry (`stale`, which the factory sees as `ctx.gracedEntry` and
   * which is served in place of a fresh value only when grace is enabled).
   */
  async #getOrSetSlow<T>(call: GetOrSetOptions<T>, stale: TierEntry | undefined): Promise<T> {
    const key = call.key
    const options = this.defaults.withCall(call)
    this.counters.misses++
    for (;;) {
      const running = this.#runs.get(key)
      if (!running) return this.#runFactory(call, options, stale)

      // Another caller is computing this key: wait for it, then look again.
      const limit = options.waitLimit(stale !== undefined)
      const outcome = limit === null ? await running.released : await withTimeout(running.released, limit)
      if (outcome === TIMEOUT) {
        if (stale && options.graceEnabled) return this.#serveStale(key, stale)
        throw new LockTimeoutError(key)
      }
      if (call.forceFresh !== true) {
        const value = this.tier.get(key)
        if (value !== MISS && value !== STALE) {
          this.events.hit(key, value)
          return value as T
        }
        if (value === STALE) stale = this.tier.peek(key) ?? stale
      }
    }
  }

  async #runFactory<T>(call: GetOrSetOptions<T>, options: ResolvedOptions, stale: TierEntry | undefined): Promise<T> {
    const key = call.key
    const hasStale = stale !== undefined
    const background = options.shouldRevalidateInBackground(hasStale)
    const write: WriteOptions = {
      ttl: options.ttl,
      grace: options.grace,
      tags: call.tags ? [...call.tags] : [],
      skipL2Write: call.skipL2Write ?? false,
      skipBusNotify: call.skipBusNotify ?? false,
    }
    // As bentocache, a background refresh is not shown the value it replaces.
    const ctx = new FactoryContext(stale && !background ? { value: stale.value } : undefined, write)

    this.counters.factoryRuns++
    const run = this.#hold(key)
    const work = this.#produce(key, call.factory, ctx, write, options, background)
    work.then(run.release, run.release)

    if (background) {
      // Stale-while-revalidate: serve the stale value now; failures went to onFactoryError.
      return this.#serveStale(key, stale!)
    }

    try {
      const limit = options.factoryLimit(hasStale)
      const result = limit === null ? await work : await withTimeout(work, limit.ms)
      if (result === TIMEOUT) {
        this.counters.factoryTimeouts++
        if (limit!.soft) return this.#serveStale(key, stale!)
        run.release()
        throw new FactoryHardTimeout(key)
      }
      this.events.miss(key)
      return (result === SKIP ? undefined : result) as T
    } catch (error) {
      if (!stale || !options.graceEnabled || error instanceof FactoryHardTimeout) throw error
      // Serve the stale value, and leave the factory alone for graceBackoff.
      this.tier.set(key, stale.value, options.graceBackoff, options.grace)
      return this.#serveStale(key, stale)
    }
  }

  /** Marks `key` as being computed, until the returned run is released. */
  #hold(key: string): Run {
    let resolve!: () => void
    const run: Run = {
      released: new Promise<void>((r) => (resolve = r)),
      release: () => {
        if (this.#runs.get(key) === run) this.#runs.delete(key)
        resolve()
      },
    }
    this.#runs.set(key, run)
    return run
  }

  /** Runs the factory and writes its value. Rejects with what the caller should see. */
  async #produce<T>(
    key: string,
    factory: GetOrSetOptions<T>['factory'],
    ctx: FactoryContext,
    write: WriteOptions,
    options: ResolvedOptions,
    background: boolean,
  ): Promise<T | typeof SKIP> {
    let value: T | typeof SKIP
    try {
      value = await factory(ctx)
    } catch (cause) {
      this.counters.factoryErrors++
      const error = new FactoryError(key, cause, background)
      this.logger?.warn({ cacheName: this.name, key, error: cause }, 'factory failed')
      options.onFactoryError?.(error)
      throw error
    }
    if (value === SKIP) return SKIP
    if (value === undefined) throw new UndefinedValueError(key)
    this.#write(key, value, write.ttl, write.grace, write.tags)
    return value
  }

  #serveStale<T>(key: string, stale: TierEntry): T {
    this.counters.staleHits++
    this.events.hit(key, stale.value, true)
    return stale.value as T
  }

  /** Writes one entry and tells listeners. A negative ttl removes the key instead. */
  #write(key: string, value: unknown, ttl: number | null, grace: number, tags?: string[]) {
    if (ttl !== null && ttl < 0) this.tier.delete(key)
    else this.tier.set(key, value, ttl, grace, tags)
    this.events.written(key, value)
  }

  /** Whether `key` holds a fresh value. */
  async has(options: KeyOptions): Promise<boolean> {
    return this.tier.peek(toKey(options.key))?.fresh === true
  }

  /** Whether `key` holds no fresh value. */
  async missing(options: KeyOptions): Promise<boolean> {
    return !(await this.has(options))
  }

  /** The value of `key` (as `get` gives it), removed from the cache. */
  async pull<T = any>(key: string): Promise<T | undefined> {
    const value = await this.get<T>({ key })
    await this.delete({ key })
    return value
  }

  /** Removes `key`. Resolves `true`, as bentocache does, whether or not it existed. */
  async delete(options: KeyOptions): Promise<boolean> {
    const key = toKey(options.key)
    this.tier.delete(key)
    this.events.deleted(key)
    return true
  }

  /** Removes `keys`. Resolves `true`. */
  async deleteMany(options: { keys: string[] }): Promise<boolean> {
    const keys = Array.from(options.keys, toKey)
    this.tier.deleteMany(keys)
    for (const key of keys) this.events.deleted(key)
    return true
  }

  /** Turns `key` stale: grace may still serve it. Resolves `true`. */
  async expire(options: KeyOptions): Promise<boolean> {
    const key = toKey(options.key)
    this.tier.expire(key)
    this.events.expired(key)
    return true
  }

  /** Removes every entry of this cache (of this namespace, for a namespace). */
  async clear(): Promise<void> {
    this.tier.clear()
    this.events.cleared()
  }

  /** Nothing to prune in memory; here for bentocache's surface. */
  prune(): Promise<void> {
    return Promise.resolve()
  }

  /** Nothing to close in memory; here for bentocache's surface. */
  disconnect(): Promise<void> {
    return Promise.resolve()
  }

  /** Counters of this store (shared by its namespaces) and of its L1 tier. */
  getStats(): CacheStats {
    return this.counters.read(this.tier.stats())
  }
}


/** A key as the engine takes it: a string as it is, a number as its decimal text. */
function toKey(key: unknown): string {
  if (typeof key === 'string') return key
  if (typeof key === 'number' || typeof key === 'bigint') return String(key)
  throw new InvalidOptionError('key', key, 'a string')
}

/** `promise`'s outcome, or {@link TIMEOUT} after `ms`. The timer is cleared either way. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  if (ms <= 0) return Promise.race([promise, Promise.resolve(TIMEOUT)])
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMEOUT)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
