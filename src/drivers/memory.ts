import { l1Create } from '../native.js'
import { InvalidOptionError } from '../errors.js'
import { parseBytes } from '../duration.js'
import { rejectUnknownOptions } from '../options.js'
import { MemoryTier } from '../memory_tier.js'
import { jsonSerializer, type Serializer } from '../serializer.js'
import { SlotTable } from '../slot_table.js'
import { busChannel, type CreateBusDriverResult } from '../bus/bus_driver.js'
import { resolveRetryQueue, type RetryQueueOptions } from '../bus/cache_bus.js'
import { MemoryTransport } from '../bus/memory_transport.js'

/** Options of the in-memory (L1) store. */
export interface MemoryDriverOptions {
  /** Most entries held at once; the least valuable are evicted past it. Default 1000. */
  maxItems?: number
  /**
   * Most bytes held at once, counting each entry's key, serialized value and tags:
   * bytes, or a string such as `'10mb'` (base 1024). Default: no limit.
   * Not with `serialize: false`, whose values are not measured.
   */
  maxSize?: number | string
  /** Most bytes one entry may weigh; a heavier one is not stored. Same units as `maxSize`. */
  maxEntrySize?: number | string
  /**
   * `true` (default): values are serialized and kept as bytes in Rust, off the V8 heap; each
   * read returns a fresh copy. `false`: values are kept by reference, uncopied; a read
   * returns the very object that was stored. Rust then holds only the entries' lifetimes
   * and eviction order, and a fresh hit is answered in JavaScript, without a call into
   * Rust (a JS index of the keys, ~80 B of V8 heap per entry on top of the values).
   */
  serialize?: boolean
  /**
   * How many entries of a `serialize: true` store may also be kept decoded, on the V8 heap,
   * so that their fresh hits are answered in JavaScript without a call into Rust (each hit
   * still returns a fresh copy, as `JSON.parse` would make). The entries read are decoded
   * as they are read; past this count, one not read since the last sweep makes room
   * (a clock sweep) for a key read more often. Whatever the count, the decoded entries'
   * JSON text adds up to at most 8 Mi characters, and an entry longer than 128 Ki
   * characters is never kept decoded. While fewer than a third of reads find a decoded
   * entry, the store stops looking for them for the next 65,536 reads it answers. A decoded value is dropped when its entry is replaced, deleted,
   * expired or evicted, so a hit here is exactly a hit the store would answer.
   *
   * Default: `min(maxItems, 10_000)`, or 0 where it cannot apply: a `shared` store (other
   * threads write it) or a custom serializer (only `JSON.parse`'s output can be copied
   * faithfully). 0 turns it off: every read is then one call into Rust and one decode.
   *
   * A non-negative integer; anything else, or a positive count with `serialize: false`,
   * `shared` or a custom serializer, throws {@link InvalidOptionError}.
   */
  maxDecoded?: number
  /** Key prefix of this tier, overriding the store's and the global `prefix`. */
  prefix?: string
  /**
   * Share this store with every thread of the process: each `memoryDriver({ shared: name })`
   * with the same name, in the main thread or in any worker thread (`worker_threads`), uses
   * one and the same Rust store, so a value written in one thread is read in the others and
   * N workers hold one copy of the data instead of N.
   *
   * Default: `undefined`, a store of this driver's own (what bentocache does).
   *
   * - A non-empty string of at most 256 bytes (UTF-8); anything else throws
   *   {@link InvalidOptionError} (`E_INVALID_OPTION`) when the cache is built.
   * - Needs `serialize: true` (the default): values kept by reference are objects of one
   *   thread's heap and cannot be read in another (`serialize: false` throws).
   * - Every thread must give the same `maxItems`, `maxSize` and `maxEntrySize` (after the
   *   defaults are applied): the store keeps the limits it was first built with, and a
   *   different set throws {@link InvalidOptionError} naming both.
   * - The store lives while some cache of the process holds it: once the last one is
   *   collected, its entries are freed and the next store of that name starts empty.
   * - Keys are prefixed as usual, so caches with the same prefix (and namespace) see the
   *   same keys; `clear()` of one clears them for every thread.
   * - Only the L1 is shared. Eviction events (`cache:evicted`... reporting) go to whichever
   *   thread polls for them first; counters (`getStats()`) are the store's, all threads'.
   */
  shared?: string
}

/** What a driver factory is given when its store is built. */
export interface DriverConfig {
  prefix: string
  serializer: Serializer
  /** The formats the L2 tier speaks: ours, or bentocache's (the `wire` option). */
  wire: Wire
}

/**
 * What a store's L2 tier and bus write and read: `'rustocache'` (the default: binary
 * envelopes and numbered bus frames), or `'bentocache'` (its JSON entries, tag keys and
 * bus frames, so that bentocache and RustoCache nodes share one Redis and one bus).
 */
export type Wire = 'rustocache' | 'bentocache'

