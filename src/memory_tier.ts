import {
  l1Clear,
  l1Delete,
  l1DeleteMany,
  l1Expire,
  l1Get,
  l1Namespace,
  l1Peek,
  l1Set,
  l1SetSlot,
  l1Stats,
  type L1Handle,
  type L1StatsOut,
} from '../index.js'
import { serializeValue, type Serializer } from './serializer.js'
import { SlotTable } from './slot_table.js'

/** What `get` returns when the key holds only a stale entry. */
export const STALE: unique symbol = Symbol('rustocache.stale')
/** What `get` returns when the key holds nothing. */
export const MISS: unique symbol = Symbol('rustocache.miss')

/** A stale or fresh entry, in full. */
export interface TierEntry {
  value: unknown
  fresh: boolean
  createdAt: number
  logicalExpiresAt: number | null
}

/**
 * The L1 tier: one namespace of a Rust store, plus the translation of values. With a
 * serializer, values cross as text and live in Rust; without, they stay JS values in a
 * {@link SlotTable} and only their slot numbers live in Rust.
 */
export class MemoryTier {
  constructor(
    private readonly handle: L1Handle,
    private readonly serializer: Serializer | null,
    private readonly slots: SlotTable | null,
  ) {}

  /** The tier of namespace `name`, nested in this one, on the same store. */
  namespace(name: string): MemoryTier {
    const handle = l1Namespace(this.handle, name)
    return new MemoryTier(handle, this.serializer, this.slots)
  }

  /** The hot path: the value if fresh, else {@link STALE} or {@link MISS}. One native call. */
  get(key: string): unknown {
    const raw = l1Get(this.handle, key)
    if (typeof raw === 'string') return this.serializer!.deserialize(raw)
    if (typeof raw === 'number') return this.slots!.values[raw]
    return raw === null ? STALE : MISS
  }

  /** The entry, fresh or stale, without counting a lookup. */
  peek(key: string): TierEntry | undefined {
    const entry = l1Peek(this.handle, key)
    if (!entry) return undefined
    return {
      value: this.#decode(entry.value),
      fresh: entry.fresh,
      createdAt: entry.createdAt,
      logicalExpiresAt: entry.logicalExpiresAt ?? null,
    }
  }

  /**
   * Stores `value`, fresh for `ttl` ms (`null`: forever), kept `grace` ms longer.
   * Returns `false` when the entry exceeds `maxEntrySize`: it is refused and the key then
   * holds nothing.
   */
  set(key: string, value: unknown, ttl: number | null, grace: number, tags?: string[]): boolean {
    if (this.serializer) return l1Set(this.handle, key, serializeValue(this.serializer, key, value), ttl, grace, tags)
    const slot = this.slots!.alloc(value)
    try {
      return l1SetSlot(this.handle, key, slot, ttl, grace, tags)
    } catch (error) {
      this.slots!.release(slot)
      throw error
    }
  }

  /**
   * As {@link set}, for a value that also comes as `text`, already serialized by the same
   * serializer (an entry read from L2): a serializing tier stores the text as it is.
   */
  setSerialized(key: string, value: unknown, text: string, ttl: number | null, grace: number, tags?: string[]): boolean {
    if (this.serializer) return l1Set(this.handle, key, text, ttl, grace, tags)
    return this.set(key, value, ttl, grace, tags)
  }

  delete(key: string): boolean {
    return l1Delete(this.handle, key)
  }

  deleteMany(keys: string[]): number {
    return l1DeleteMany(this.handle, keys)
  }

  expire(key: string): boolean {
    return l1Expire(this.handle, key)
  }

  /** Removes this namespace's entries, nested namespaces included. */
  clear() {
    l1Clear(this.handle)
  }

  stats(): L1StatsOut {
    return l1Stats(this.handle)
  }

  #decode(raw: string | number): unknown {
    return typeof raw === 'string' ? this.serializer!.deserialize(raw) : this.slots!.values[raw]
  }
}
