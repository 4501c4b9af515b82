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
import { invalidCallDuration } from './options.js'
import type { RemoteEntry, RemoteTier, RemoteWrite } from './remote_tier.js'
import { CacheCounters, type CacheStats } from './stats.js'
import { TagRegistry } from './tag_registry.js'
import type { BusReceiver, CacheBus } from './bus/cache_bus.js'
import type { BusKind, BusMessage } from './bus/transport.js'
import { prometheusText, type MetricsOptions } from './metrics.js'
import { tracing, traceHit, traceMiss, type Tracer } from './tracing.js'
import type { CacheOperationMessage } from './tracing_channels.js'

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
  /**
   * The key's L1 entry read once after release, shared by the run's plain waiters (see
   * #joinRun); made by the first of them.
   */
  handoff?: Promise<ReturnType<MemoryTier['share']>>
}

const TIMEOUT: unique symbol = Symbol('rustocache.timeout')

/**
 * One entry on its way to the tiers: what the L2 takes, plus what only the L1 and the bus
 * need. Each write carries its own skips (the items of `setMany` may differ).
 */
interface PendingWrite extends RemoteWrite {
  /** ms from now until a `getOrSet` hit starts an eager refresh; absent: never. */
  refreshIn?: number
  /** Keep this write out of the L2. */
  skipL2Write?: boolean
  /** Keep this write off the bus. */
  skipBusNotify?: boolean
}

/**
 * One store (or namespace of it): what `bento.use(name)` and `bento.namespace(ns)`
 * return. L1 hits take the fast path — one synchronous call into Rust, no option object —
 * and everything else the slow path, which resolves options, reads the L2 tier (Redis)
 * and runs factories. A store may have an L1, an L2, or both.
 */
export class Cache {
  /** Factory runs in progress, by key: callers of a missing key share one run. */
  readonly #runs = new Map<string, Run>()
  /**
   * Keys whose eager refresh is running. Kept apart from {@link #runs}: nobody waits for an
   * eager refresh (the value it replaces is still fresh), it only must not start twice.
   */
  readonly #refreshing = new Set<string>()
  /**
   * The namespaces made from this cache, by name, so that `namespace(name)` called per
   * request returns one object: its callers share its factory runs (one run per key, as
   * from a kept namespace) and its native handle, and the call
   * costs a `Map` read instead of ~1.4 µs. Emptied when it reaches {@link NAMESPACES_KEPT}.
   */
  readonly #namespaces = new Map<string, Cache>()

  constructor(
    /** The store's name. */
    readonly name: string,
    private readonly l1: MemoryTier | undefined,
    private readonly l2: RemoteTier | undefined,
    private readonly defaults: ResolvedOptions,
    private readonly events: EventSink,
    private readonly counters: CacheCounters,
    private readonly breaker: CircuitBreaker,
    private readonly tracer: Tracer,
    private readonly logger: Logger | undefined,
    /** Tag invalidations known to this process; one registry per store. */
    private readonly tags: TagRegistry,
    /** The store's bus, if it has one; shared by its namespaces. */
    private readonly bus: CacheBus | undefined,
    /**
     * This namespace's path (`users:`), empty at the root: it qualifies tags, and names the
     * namespace in bus messages.
     */
    private readonly namespacePath = '',
  ) {}

  /** The namespace `name` of this cache: same store, keys under `<prefix>:<name>:`. */
  namespace(name: string): Cache {
    let cache = this.#namespaces.get(name)
    if (cache === undefined) {
      const { l1, l2 } = this
      cache = new Cache(this.name, l1?.namespace(name), l2?.namespace(name), this.defaults, this.events, this.counters, this.breaker, this.tracer.namespace(name), this.logger, this.tags, this.bus, `${this.namespacePath}${name}:`)
      if (this.#namespaces.size >= NAMESPACES_KEPT) this.#namespaces.clear()
      this.#namespaces.set(name, cache)
    }
    return cache
  }

