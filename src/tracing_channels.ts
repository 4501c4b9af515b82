import diagnostics_channel from 'node:diagnostics_channel'

/**
 * The message of a traced cache operation, as bentocache's: one object per operation,
 * shared by its `start`, `end`, `asyncStart`, `asyncEnd` and `error` events (Node adds
 * `result` or `error` to it when the operation settles).
 */
export interface CacheOperationMessage {
  /** The operation. `factory` is the run of a `getOrSet` factory, nested in its `getOrSet`. */
  operation: 'get' | 'set' | 'getOrSet' | 'factory' | 'delete' | 'deleteMany' | 'clear' | 'expire'
  /** The key with the store's prefix and namespaces, as bentocache gives it (`bentocache:users:1`). */
  key?: string
  /** The keys of a `deleteMany`, each with the prefix. */
  keys?: string[]
  /** The store's name. */
  store: string
  /** For `get` and `getOrSet`, once settled: whether a value was found (a `getOrSet` that ran its factory is a miss). */
  hit?: boolean
  /** For a hit: the tier the value came from. */
  tier?: 'l1' | 'l2'
  /** For a hit: whether the value was stale, served from grace. */
  graced?: boolean
}

/**
 * The tracing channel of cache operations, `bentocache.cache.operation`, the one bentocache
 * publishes on: a subscriber written for bentocache (or `@bentocache/otel`) sees RustoCache's
 * operations. Channels are global by name, so subscribing through `node:diagnostics_channel`
 * or through this object is the same.
 */
export const cacheOperation = diagnostics_channel.tracingChannel<'bentocache.cache.operation', CacheOperationMessage>(
  'bentocache.cache.operation',
)
