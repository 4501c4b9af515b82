import { l1Create } from '../../index.js'
import { InvalidOptionError } from '../errors.js'
import { parseBytes } from '../duration.js'
import { rejectUnknownOptions } from '../options.js'
import { MemoryTier } from '../memory_tier.js'
import type { Serializer } from '../serializer.js'
import { SlotTable } from '../slot_table.js'

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
   * returns the very object that was stored.
   */
  serialize?: boolean
  /** Key prefix of this tier, overriding the store's and the global `prefix`. */
  prefix?: string
}

/** What a driver factory is given when its store is built. */
export interface DriverConfig {
  prefix: string
  serializer: Serializer
}

/** A driver, as `bentostore().useL1Layer()` takes it. */
export interface CreateDriverResult<Options, Driver> {
  options: Options
  factory: (config: DriverConfig) => Driver
}

/** The in-memory store, off the V8 heap, run by the Rust engine (moka). */
export function memoryDriver(options: MemoryDriverOptions = {}): CreateDriverResult<MemoryDriverOptions, MemoryTier> {
  return { options, factory: (config) => createMemoryTier(options, config) }
}

function createMemoryTier(options: MemoryDriverOptions, config: DriverConfig): MemoryTier {
  rejectUnknownOptions(options, ['maxItems', 'maxSize', 'maxEntrySize', 'serialize', 'prefix'], 'memoryDriver()')
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
  const handle = l1Create({ maxItems, maxSize, maxEntrySize }, options.prefix ?? config.prefix)
  return serialize ? new MemoryTier(handle, config.serializer, null) : new MemoryTier(handle, null, new SlotTable(handle))
}