  /** The value of `key`, or `defaultValue`; a stale value when grace is enabled. */
  get<T = any>(options: GetOptions<T>): Promise<T> {
    const key = options.key
    // Traced: the slow path, which starts with the same L1 lookup as the fast path.
    if (tracing()) return this.tracer.trace('get', key, (trace) => this.#getSlow(options, key, undefined, trace))
    // The fast path: a string key and no option to resolve.
    if (this.l1 && typeof key === 'string' && options.grace === undefined && options.graceBackoff === undefined) {
      // A hit nobody hears needs no value at hand: its settled promise will do.
      const settledHit = !this.events.hitHeard
      if (settledHit) {
        const resolved = this.#settledHit(this.l1, key)
        if (resolved !== undefined) return resolved as Promise<T>
      }
      const value = this.l1.get(key, settledHit)
      if (value !== MISS && value !== STALE) {
        this.counters.hits++
        this.events.hit(key, value)
        return Promise.resolve(value as T)
      }
      return this.#getSlow(options, key, value)
    }
    return this.#getSlow(options, key, undefined)
  }

  /**
   * A fresh slot hit of `key` as its settled promise, counted; `undefined` when the slot
   * index cannot answer (see {@link MemoryTier.resolvedHit}).
   */
  #settledHit(l1: MemoryTier, key: string): Promise<unknown> | undefined {
    const resolved = l1.resolvedHit(key)
    if (resolved !== undefined) this.counters.hits++
    return resolved
  }

  /** A miss or a stale entry (`found`), or a call the fast path cannot take (`undefined`). */
  async #getSlow<T>(options: GetOptions<T>, rawKey: unknown, found: unknown, trace?: CacheOperationMessage): Promise<T> {
    const key = toKey(rawKey)
    const resolved = this.defaults.withCall(options)
    if (found === undefined) {
      found = this.l1 ? this.l1.get(key) : MISS
      if (found !== MISS && found !== STALE) {
        this.counters.hits++
        this.events.hit(key, found)
        traceHit(trace, 'l1', false)
        return found as T
      }
    }
    const remote = await this.#readL2(key, resolved)
    if (remote && (remote.fresh || resolved.graceEnabled)) {
      this.#backfill(key, remote, resolved)
      if (remote.fresh) this.counters.hits++
      else this.counters.staleHits++
      this.events.hit(key, remote.value, !remote.fresh, 'l2')
      traceHit(trace, 'l2', !remote.fresh)
      return remote.value as T
    }
    if (found === STALE && resolved.graceEnabled) {
      const entry = this.l1!.peek(key)
      if (entry) {
        this.counters.staleHits++
        this.events.hit(key, entry.value, !entry.fresh)
        traceHit(trace, 'l1', true)
        return entry.value as T
      }
    }
    this.counters.misses++
    this.events.miss(key)
    traceMiss(trace)
    const fallback = options.defaultValue
    return (typeof fallback === 'function' ? await (fallback as () => T)() : (fallback ?? undefined)) as T
  }