/** A driver, as `bentostore().useL1Layer()` takes it. */
export interface CreateDriverResult<Options, Driver> {
  options: Options
  factory: (config: DriverConfig) => Driver
}

/** The in-memory store, off the V8 heap, run by the Rust engine (W-TinyLFU eviction). */
export function memoryDriver(options: MemoryDriverOptions = {}): CreateDriverResult<MemoryDriverOptions, MemoryTier> {
  return { options, factory: (config) => createMemoryTier(options, config) }
}

function createMemoryTier(options: MemoryDriverOptions, config: DriverConfig): MemoryTier {
  rejectUnknownOptions(options, ['maxItems', 'maxSize', 'maxEntrySize', 'serialize', 'maxDecoded', 'prefix', 'shared'], 'memoryDriver()')
  const maxItems = options.maxItems ?? 1000
  if (!Number.isInteger(maxItems) || maxItems <= 0) {
    throw new InvalidOptionError('maxItems', maxItems, 'a positive integer')
  }
  const maxSize = options.maxSize === undefined ? undefined : parseBytes(options.maxSize, 'maxSize')
  const maxEntrySize = options.maxEntrySize === undefined ? undefined : parseBytes(options.maxEntrySize, 'maxEntrySize')
  const serialize = options.serialize ?? true
  if (!serialize && (maxSize !== undefined || maxEntrySize !== undefined)) {
    throw new InvalidOptionError('serialize', false, 'true when maxSize or maxEntrySize is set: values kept by reference are not measured')
  }
  const shared = sharedName(options.shared, serialize)
  const maxDecoded = decodedCount(options.maxDecoded, maxItems, serialize, shared, config.serializer)
  const handle = createHandle({ maxItems, maxSize, maxEntrySize }, options.prefix ?? config.prefix, shared)
  if (!serialize) return new MemoryTier(handle, null, new SlotTable(handle))
  const mirrors = maxDecoded > 0 ? new SlotTable(handle, maxDecoded) : null
  return new MemoryTier(handle, config.serializer, null, '', mirrors)
}

/** Most decoded entries by default, whatever `maxItems` (a bound on the V8 heap they take). */
const DEFAULT_MAX_DECODED = 10_000

/** The `maxDecoded` option, checked, or its default. */
function decodedCount(given: unknown, maxItems: number, serialize: boolean, shared: string | undefined, serializer: Serializer): number {
  const usable = serialize && shared === undefined && serializer === jsonSerializer
  if (given === undefined) return usable ? Math.min(maxItems, DEFAULT_MAX_DECODED) : 0
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 0) {
    throw new InvalidOptionError('maxDecoded', given, 'a non-negative integer')
  }
  if (given > 0 && !usable) {
    throw new InvalidOptionError('maxDecoded', given, '0 with serialize: false, shared or a custom serializer: only JSON text of a store of this thread is decoded ahead')
  }
  return given
}

/** Longest name of a shared store, in UTF-8 bytes (the engine's `MAX_NAME_LEN`). */
const MAX_SHARED_NAME_BYTES = 256

/** The `shared` option, checked: a name, or `undefined` for a store of the driver's own. */
function sharedName(shared: unknown, serialize: boolean): string | undefined {
  if (shared === undefined) return undefined
  if (typeof shared !== 'string' || shared.length === 0 || Buffer.byteLength(shared) > MAX_SHARED_NAME_BYTES) {
    throw new InvalidOptionError('shared', shared, `a non-empty string of at most ${MAX_SHARED_NAME_BYTES} bytes naming the store`)
  }
  if (!serialize) {
    throw new InvalidOptionError('serialize', false, 'true with shared: values kept by reference cannot be read in another thread')
  }
  return shared
}

/** The engine's store; a shared store opened with other limits than its own is an option error. */
function createHandle(limits: Parameters<typeof l1Create>[0], prefix: string, shared: string | undefined) {
  try {
    return l1Create(limits, prefix, shared)
  } catch (error) {
    const message = (error as Error).message ?? ''
    if (shared !== undefined && message.includes('already exists')) {
      throw new InvalidOptionError('shared', shared, `the same maxItems, maxSize and maxEntrySize as the live store of that name (${message})`)
    }
    throw error
  }
}

/** Options of the in-process bus. */
export interface MemoryBusDriverOptions {
  retryQueue?: RetryQueueOptions
}

/**
 * A bus between caches of one process (each `BentoCache` built with it is one node): for
 * tests and for several caches sharing a process. Messages are never lost.
 */
export function memoryBusDriver(options: MemoryBusDriverOptions = {}): CreateBusDriverResult<MemoryBusDriverOptions> {
  return {
    options,
    factory: (config) => {
      rejectUnknownOptions(options, ['retryQueue'], 'memoryBusDriver()')
      return { transport: new MemoryTransport(busChannel(config.store)), retryQueue: resolveRetryQueue(options.retryQueue) }
    },
  }
}
