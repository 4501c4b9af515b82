import {
  l1Clear,
  l1Delete,
  l1DeleteMany,
  l1DeleteTagged,
  l1ExpireTagged,
  l1ExpireTaggedSlots,
  l1Expire,
  l1Get,
  l1GetOrClaimRefresh,
  l1IsFresh,
  l1Mirror,
  l1Remirror,
  l1Namespace,
  l1Peek,
  l1Set,
  l1SetSlot,
  l1ReportEvictions,
  l1Stats,
  l1TakeEvictions,
  type L1Handle,
  type L1StatsOut,
  type Evictions,
} from './native.js'
import { copyOrRefuse, copyParsed, UNCOPYABLE } from './json_copy.js'
import { jsonSerializer, serializeValue, type Serializer } from './serializer.js'
import { ASK_STORE, MIRRORED_TEXT_MAX, SlotTable } from './slot_table.js'
import { notAfterNow } from './published_clock.js'

/**
 * The most stored keys one store remembers for its namespaces (see {@link StoredKeys}): at
 * ~100 bytes each (two strings and a `Map` entry), at most ~6.5 MB per store.
 */
const STORED_KEYS_MAX = 65_536

/**
 * The keys of a store's namespaces as its index files them (`users:` + `1`), made once each.
 * Built per hit, such a key is a new string, which the index must flatten and hash before
 * it finds anything (~145 ns against ~18 ns for a `Map` read of a string already hashed).
 * One table per store, shared by its namespaces, so that the bound holds however many
 * namespaces there are; emptied when it reaches {@link STORED_KEYS_MAX}.
 */
class StoredKeys {
  readonly #byPrefix = new Map<string, Map<string, string>>()
  #count = 0

  /** `prefix + key`, the same string each time while remembered. */
  of(prefix: string, key: string): string {
    let keys = this.#byPrefix.get(prefix)
    let stored = keys?.get(key)
    if (stored !== undefined) return stored
    if (this.#count >= STORED_KEYS_MAX) {
      this.#byPrefix.clear()
      this.#count = 0
      keys = undefined
    }
    if (keys === undefined) this.#byPrefix.set(prefix, (keys = new Map()))
    stored = prefix + key
    keys.set(key, stored)
    this.#count++
    return stored
  }
}

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
 * {@link SlotTable} and only their slot numbers live in Rust; the table then answers fresh
 * hits itself, and the store the rest.
 *
 * A text store with the JSON serializer may also keep *mirrors*: the parsed values of the
 * entries it reads, in a bounded {@link SlotTable} (`maxDecoded`), each tied by the store to
 * the entry it decodes. A fresh hit on a mirror is answered here with a copy of that parse,
 * as fresh an object as `JSON.parse` would make, without a call into Rust.
 */
export class MemoryTier {
  /**
   * @param prefix this namespace's path within the store, `users:` (empty at the root): a
   * slot index files each key under it, as the store does under its own prefix plus it.
   * @param mirrors the mirrors of a text store's entries, or `null`.
   */
  constructor(
    private readonly handle: L1Handle,
    private readonly serializer: Serializer | null,
    private readonly slots: SlotTable | null,
    private readonly prefix = '',
    private readonly mirrors: SlotTable | null = null,
    private readonly storedKeys = new StoredKeys(),
  ) {}

  /** The tier of namespace `name`, nested in this one, on the same store. */
  namespace(name: string): MemoryTier {
    const handle = l1Namespace(this.handle, name)
    return new MemoryTier(handle, this.serializer, this.slots, `${this.prefix}${name}:`, this.mirrors, this.storedKeys)
  }