  /** Stores `value` under `key`. Resolves `true`. */
  set<T>(options: SetOptions<T>): Promise<boolean> {
    // Not an async function: a store with nothing remote writes synchronously, and its
    // promise is resolved at once instead of at the end of a chain (~300 ns a `set`).
    try {
      const key = toKey(options.key)
      if (options.value === undefined) throw new UndefinedValueError(key)
      const resolved = this.defaults.withCall(options)
      const remote = this.#write(key, options.value, resolved, writeOptionsOf(options, resolved), undefined)
      return remote === undefined ? SETTLED_TRUE : remote.then(resolvesTrue)
    } catch (error) {
      return Promise.reject(error)
    }
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
    if (tracing()) return this.tracer.trace('getOrSet', options.key, (trace) => this.#getOrSet(options, trace))
    return this.#getOrSet(options, undefined)
  }

  #getOrSet<T>(options: GetOrSetOptions<T>, trace: CacheOperationMessage | undefined): Promise<T> {
    const key = options.key
    if (typeof key !== 'string') return this.#withKey(key, (k) => this.#getOrSet({ ...options, key: k }, trace))
    if (options.forceFresh === true || !this.l1) return this.#getOrSetSlow(options, undefined, trace)
    const invalid = invalidCallDuration(options)
    if (invalid) return Promise.reject(invalid)
    const settledHit = !this.events.hitHeard && trace === undefined
    if (settledHit) {
      const resolved = this.#settledHit(this.l1, key)
      if (resolved !== undefined) return resolved as Promise<T>
    }
    // STALE also stands for a fresh entry whose eager refresh this call claimed: the peeked
    // entry is then `fresh`, and #getOrSetSlow serves it and starts the refresh.
    const value = this.l1.getOrClaimRefresh(key, settledHit)
    if (value !== MISS && value !== STALE) {
      this.counters.hits++
      this.events.hit(key, value)
      traceHit(trace, 'l1', false)
      return Promise.resolve(value as T)
    }
    if (value === MISS && trace === undefined) {
      const running = this.#runs.get(key)
      if (running && this.defaults.withCall(options).waitLimit(false) === null) return this.#joinRun(running, options)
    }
    return this.#getOrSetSlow(options, value === STALE ? this.l1.peek(key) : undefined, trace)
  }

