import {
  l2Clear,
  l2DeleteMany,
  l2DeleteTagged,
  l2Disconnect,
  l2Expire,
  l2GetMany,
  l2Invalidations,
  l2Prune,
  l2RecordInvalidations,
  l2SetMany,
  type ExternalObject,
  type L2Invalidations,
  type L2Reads,
  type L2Write,
  type RedisTier,
} from './native.js'

export type { L2Invalidations, L2Reads, L2Write }

/**
 * What the L2 tier ({@link RemoteTier}) asks of the storage under it: the Rust engine's own
 * tiers (the fast path: Redis I/O on Rust threads), or a bentocache-style driver written in
 * JavaScript (the slow path, `driver_backend.ts`). Keys are relative to the tier's prefix,
 * namespace path included (`users:42`); values cross as serialized text.
 */
export interface L2Backend {
  /** The entries of `keys`, in order, as columns. */
  getMany(keys: string[]): Promise<L2Reads>
  setMany(items: L2Write[]): Promise<void>
  /** Resolves how many keys existed. */
  deleteMany(keys: string[]): Promise<number>
  /** Removes the entries filed under any of `tags`; resolves how many. */
  deleteTagged(tags: string[]): Promise<number>
  recordInvalidations(kind: 'delete' | 'expire', tags: string[], at: number): Promise<void>
  invalidations(): Promise<L2Invalidations>
  /** Turns `key` stale (kept for its grace); resolves whether it existed. */
  expire(key: string): Promise<boolean>
  /** Removes the keys under `namespace` (`users:`), or every key of the tier for `''`. */
  clear(namespace: string): Promise<void>
  disconnect(): Promise<void>
  /** Removes expired entries, where the storage does not drop them itself. */
  prune?(): Promise<void>
}

/** The engine's tier behind `handle` (Redis, Redis Cluster, the file tier), as an {@link L2Backend}. */
export function nativeBackend(handle: ExternalObject<RedisTier>): L2Backend {
  return {
    getMany: (keys) => l2GetMany(handle, keys),
    setMany: (items) => l2SetMany(handle, items),
    deleteMany: (keys) => l2DeleteMany(handle, keys),
    deleteTagged: (tags) => l2DeleteTagged(handle, tags),
    recordInvalidations: (kind, tags, at) => l2RecordInvalidations(handle, kind, tags, at),
    invalidations: () => l2Invalidations(handle),
    expire: (key) => l2Expire(handle, key),
    clear: (namespace) => l2Clear(handle, namespace),
    disconnect: () => l2Disconnect(handle),
    prune: () => l2Prune(handle).then(() => undefined),
  }
}
