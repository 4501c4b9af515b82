import type { CircuitBreaker } from './circuit_breaker.js'
import {
  FactoryError,
  FactoryHardTimeout,
  InvalidOptionError,
  L2CacheError,
  LockTimeoutError,
  SerializationError,
  UndefinedValueError,
} from './errors.js'
import type { Logger } from './bento_cache.js'
import type { EventSink } from './events.js'
import { FactoryContext, SKIP, type WriteOptions } from './factory_context.js'
import { MISS, STALE, type MemoryTier, type TierEntry } from './memory_tier.js'
import type { CacheOptions, CallOptions, ResolvedOptions } from './options.js'
import type { RemoteEntry, RemoteTier, RemoteWrite } from './remote_tier.js'
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
export interface GetManyOptions extends CacheOptions {
  keys: string[]
}
export interface SetManyOptions<T> extends CallOptions {
  items: Array<{ key: string; value: T } & CallOptions>
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
 * return. L1 hits take the fast path — one synchronous call into Rust, no option object —
 * and everything else the slow path, which resolves options, reads the L2 tier (Redis)
 * and runs factories. A store may have an L1, an L2, or both.
 */
export class Cache {
  /** Factory runs in progress, by key: callers of a missing key share one run. */
  readonly #runs = new Map<string, Run>()

  constructor(
    /** The store's name. */
    readonly name: string,
    private readonly l1: MemoryTier | undefined,
    private readonly l2: RemoteTier | undefined,
    private readonly defaults: ResolvedOptions,
    private readonly events: EventSink,
    private readonly counters: CacheCounters,
    private readonly breaker: CircuitBreaker,
    private readonly logger?: Logger,
  ) {}

  /** The namespace `name` of this cache: same store, keys under `<prefix>:<name>:`. */
  namespace(name: string): Cache {
    const { l1, l2 } = this
    return new Cache(this.name, l1?.namespace(name), l2?.namespace(name), this.defaults, this.events, this.counters, this.breaker, this.logger)
  }

  /** The value of `key`, or `defaultValue`; a stale value when grace is enabled. */
  get<T = any>(options: GetOptions<T>): Promise<T> {
    const key = options.key
    // The fast path: a string key and no option to resolve.
    if (this.l1 && typeof key === 'string' && options.grace === undefined && options.graceBackoff === undefined) {
      const value = this.l1.get(key)
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
      found = this.l1 ? this.l1.get(key) : MISS
      if (found !== MISS && found !== STALE) {
        this.counters.hits++
        this.events.hit(key, found)
        return found as T
      }
    }
    const remote = await this.#readL2(key, resolved)
    if (remote && (remote.fresh || resolved.graceEnabled)) {
      this.#backfill(key, remote)
      if (remote.fresh) this.counters.hits++
      else this.counters.staleHits++
      this.events.hit(key, remote.value, !remote.fresh, 'l2')
      return remote.value as T
    }
    if (found === STALE && resolved.graceEnabled) {
      const entry = this.l1!.peek(key)
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
    await this.#write(key, options.value, resolved, { ttl: resolved.ttl, grace: resolved.grace, tags: options.tags ?? [], skipL2Write: options.skipL2Write ?? false, skipBusNotify: options.skipBusNotify ?? false })
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
    if (options.forceFresh === true || !this.l1) return this.#getOrSetSlow(options, undefined)
    const value = this.l1.get(key)
    if (value !== MISS && value !== STALE) {
      this.counters.hits++
      this.events.hit(key, value)
      return Promise.resolve(value as T)
    }
    return this.#getOrSetSlow(options, value === STALE ? this.l1.peek(key) : undefined)
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
      if (call.forceFresh !== true && this.l1) {
        const value = this.l1.get(key)
        if (value !== MISS && value !== STALE) {
          this.counters.hits++
          this.events.hit(key, value)
          return value as T
        }
        if (value === STALE) stale = this.l1.peek(key) ?? stale
      }
    }
  }

  async #runFactory<T>(call: GetOrSetOptions<T>, options: ResolvedOptions, stale: TierEntry | undefined): Promise<T> {
    const key = call.key
    const run = this.#hold(key)
    if (this.l2 && call.forceFresh !== true) {
      // Under the hold, so that concurrent callers wait for this read rather than repeat it.
      let remote: RemoteEntry | undefined
      try {
        remote = await this.#readL2(key, options)
      } catch (error) {
        run.release()
        throw error
      }
      if (remote?.fresh) {
        this.#backfill(key, remote)
        run.release()
        this.counters.hits++
        this.events.hit(key, remote.value, false, 'l2')
        return remote.value as T
      }
      if (remote && !stale) stale = remote
    }
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