  /**
   * The hot path: the value if fresh, else {@link STALE} or {@link MISS}. One native call,
   * or none for a fresh hit on a slot tier. `indexAsked`: the caller has just asked the slot
   * index ({@link resolvedHit}), which could not answer, so it is not asked again.
   */
  get(key: string, indexAsked = false): unknown {
    if (this.slots !== null) {
      if (!indexAsked) {
        const value = this.slots.hit(this.#stored(key))
        if (value !== ASK_STORE) return value
      }
    } else if (this.mirrors?.consulted) {
      const value = this.#mirrorHit(key)
      if (value !== ASK_STORE) return value
    }
    const raw = l1Get(this.handle, key)
    if (typeof raw === 'string') return this.#decodeFresh(key, raw)
    if (typeof raw === 'number') return this.slots!.values[raw]
    return raw === null ? STALE : MISS
  }

  /**
   * The hot path of a slot tier's hit handed back in a promise: that promise, settled and
   * reused for every hit of the value (see {@link SlotTable.hitResolved}); `undefined` when
   * the slot index cannot answer (another tier, a miss, an entry near its expiry or past
   * its eager-refresh time): then ask {@link get} or {@link getOrClaimRefresh}, saying so.
   */
  resolvedHit(key: string): Promise<unknown> | undefined {
    return this.slots === null ? undefined : this.slots.hitResolved(this.#stored(key))
  }

  /**
   * The hot path of `getOrSet`: as {@link get}, except that a fresh entry past its
   * eager-refresh threshold reads as {@link STALE} for the one caller that claimed its
   * refresh (the engine answers `false`, once per entry). That caller then peeks the entry,
   * finds it `fresh`, serves it and starts the refresh; every other hit gets the value.
   * Folding the claim into the STALE branch keeps a hit's test at two comparisons.
   * `indexAsked` as for {@link get}.
   */
  getOrClaimRefresh(key: string, indexAsked = false): unknown {
    // A slot tier's index answers only before an entry's refresh time: the claim is the store's.
    if (this.slots !== null) {
      if (!indexAsked) {
        const value = this.slots.hit(this.#stored(key))
        if (value !== ASK_STORE) return value
      }
    } else if (this.mirrors?.consulted) {
      const value = this.#mirrorHit(key)
      if (value !== ASK_STORE) return value
    }
    const raw = l1GetOrClaimRefresh(this.handle, key)
    if (typeof raw === 'string') return this.#decodeFresh(key, raw)
    if (typeof raw === 'number') return this.slots!.values[raw]
    return raw === undefined ? MISS : STALE
  }

  /**
   * For callers woken together (the waiters of one factory run): reads `key` once and
   * returns a function that gives each caller the fresh value, or {@link STALE} or
   * {@link MISS}. With a serializer each call returns its own copy, as {@link get} would:
   * the default JSON serializer parses once and copies the parse (a tenth of the cost for
   * small objects); a custom one deserializes the text again per call.
   */
  share(key: string): (() => unknown) | typeof STALE | typeof MISS {
    const raw = l1Get(this.handle, key)
    if (typeof raw === 'number') {
      const value = this.slots!.values[raw]
      return () => value
    }
    if (typeof raw === 'string') {
      const serializer = this.serializer!
      if (serializer !== jsonSerializer) return () => serializer.deserialize(raw)
      const parsed: unknown = JSON.parse(raw)
      return () => copyParsed(parsed, raw)
    }
    return raw === null ? STALE : MISS
  }

  /** Whether `key` holds a fresh entry, without counting a lookup. */
  isFresh(key: string): boolean {
    if ((this.slots ?? this.mirrors)?.isFresh(this.#stored(key))) return true
    return l1IsFresh(this.handle, key)
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
   * Stores `value`, fresh for `ttl` ms (`null`: forever), kept `grace` ms longer, due for an
   * eager refresh `refreshIn` ms from now (`undefined`: never).
   * Returns `false` when the entry exceeds `maxEntrySize`: it is refused and the key then
   * holds nothing.
   */
  set(key: string, value: unknown, ttl: number | null, grace: number, tags?: string[], refreshIn?: number): boolean {
    if (this.serializer) return this.#setText(key, serializeValue(this.serializer, key, value), ttl, grace, tags, refreshIn)
    const slots = this.slots!
    const slot = slots.alloc(value)
    // Read before the store stamps the entry, and never ahead of the store's clock: the
    // index's freshness ends no later than the store's.
    const now = notAfterNow()
    let lost: number
    try {
      lost = l1SetSlot(this.handle, key, slot, ttl, grace, tags, refreshIn)
    } catch (error) {
      slots.release(slot)
      throw error
    }
    const stored = this.#stored(key)
    if (lost < 0) {
      slots.forget(stored)
      slots.drain()
      return false
    }
    // The store truncates fractions of a ms; a ttl-less entry has no refresh.
    let until = ttl === null ? Infinity : now + Math.floor(ttl)
    if (ttl !== null && refreshIn != null) until = Math.min(until, now + Math.floor(refreshIn))
    slots.file(stored, slot, until)
    // The slots of keys the write evicted, before a read could find them here. The replaced
    // value's slot is no longer filed under its key: it is taken with a later drain.
    if (lost > 0) slots.drain()
    return true
  }

  /**
   * As {@link set}, for a value that also comes as `text`, already serialized by the same
   * serializer (an entry read from L2): a serializing tier stores the text as it is.
   */
  setSerialized(key: string, value: unknown, text: string, ttl: number | null, grace: number, tags?: string[], refreshIn?: number): boolean {
    if (this.serializer) return this.#setText(key, text, ttl, grace, tags, refreshIn)
    return this.set(key, value, ttl, grace, tags, refreshIn)
  }

  #setText(key: string, text: string, ttl: number | null, grace: number, tags?: string[], refreshIn?: number): boolean {
    const mirrors = this.mirrors
    if (mirrors === null) return l1Set(this.handle, key, text, ttl, grace, tags, refreshIn) >= 0
    // Forgotten first: the store frees the old entry's mirror, and a write that throws
    // leaves nothing answered here.
    mirrors.forget(this.#stored(key))
    const lost = l1Set(this.handle, key, text, ttl, grace, tags, refreshIn)
    // Mirrors of entries the write evicted, before a read could find them here.
    if (lost > 0) mirrors.drain()
    return lost >= 0
  }

  delete(key: string): boolean {
    ;(this.slots ?? this.mirrors)?.forget(this.#stored(key))
    return l1Delete(this.handle, key)
  }

  deleteMany(keys: string[]): number {
    const slots = this.slots ?? this.mirrors
    if (slots !== null) for (const key of keys) slots.forget(this.#stored(key))
    return l1DeleteMany(this.handle, keys)
  }

  /** Removes the entries carrying any of `tags` (qualified tags: they span namespaces). */
  deleteTagged(tags: string[]): number {
    const removed = l1DeleteTagged(this.handle, tags)
    // The store reports the slots it freed: their keys are forgotten as they are released.
    ;(this.slots ?? this.mirrors)?.drain()
    return removed
  }

  /** Turns the entries carrying any of `tags` stale, keeping them for grace. */
  expireTagged(tags: string[]): number {
    const slots = this.slots ?? this.mirrors
    if (slots === null) return l1ExpireTagged(this.handle, tags)
    // Which keys carried the tags is the store's to know: it names their slots (a text
    // entry's: its mirror's, if it has one; it counts all the same).
    const expired = l1ExpireTaggedSlots(this.handle, tags)
    for (const slot of expired) slots.forgetSlot(slot)
    return expired.length
  }

  expire(key: string): boolean {
    ;(this.slots ?? this.mirrors)?.forget(this.#stored(key))
    return l1Expire(this.handle, key)
  }

  /** Removes this namespace's entries, nested namespaces included. */
  clear() {
    l1Clear(this.handle)
    ;(this.slots ?? this.mirrors)?.drain()
  }

  /** Starts or stops the engine's log of evicted keys (of the whole store). */
  reportEvictions(on: boolean) {
    l1ReportEvictions(this.handle, on)
  }

  /** Keys evicted or expired since the last call, relative to this namespace. */
  takeEvictions(): Evictions {
    return l1TakeEvictions(this.handle)
  }

  stats(): L1StatsOut {
    ;(this.slots ?? this.mirrors)?.reportHits()
    return l1Stats(this.handle)
  }

  /** A copy of the mirrored parse of `key` if its entry is surely fresh, counted as a hit; else {@link ASK_STORE}. */
  #mirrorHit(key: string): unknown {
    const parsed = this.mirrors!.hit(this.#stored(key))
    if (parsed === ASK_STORE) return ASK_STORE
    const copied = copyOrRefuse(parsed)
    // Copied once when mirrored: only a stack nearly exhausted by the caller fails here.
    return copied === UNCOPYABLE ? ASK_STORE : copied
  }

  /**
   * The value of the fresh entry under `key`, just read as `text`; on a mirroring tier its
   * parse is also lent a mirror, and the caller gets a copy of it.
   */
  #decodeFresh(key: string, text: string): unknown {
    const mirrors = this.mirrors
    if (mirrors === null) return this.serializer!.deserialize(text)
    const parsed: unknown = JSON.parse(text)
    if (!mirrors.storeRead() || text.length > MIRRORED_TEXT_MAX) return parsed
    // The caller gets the parse itself unless it is kept; then a copy of it.
    const slot = mirrors.lend(parsed, text.length)
    if (slot !== undefined) {
      const copied = copyOrRefuse(parsed)
      const until = copied === UNCOPYABLE ? -1 : l1Mirror(this.handle, key, slot)
      if (until < 0) {
        mirrors.release(slot)
        return parsed
      }
      mirrors.file(this.#stored(key), slot, until)
      return copied
    }
    // At capacity: a key read again asks, and the store lets it take a slot over only if
    // it was read more often than the key there.
    const stored = this.#stored(key)
    if (!mirrors.admit(stored)) return parsed
    const victim = mirrors.victim(text.length)
    if (victim === undefined) return parsed
    const copied = copyOrRefuse(parsed)
    if (copied === UNCOPYABLE) return parsed
    const until = l1Remirror(this.handle, key, victim)
    if (until < 0) return parsed
    mirrors.replace(victim, stored, parsed, until, text.length)
    return copied
  }

  /** `key` as the slot index files it: with this namespace's path in the store. */
  #stored(key: string): string {
    return this.prefix === '' ? key : this.storedKeys.of(this.prefix, key)
  }

  #decode(raw: string | number): unknown {
    return typeof raw === 'string' ? this.serializer!.deserialize(raw) : this.slots!.values[raw]
  }
}