  /**
   * A plain waiter (no stale entry, no wait limit) of another caller's run of the key: one
   * reaction on the run's shared read of L1 rather than a suspended async call each, so
   * that waking 10,000 waiters stays within a few ms. Each still gets its own copy of the
   * value when the tier serializes. When the run left no fresh value (the factory failed,
   * or its caller gave up), the waiter starts over as any other call.
   */
  #joinRun<T>(running: Run, call: GetOrSetOptions<T>): Promise<T> {
    const key = call.key
    const l1 = this.l1!
    running.handoff ??= running.released.then(() => l1.share(key))
    return running.handoff.then((read) => {
      if (read === MISS || read === STALE) return this.#getOrSetSlow(call, read === STALE ? l1.peek(key) : undefined)
      const value = read()
      this.counters.hits++
      this.events.hit(key, value)
      return value as T
    })
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
  async #getOrSetSlow<T>(call: GetOrSetOptions<T>, stale: TierEntry | undefined, trace?: CacheOperationMessage): Promise<T> {
    const key = call.key
    const options = this.defaults.withCall(call)
    if (stale?.fresh) {
      // A hit whose eager refresh this call claimed (see #getOrSet).
      this.counters.hits++
      this.events.hit(key, stale.value)
      traceHit(trace, 'l1', false)
      this.#refreshEagerly(call, options)
      return stale.value as T
    }
    for (;;) {
      const running = this.#runs.get(key)
      if (!running) return this.#runFactory(call, options, stale, trace)

      // Another caller is computing this key: wait for it, then look again.
      const limit = options.waitLimit(stale !== undefined)
      const outcome = limit === null ? await running.released : await withTimeout(running.released, limit)
      if (outcome === TIMEOUT) {
        if (stale && options.graceEnabled) return this.#serveStale(key, stale, trace)
        throw new LockTimeoutError(key)
      }
      if (call.forceFresh !== true && this.l1) {
        const value = this.l1.get(key)
        if (value !== MISS && value !== STALE) {
          this.counters.hits++
          this.events.hit(key, value)
          traceHit(trace, 'l1', false)
          return value as T
        }
        if (value === STALE) stale = this.l1.peek(key) ?? stale
      }
    }
  }

  async #runFactory<T>(call: GetOrSetOptions<T>, options: ResolvedOptions, stale: TierEntry | undefined, trace?: CacheOperationMessage): Promise<T> {
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
        const refreshAt = options.refreshAt(remote.createdAt, remote.logicalExpiresAt)
        const due = refreshAt !== undefined && Date.now() >= refreshAt
        this.#backfill(key, remote, due ? undefined : options)
        run.release()
        this.counters.hits++
        this.events.hit(key, remote.value, false, 'l2')
        traceHit(trace, 'l2', false)
        if (due) this.#refreshEagerly(call, options)
        return remote.value as T
      }
      if (remote && !stale) stale = remote
    }
    const hasStale = stale !== undefined
    const background = options.shouldRevalidateInBackground(hasStale)

    // A miss: no tier had a fresh value, so this call's value comes from the factory.
    this.counters.misses++
    if (background) {
      // Stale-while-revalidate: serve the stale value now; failures go to onFactoryError.
      this.counters.refreshStaleWhileRevalidate++
      this.#startInBackground(call, options, run.release)
      return this.#serveStale(key, stale!, trace)
    }
    const work = this.#start(call, options, run.release, stale, false)

    try {
      const limit = options.factoryLimit(hasStale)
      const result = limit === null ? await work : await withTimeout(work, limit.ms)
      if (result === TIMEOUT) {
        this.counters.factoryTimeouts++
        if (limit!.soft) return this.#serveStale(key, stale!, trace)
        run.release()
        throw new FactoryHardTimeout(key)
      }
      this.events.miss(key)
      traceMiss(trace)
      return (result === SKIP ? undefined : result) as T
    } catch (error) {
      if (!stale || !options.graceEnabled || error instanceof FactoryHardTimeout) throw error
      // Serve the stale value, and leave the factory alone for graceBackoff.
      this.l1?.set(key, stale.value, options.graceBackoff, options.grace)
      return this.#serveStale(key, stale, trace)
    }
  }

  /**
   * Runs the factory of `call` and writes its value; `done` is called when it ends, however
   * it ends. `graced` is shown to the factory as `ctx.gracedEntry`.
   */
  #start<T>(call: GetOrSetOptions<T>, options: ResolvedOptions, done: () => void, graced: TierEntry | undefined, background: boolean): Promise<T | typeof SKIP> {
    const write = writeOptionsOf(call, options)
    const ctx = new FactoryContext(graced ? { value: graced.value } : undefined, write)
    this.counters.factoryRuns++
    const work = this.#produce(call.key, call.factory, ctx, write, options, background, this.tags.stamp())
    work.then(done, done)
    return work
  }

  /**
   * A refresh behind a value already served: nobody awaits it, so its failure is only
   * counted (and was given to onFactoryError and the logger). As bentocache's background
   * runs, it is not shown the value it replaces.
   */
  #startInBackground<T>(call: GetOrSetOptions<T>, options: ResolvedOptions, done: () => void) {
    this.#start(call, options, done, undefined, true).catch(() => {
      this.counters.refreshErrors++
    })
  }

  /**
   * Starts the eager refresh of `call.key`, unless one is running already or a caller is
   * computing the key anyway.
   */
  #refreshEagerly<T>(call: GetOrSetOptions<T>, options: ResolvedOptions) {
    const key = call.key
    if (this.#refreshing.has(key) || this.#runs.has(key)) return
    this.#refreshing.add(key)
    this.counters.refreshEager++
    this.#startInBackground(call, options, () => this.#refreshing.delete(key))
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
    startedAt: number,
  ): Promise<T | typeof SKIP> {
    let value: T | typeof SKIP
    try {
      value = await (tracing() ? this.tracer.trace('factory', key, async () => factory(ctx)) : factory(ctx))
    } catch (cause) {
      this.counters.factoryErrors++
      const error = new FactoryError(key, cause, background)
      this.logger?.warn({ cacheName: this.name, key, error: cause }, 'factory failed')
      options.onFactoryError?.(error)
      throw error
    }
    if (value === SKIP) return SKIP
    if (value === undefined) throw new UndefinedValueError(key)
    await this.#write(key, value, options, write, startedAt)
    return value
  }

  #serveStale<T>(key: string, stale: TierEntry, trace?: CacheOperationMessage): T {
    this.counters.staleHits++
    this.events.hit(key, stale.value, true)
    traceHit(trace, 'text' in stale ? 'l2' : 'l1', true) // a RemoteEntry has its text: it came from L2
    return stale.value as T
  }

  /**
   * Writes one entry, made at `createdAt` (now, if not given), to both tiers and tells listeners. A negative
   * ttl removes the key. Traced as a `set`, as bentocache traces the writes of `set` and of
   * factories. As {@link #writeAll}: `undefined` when nothing remote was left to wait for.
   */
  #write(key: string, value: unknown, options: ResolvedOptions, write: WriteOptions, createdAt: number | undefined): Promise<void> | undefined {
    const { ttl, grace, tags, skipL2Write, skipBusNotify } = write
    const writes: PendingWrite[] = [{ key, value, ttl, grace, tags, createdAt, refreshIn: options.refreshDelay(ttl), skipL2Write, skipBusNotify }]
    // A traced write is a promise whatever happens, a throw included: what tracePromise takes.
    if (tracing()) return this.tracer.trace('set', key, async () => this.#writeAll(writes, options))
    return this.#writeAll(writes, options)
  }

  /** `tags` as stored: qualified by this namespace. */
  #qualify(tags: readonly string[]): string[] {
    return this.namespacePath === '' ? [...tags] : tags.map((tag) => this.namespacePath + tag)
  }

  /**
   * Writes entries to the L1, then to the L2 in one round trip, and tells listeners and
   * the other processes; a write with `skipL2Write` stays out of the L2, one with
   * `skipBusNotify` off the bus. An entry with a negative ttl removes its key from both
   * tiers instead (with the same skips).
   *
   * The L1's part is synchronous, and may throw (an unserializable value). A store with no
   * L2 and no bus is then done: `undefined`, no promise. Otherwise, the promise of the rest.
   */
  #writeAll(writes: PendingWrite[], options: ResolvedOptions): Promise<void> | undefined {
    const kept: PendingWrite[] = []
    const removed: PendingWrite[] = []
    for (const write of writes) {
      const tagged = write.tags !== undefined && write.tags.length > 0
      // A write made now is stamped only for what reads the stamp (a clock read is ~90 ns):
      // its tags' verdict, or its L2 entry.
      if (write.createdAt === undefined && (tagged || this.l2)) write.createdAt = this.tags.stamp()
      if (tagged) {
        write.tags = this.#qualify(write.tags!)
        // Made before its tag was deleted (a factory that outran deleteByTag): not kept.
        if (!this.tags.empty && this.tags.verdict(write.tags, write.createdAt!) === 'deleted') continue
      }
      if (write.ttl !== null && write.ttl < 0) {
        this.l1?.delete(write.key)
        removed.push(write)
      } else {
        // No tags as `undefined`, as in #backfill: an empty array still costs a conversion.
        this.l1?.set(write.key, write.value, write.ttl, write.grace, tagged ? write.tags : undefined, write.refreshIn)
        kept.push(write)
      }
    }
    if (!this.l2 && !this.bus) {
      for (const { key, value } of writes) this.events.written(key, value)
      return undefined
    }
    return this.#writeRemote(writes, kept, removed, options)
  }

  /** The rest of {@link #writeAll} once the L1 has the entries: the L2, listeners, the bus. */
  async #writeRemote(writes: PendingWrite[], kept: PendingWrite[], removed: PendingWrite[], options: ResolvedOptions) {
    if (this.l2) {
      const deletes = keysWhere(removed, (write) => !write.skipL2Write)
      const sets = kept.filter((write) => !write.skipL2Write)
      if (deletes.length > 0) await this.#l2Delete(deletes, options)
      if (sets.length > 0) await this.#l2Set(sets, options)
    }
    for (const { key, value } of writes) this.events.written(key, value)
    const notifySet = keysWhere(kept, (write) => !write.skipBusNotify)
    const notifyDelete = keysWhere(removed, (write) => !write.skipBusNotify)
    if (notifySet.length > 0) await this.#notify('set', notifySet)
    if (notifyDelete.length > 0) await this.#notify('delete', notifyDelete)
  }

  /** Tells the other processes of the store about an operation on `keys` of this namespace. */
  #notify(kind: BusKind, keys: string[], at = Date.now(), namespace = this.namespacePath): Promise<void> {
    if (!this.bus) return Promise.resolve()
    return this.bus.publish({ kind, store: this.name, namespace, keys, at })
  }

  /**
   * What this store does with other processes' bus messages: their writes turn the local
   * copies stale (the next read finds the new value in L2), their deletes and clears remove
   * them, their tag invalidations are noted and applied. Called once, on a store's root.
   */
  listen(): void {
    this.bus?.start(this.#busReceiver())
  }

  #busReceiver(): BusReceiver {
    return {
      apply: (message: BusMessage) => {
        if (message.store !== this.name) return
        const { kind, namespace, keys } = message
        switch (kind) {
          case 'set':
          case 'expire':
            for (const key of keys) this.l1?.expire(namespace + key)
            return
          case 'delete':
            this.l1?.deleteMany(keys.map((key) => namespace + key))
            return
          case 'clear':
            if (namespace === '') this.l1?.clear()
            else this.l1?.namespace(namespace.slice(0, -1)).clear()
            return
          case 'deleteByTag':
          case 'expireByTag':
            this.tags.note(kind === 'deleteByTag' ? 'delete' : 'expire', keys, message.at)
            if (kind === 'deleteByTag') this.l1?.deleteTagged(keys)
            else this.l1?.expireTagged(keys)
        }
      },
      // Messages may have been missed: nothing in this L1 can be trusted any more. Not at
      // 'lost': Redis is then usually down for L2 too, the L1 is all there is to serve, and
      // 'resubscribed' clears it before any message sent meanwhile can be applied.
      distrust: (reason) => {
        if (reason !== 'lost') this.l1?.clear()
      },
    }
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
    if (read.tags.length > 0 && !this.tags.empty) {
      const verdict = this.tags.verdict(read.tags, read.createdAt)
      if (verdict === 'deleted') {
        this.counters.l2Misses++
        return undefined
      }
      if (verdict === 'stale' && read.fresh) {
        read.fresh = false
        read.logicalExpiresAt = read.createdAt
      }
    }
    this.counters.l2Hits++
    return read
  }

  /**
   * Copies an L2 entry into the L1 with what remains of its lifetimes; with `options`
   * giving an eager-refresh ratio, the copy is due for a refresh at that fraction of the
   * entry's life (from its creation to its ttl), if that is still ahead.
   */
  #backfill(key: string, remote: RemoteEntry, options?: ResolvedOptions) {
    if (!this.l1) return
    const now = Date.now()
    const logical = remote.logicalExpiresAt
    const ttl = logical === null ? null : Math.max(0, logical - now)
    const grace = ttl === null || remote.ttl === null ? 0 : Math.max(0, remote.ttl - ttl)
    const refreshAt = options?.refreshAt(remote.createdAt, logical)
    const refreshIn = refreshAt !== undefined && refreshAt > now ? Math.floor(refreshAt - now) : undefined
    // No tags as `undefined`: an empty array still costs a conversion at the boundary.
    const tags = remote.tags.length > 0 ? remote.tags : undefined
    this.l1.setSerialized(key, remote.value, remote.text, ttl, grace, tags, refreshIn)
  }

  /** Whether `key` holds a fresh value. */
  has(options: KeyOptions): Promise<boolean> {
    // Not an async function: an answer from L1 is a settled promise shared by every call.
    try {
      const key = toKey(options.key)
      if (this.l1?.isFresh(key)) return SETTLED_TRUE
      if (!this.l2) return SETTLED_FALSE
      return this.#readL2(key, this.defaults).then(isFresh)
    } catch (error) {
      return Promise.reject(error)
    }
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
  delete(options: KeyOptions): Promise<boolean> {
    return tracing() ? this.tracer.trace('delete', options?.key, () => this.#delete(options)) : this.#delete(options)
  }

  async #delete(options: KeyOptions): Promise<boolean> {
    const key = toKey(options.key)
    this.l1?.delete(key)
    if (this.l2) await this.#l2Delete([key], this.defaults)
    this.events.deleted(key)
    if (this.bus) await this.#notify('delete', [key])
    return true
  }

  /** Removes `keys`. Resolves `true`. */
  deleteMany(options: { keys: string[] }): Promise<boolean> {
    return tracing() ? this.tracer.trace('deleteMany', options?.keys, () => this.#deleteMany(options)) : this.#deleteMany(options)
  }

  async #deleteMany(options: { keys: string[] }): Promise<boolean> {
    const keys = Array.from(options.keys, toKey)
    this.l1?.deleteMany(keys)
    if (this.l2) await this.#l2Delete(keys, this.defaults)
    for (const key of keys) this.events.deleted(key)
    if (this.bus) await this.#notify('delete', keys)
    return true
  }

  /** Turns `key` stale: grace may still serve it. Resolves `true`. */
  expire(options: KeyOptions): Promise<boolean> {
    return tracing() ? this.tracer.trace('expire', options?.key, () => this.#expire(options)) : this.#expire(options)
  }

  async #expire(options: KeyOptions): Promise<boolean> {
    const key = toKey(options.key)
    this.l1?.expire(key)
    if (this.l2) await this.#l2Call(() => this.l2!.expire(key), false, this.defaults)
    this.events.expired(key)
    if (this.bus) await this.#notify('expire', [key])
    return true
  }

  /**
   * Removes every entry carrying any of `tags`, from both tiers; a value computed before
   * and written after (by a slow factory, here or on another node) is refused too.
   * Resolves `true`.
   */
  async deleteByTag(options: { tags: string[] }): Promise<boolean> {
    await this.#invalidateTags('delete', options.tags)
    return true
  }

  /**
   * Turns every entry carrying any of `tags` stale: grace may still serve them, and the
   * next `getOrSet` recomputes them. Resolves `true`.
   */
  async expireByTag(options: { tags: string[] }): Promise<boolean> {
    await this.#invalidateTags('expire', options.tags)
    return true
  }

  async #invalidateTags(kind: 'delete' | 'expire', raw: string[]) {
    if (!Array.isArray(raw) || raw.some((tag) => typeof tag !== 'string')) {
      throw new InvalidOptionError('tags', raw, 'an array of strings')
    }
    const tags = this.#qualify(raw)
    const at = this.tags.stamp()
    this.tags.note(kind, tags, at)
    if (kind === 'delete') this.l1?.deleteTagged(tags)
    else this.l1?.expireTagged(tags)
    const l2 = this.l2
    if (l2) {
      await this.#l2Call(async () => {
        await l2.recordInvalidations(kind, tags, at)
        if (kind === 'delete') await l2.deleteTagged(tags)
      }, undefined, this.defaults)
    }
    // Tags are already qualified: they travel without a namespace.
    await this.#notify(kind === 'delete' ? 'deleteByTag' : 'expireByTag', tags, at, '')
  }

  /** Removes every entry of this cache (of this namespace, for a namespace). */
  clear(): Promise<void> {
    return tracing() ? this.tracer.trace('clear', undefined, () => this.#clear()) : this.#clear()
  }

  async #clear(): Promise<void> {
    this.l1?.clear()
    if (this.l2) await this.#l2Call(() => this.l2!.clear(), undefined, this.defaults)
    this.events.cleared()
    await this.#notify('clear', [])
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
        this.#backfill(key, entry, resolved)
        if (entry.fresh) this.counters.hits++
        else this.counters.staleHits++
        values[i] = entry.value as T
        return
      }
      const local = resolved.graceEnabled ? this.l1?.peek(key) : undefined
      if (local) {
        this.counters.staleHits++
        values[i] = local.value as T
      } else {
        this.counters.misses++
        values[i] = undefined // a hole would be skipped by forEach and told apart by deepEqual
      }
    })
    return values
  }

  /** Stores several values: each in the L1, all in one L2 round trip. Resolves `true`. */
  async setMany<T>(options: SetManyOptions<T>): Promise<boolean> {
    const shared = this.defaults.withCall(options)
    const createdAt = this.tags.stamp()
    const writes = options.items.map((item): PendingWrite => {
      const key = toKey(item.key)
      if (item.value === undefined) throw new UndefinedValueError(key)
      const resolved = shared.withCall(item)
      return {
        key,
        value: item.value,
        ttl: resolved.ttl,
        grace: resolved.grace,
        tags: [...(item.tags ?? options.tags ?? [])],
        createdAt,
        refreshIn: resolved.refreshDelay(resolved.ttl),
        skipL2Write: (item.skipL2Write ?? options.skipL2Write) === true,
        skipBusNotify: (item.skipBusNotify ?? options.skipBusNotify) === true,
      }
    })
    await this.#writeAll(writes, shared)
    return true
  }

  /**
   * Removes expired entries from an L2 whose storage keeps them (a JS driver with `prune`);
   * Redis and the memory tier drop them by themselves.
   */
  prune(): Promise<void> {
    return this.l2?.prune() ?? Promise.resolve()
  }

  /** Closes the L2 connection (nothing to close in memory). A later operation reopens it. */
  async disconnect(): Promise<void> {
    await Promise.all([this.l2?.disconnect(), this.bus?.disconnect()])
  }

  /** Starts or stops keeping evicted keys in the engine, for {@link emitEvictions}. */
  reportEvictions(on: boolean) {
    this.l1?.reportEvictions(on)
  }

  /** Emits `cache:evicted` for each key the L1 evicted or expired since the last call. */
  emitEvictions() {
    if (!this.l1) return
    const { keys, expired } = this.l1.takeEvictions()
    keys.forEach((key, i) => this.events.evicted(key, expired[i] ? 'expired' : 'size'))
  }

  /** Counters of this store (shared by its namespaces) and of its L1 tier. */
  getStats(): CacheStats {
    const retries = this.l2?.retries
    return this.counters.read(this.l1?.stats(), retries ? { pending: retries.size, dropped: retries.dropped } : undefined, this.bus?.stats())
  }

  /**
   * This store's {@link getStats} in the Prometheus text format (see `metrics.ts`), labelled
   * `store="<name>"`; a namespace shows its store's.
   */
  metrics(options?: MetricsOptions): string {
    return prometheusText([{ store: this.name, stats: this.getStats() }], options)
  }
}