    // A miss: no tier had a fresh value, so this call's value comes from the factory.
    this.counters.misses++
    this.counters.factoryRuns++
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
      this.l1?.set(key, stale.value, options.graceBackoff, options.grace)
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
    await this.#write(key, value, options, write)
    return value
  }

  #serveStale<T>(key: string, stale: TierEntry): T {
    this.counters.staleHits++
    this.events.hit(key, stale.value, true)
    return stale.value as T
  }

  /** Writes one entry to both tiers and tells listeners. A negative ttl removes the key. */
  #write(key: string, value: unknown, options: ResolvedOptions, write: WriteOptions): Promise<void> {
    return this.#writeAll([{ key, value, ttl: write.ttl, grace: write.grace, tags: write.tags }], options, write.skipL2Write)
  }

  /**
   * Writes entries to the L1, then to the L2 in one round trip, and tells listeners. An
   * entry with a negative ttl removes its key from both tiers instead.
   */
  async #writeAll(writes: RemoteWrite[], options: ResolvedOptions, skipL2Write: boolean) {
    const kept: RemoteWrite[] = []
    const removed: string[] = []
    for (const write of writes) {
      if (write.ttl !== null && write.ttl < 0) {
        this.l1?.delete(write.key)
        removed.push(write.key)
      } else {
        this.l1?.set(write.key, write.value, write.ttl, write.grace, write.tags)
        kept.push(write)
      }
    }
    if (this.l2) {
      if (removed.length > 0) await this.#l2Delete(removed, options)
      if (kept.length > 0 && !skipL2Write) await this.#l2Set(kept, options)
    }
    for (const { key, value } of writes) this.events.written(key, value)
  }

  /**
   * Runs an L2 operation, unless the breaker is open. A failure opens the breaker and is
   * hidden behind `fallback` when `suppressL2Errors` (default: when an L1 exists), else
   * rejects with E_L2_CACHE_ERROR.
   */
  async #l2Call<R>(operation: () => Promise<R>, fallback: R, options: ResolvedOptions, whenSkipped?: () => unknown): Promise<R> {
    if (this.breaker.isOpen()) {
      this.counters.l2Skipped++
      whenSkipped?.()
      return fallback
    }
    try {
      return await operation()
    } catch (cause) {
      // A value that cannot be serialized is the caller's error, not Redis's.
      if (cause instanceof SerializationError) throw cause
      return this.#l2Failed(cause, fallback, options)
    }
  }

  /** Counts an L2 failure and opens the breaker; `fallback` if suppressed, else throws. */
  #l2Failed<R>(cause: unknown, fallback: R, options: ResolvedOptions): R {
    this.counters.l2Errors++
    this.breaker.trip()
    this.logger?.warn({ cacheName: this.name, error: cause }, 'L2 operation failed')
    if (options.suppressL2Errors ?? this.l1 !== undefined) return fallback
    throw new L2CacheError(cause)
  }

  /** Writes to L2; what cannot be written now (failure, open breaker) is queued for retry. */
  #l2Set(writes: RemoteWrite[], options: ResolvedOptions): Promise<void> {
    return this.#l2Call(() => this.l2!.setMany(writes), undefined, options, () => this.l2!.setMany(writes, true))
  }

  /** Deletes from L2, queued for retry as {@link #l2Set}'s writes are. */
  async #l2Delete(keys: string[], options: ResolvedOptions): Promise<void> {
    await this.#l2Call(() => this.l2!.deleteMany(keys), 0, options, () => this.l2!.deleteMany(keys, true))
  }

  /**
   * Reads `key` from the L2 tier; an unreadable value is reported and read as nothing.
   * Written with `then` rather than `await`: every read of a batch passes here, and each
   * async layer would add a promise and a turn of the microtask queue to the batch's cycle.
   */
  #readL2(key: string, options: ResolvedOptions): Promise<RemoteEntry | undefined> {
    if (!this.l2) return Promise.resolve(undefined)
    if (this.breaker.isOpen()) {
      this.counters.l2Skipped++
      return Promise.resolve(undefined)
    }
    return this.l2.get(key).then(
      (read) => this.#accept(key, read),
      (cause) => this.#l2Failed(cause, undefined, options),
    )
  }

  #accept(key: string, read: Awaited<ReturnType<RemoteTier['get']>>): RemoteEntry | undefined {
    if (read === undefined) {
      this.counters.l2Misses++
      return undefined
    }
    if ('unreadable' in read) {
      this.counters.l2Unreadable++
      this.events.unreadable(key, read.unreadable)
      return undefined
    }
    this.counters.l2Hits++
    return read
  }

  /** Copies an L2 entry into the L1 with what remains of its lifetimes. */
  #backfill(key: string, remote: RemoteEntry) {
    if (!this.l1) return
    const now = Date.now()
    const ttl = remote.logicalExpiresAt === null ? null : Math.max(0, remote.logicalExpiresAt - now)
    const grace = ttl === null || remote.ttl === null ? 0 : Math.max(0, remote.ttl - ttl)
    this.l1.setSerialized(key, remote.value, remote.text, ttl, grace, remote.tags)
  }

  /** Whether `key` holds a fresh value. */
  async has(options: KeyOptions): Promise<boolean> {
    const key = toKey(options.key)
    if (this.l1?.peek(key)?.fresh) return true
    return (await this.#readL2(key, this.defaults))?.fresh === true
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
    this.l1?.delete(key)
    if (this.l2) await this.#l2Delete([key], this.defaults)
    this.events.deleted(key)
    return true
  }

  /** Removes `keys`. Resolves `true`. */
  async deleteMany(options: { keys: string[] }): Promise<boolean> {
    const keys = Array.from(options.keys, toKey)
    this.l1?.deleteMany(keys)
    if (this.l2) await this.#l2Delete(keys, this.defaults)
    for (const key of keys) this.events.deleted(key)
    return true
  }

  /** Turns `key` stale: grace may still serve it. Resolves `true`. */
  async expire(options: KeyOptions): Promise<boolean> {
    const key = toKey(options.key)
    this.l1?.expire(key)
    if (this.l2) await this.#l2Call(() => this.l2!.expire(key), false, this.defaults)
    this.events.expired(key)
    return true
  }

  /** Removes every entry of this cache (of this namespace, for a namespace). */
  async clear(): Promise<void> {
    this.l1?.clear()
    if (this.l2) await this.#l2Call(() => this.l2!.clear(), undefined, this.defaults)
    this.events.cleared()
  }

  /**
   * The values of `keys`, in order (`undefined` for a miss): L1 first, then one L2 round
   * trip for the rest, which are copied into the L1. Stale values are returned when grace
   * is enabled.
   */
  async getMany<T = any>(options: GetManyOptions): Promise<Array<T | undefined>> {
    const keys = Array.from(options.keys, toKey)
    const resolved = this.defaults.withCall(options)
    const values: Array<T | undefined> = new Array(keys.length)
    const missing: number[] = []
    keys.forEach((key, i) => {
      const value = this.l1 ? this.l1.get(key) : MISS
      if (value !== MISS && value !== STALE) {
        this.counters.hits++
        values[i] = value as T
      } else missing.push(i)
    })
    if (missing.length === 0) return values

    const remote = this.l2
      ? await this.#l2Call(() => this.l2!.getMany(missing.map((i) => keys[i])), [], resolved)
      : []
    missing.forEach((i, n) => {
      const key = keys[i]
      const entry = this.l2 ? this.#accept(key, remote[n]) : undefined
      if (entry && (entry.fresh || resolved.graceEnabled)) {
        this.#backfill(key, entry)
        if (entry.fresh) this.counters.hits++
        else this.counters.staleHits++
        values[i] = entry.value as T
        return
      }
      const local = resolved.graceEnabled ? this.l1?.peek(key) : undefined
      if (local) {
        this.counters.staleHits++
        values[i] = local.value as T
      } else this.counters.misses++
    })
    return values
  }

  /** Stores several values: each in the L1, all in one L2 round trip. Resolves `true`. */
  async setMany<T>(options: SetManyOptions<T>): Promise<boolean> {
    const shared = this.defaults.withCall(options)
    const writes = options.items.map((item) => {
      const key = toKey(item.key)
      if (item.value === undefined) throw new UndefinedValueError(key)
      const resolved = shared.withCall(item)
      return { key, value: item.value as unknown, ttl: resolved.ttl, grace: resolved.grace, tags: item.tags ?? options.tags ?? [] }
    })
    await this.#writeAll(writes, shared, options.skipL2Write === true)
    return true
  }

  /** Nothing to prune in memory; here for bentocache's surface. */
  prune(): Promise<void> {
    return Promise.resolve()
  }

  /** Closes the L2 connection (nothing to close in memory). A later operation reopens it. */
  async disconnect(): Promise<void> {
    await this.l2?.disconnect()
  }

  /** Counters of this store (shared by its namespaces) and of its L1 tier. */
  getStats(): CacheStats {
    const retries = this.l2?.retries
    return this.counters.read(this.l1?.stats(), retries ? { pending: retries.size, dropped: retries.dropped } : undefined)
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
