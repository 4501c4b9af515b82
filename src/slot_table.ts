import { l1RecordSlotHits, l1TakeFreedSlots, type L1Handle } from './native.js'
import { isBefore, usePublishedClock } from './published_clock.js'

/** What {@link SlotTable.hit} returns when it cannot answer: the store must be asked. */
export const ASK_STORE: unique symbol = Symbol('rustocache.askStore')

/**
 * Hits answered here are reported to the store in batches of this many: one call into
 * Rust per batch, for its counters and its eviction policy (which, like Caffeine's, learns
 * of reads in batches anyway).
 */
const HIT_BATCH = 256

/**
 * The freed slots are taken from the store once every this many allocations (and at once
 * after a write that evicted): a value replaced by a write lingers here until then. Taking
 * them on every allocation that finds no free slot cost a call into Rust and a new array
 * per replacing write (~250 ns of a ~1.8 µs `set`).
 */
const DRAIN_EVERY = 64

/**
 * The values of a `serialize: false` store, and the index that answers its fresh hits
 * without a call into Rust.
 *
 * The values stay JS values on the V8 heap, held here by slot number; the Rust store keeps
 * only the number and runs the eviction policy. When an entry leaves the store (evicted,
 * expired, replaced, deleted), Rust reports its slot as freed, and the slot is released
 * here when that report is taken (see {@link drain}).
 *
 * The index maps each key (with its namespace's path in the store) to its slot, with the
 * time until which the entry is surely fresh: its ttl counted from before the store stamped
 * it, and no later than its eager-refresh time, so that the store, not this index, hands out
 * the refresh. Everything else (a stale entry, grace, a key this index does not know) is the
 * store's to answer. The index stays exact because every change to a slot store comes from
 * its tier: writes file their key here; deletes and expiries forget it at once (an
 * `expireByTag` by the slots the store names); what a write evicts is taken from the store
 * straight after the write. The store's own background work only drops entries past their
 * ttl and grace, which this index already treats as gone.
 */
export class SlotTable {
  readonly values: unknown[] = []
  /** By slot: the stored key it is filed under here, while it is. */
  #keys: (string | undefined)[] = []
  /** By slot: until when (ms since the epoch) a read may be answered here. */
  #freshUntil: number[] = []
  #index = new Map<string, number>()
  #free: number[] = []
  #sinceDrain = 0
  #hits = new Uint32Array(HIT_BATCH)
  #hitCount = 0

  constructor(private readonly store: L1Handle) {
    usePublishedClock()
  }

  /**
   * The value under `storedKey` if its entry is surely fresh now, counted as a hit; else
   * {@link ASK_STORE}.
   */
  hit(storedKey: string): unknown {
    const slot = this.#index.get(storedKey)
    if (slot === undefined) return ASK_STORE
    // An entry without a ttl needs no clock; one far from its expiry, no clock read.
    const until = this.#freshUntil[slot]
    if (until !== Infinity && !isBefore(until)) return ASK_STORE
    this.#hits[this.#hitCount++] = slot
    if (this.#hitCount === HIT_BATCH) this.reportHits()
    return this.values[slot]
  }

  /** Whether the entry under `storedKey` is surely fresh now (`false`: ask the store). */
  isFresh(storedKey: string): boolean {
    const slot = this.#index.get(storedKey)
    if (slot === undefined) return false
    const until = this.#freshUntil[slot]
    return until === Infinity || isBefore(until)
  }

  /** A slot holding `value`. */
  alloc(value: unknown): number {
    if (++this.#sinceDrain >= DRAIN_EVERY) this.drain()
    const slot = this.#free.pop()
    if (slot !== undefined) {
      this.values[slot] = value
      return slot
    }
    this.values.push(value)
    return this.values.length - 1
  }

  /** Files `slot`, just stored under `storedKey`, as answerable until `freshUntil`. */
  file(storedKey: string, slot: number, freshUntil: number) {
    this.#index.set(storedKey, slot)
    this.#keys[slot] = storedKey
    this.#freshUntil[slot] = freshUntil
  }

  /** Stops answering for `storedKey` (deleted, expired, refused): the store answers. */
  forget(storedKey: string) {
    this.#index.delete(storedKey)
  }

  /** Stops answering for the key `slot` is filed under, if it still is (its entry went stale). */
  forgetSlot(slot: number) {
    const key = this.#keys[slot]
    if (key !== undefined && this.#index.get(key) === slot) this.#index.delete(key)
  }

  /** Gives back a slot whose value is no longer stored, forgetting its key if still filed. */
  release(slot: number) {
    this.forgetSlot(slot)
    this.#keys[slot] = undefined
    this.values[slot] = undefined
    this.#free.push(slot)
  }

  /** Releases the slots the store reported as freed. */
  drain() {
    this.#sinceDrain = 0
    // The hits first: the store counts each by its slot's key, and a released slot may be
    // filed under another key next.
    this.reportHits()
    for (const slot of l1TakeFreedSlots(this.store)) this.release(slot)
  }

  /** Tells the store of the hits answered here since the last report. */
  reportHits() {
    if (this.#hitCount === 0) return
    const count = this.#hitCount
    this.#hitCount = 0
    l1RecordSlotHits(this.store, this.#hits, count)
  }
}