/** How a call's value is written, before its factory (if any) adapts it through `ctx`. */
function writeOptionsOf(call: CallOptions, resolved: ResolvedOptions): WriteOptions {
  return {
    ttl: resolved.ttl,
    grace: resolved.grace,
    tags: call.tags ? [...call.tags] : [],
    skipL2Write: call.skipL2Write ?? false,
    skipBusNotify: call.skipBusNotify ?? false,
  }
}

/**
 * Most namespaces one cache keeps by name (see `Cache#namespaces`): namespaces named per
 * user or per tenant must not grow it without bound.
 */
const NAMESPACES_KEPT = 1_024

/** `true`, for a write's promise once it is done (one function, not one per call). */
const resolvesTrue = () => true
const isFresh = (entry: RemoteEntry | undefined) => entry?.fresh === true
/**
 * The answers of calls done without I/O, settled once and shared: awaiting a settled
 * promise costs ~20 ns less here than making one per call.
 */
const SETTLED_TRUE = Promise.resolve(true)
const SETTLED_FALSE = Promise.resolve(false)

/** The keys of the `writes` that `keep` accepts. */
function keysWhere(writes: PendingWrite[], keep: (write: PendingWrite) => boolean): string[] {
  const keys: string[] = []
  for (const write of writes) if (keep(write)) keys.push(write.key)
  return keys
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
