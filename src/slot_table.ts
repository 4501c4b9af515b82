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
 * A table of mirrors judges whether it pays every this many reads (answered here or asked of
 * the store) once it is full.
 */
const JUDGE_EVERY = 4096

/**
 * How many reads of the store a table of mirrors that did not pay sits out before it is
 * judged again.
 */
const SIT_OUT = 65_536

/**
 * Most characters of JSON text a table of mirrors keeps decoded at once, all mirrors
 * together (8 Mi: ~88,000 of the bench's 95-character objects), whatever its capacity in
 * entries: the parses live on the V8 heap, which a store bounded by `maxSize` must not
 * fill with large values.
 */
export const MIRRORED_TEXT_BUDGET = 8 * 2 ** 20

/** The longest text a table of mirrors keeps decoded (128 Ki characters): a 64th of its budget. */
export const MIRRORED_TEXT_MAX = MIRRORED_TEXT_BUDGET / 64

/**
 * The freed slots are taken from the store once every this many allocations (and at once
 * after a write that evicted): a value replaced by a write lingers here until then. Taking
 * them on every allocation that finds no free slot cost a call into Rust and a new array
 * per replacing write (~250 ns of a ~1.8 µs `set`).
 */
const DRAIN_EVERY = 64

/**
 * The values of a `serialize: false` store, and the index that answers its fresh hits
 * without a call into Rust. Built with a capacity, the same table keeps the *mirrors* of a
 * `serialize: true` store: parses of its text entries, each slot lent by the store to one
 * entry and freed when that entry leaves (see `MemoryTier`); the clock hand, the doorkeeper
 * and the judging of whether the table pays are for that use only.
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
  /**
   * By slot: a promise already resolved with its value, made at the value's first
   * {@link hitResolved} and handed to every later one. Awaiting a settled promise costs
   * ~20 ns less here than making one per hit (`Promise.resolve`), an eighth of a hit.
   * Kept as long as `values`, so that the array stays dense.
   */
  #resolved: (Promise<unknown> | undefined)[] = []
  /** By slot: the stored key it is filed under here, while it is. */
  #keys: (string | undefined)[] = []
  /** By slot: until when (ms since the epoch) a read may be answered here. */
  #freshUntil: number[] = []
  #index = new Map<string, number>()
  #free: number[] = []
  #sinceDrain = 0
  /**
   * Keys forgotten since the last drain (written, deleted): the store frees their slots
   * when their entries leave, which a full table of mirrors takes back before it refuses.
   */
  #forgotten = 0
  #hits = new Uint32Array(HIT_BATCH)
  #hitCount = 0
  /**
   * With a capacity (a table of mirrors): by slot, 1 when answered since the clock hand
   * last passed it; the hand picks the next slot to lend when none is free.
   */
  readonly #used: Uint8Array | null
  #hand = 0
  /** For a table of mirrors: keys refused a slot once (see {@link admit}). */
  readonly #seen = new Set<string>()
  /**
   * For a table of mirrors: whether reads look here first. A read answered here saves a
   * call into Rust and a parse (~1 µs); one that is not costs a lookup here and, for the
   * store's answer, a doorkeeper's (each a cache miss when the keys are many: up to
   * ~250 ns). Below about one read in three answered here, the table loses more than it
   * saves (measured: uniform reads over 4× as many keys as slots, +60 % a read), so it
   * then sits out {@link SIT_OUT} reads of the store, and is judged again after them.
   */
  consulted = true
  /** For a table of mirrors: by slot, the length of the text its parse came from; their sum. */
  #sizes: number[] = []
  #size = 0
  /** Reads answered here, and reads asked of the store, since the table was last judged. */
  #answered = 0
  #asked = 0
  /** While not consulted: reads of the store left before it is judged again. */
  #sittingOut = 0

  /**
   * @param capacity most slots at once, for a table of mirrors (decoded text entries the
   * store lends slots to, see {@link lend}); unbounded for a store of slot values, whose
   * slot count the store's own limits bound.
   */
  constructor(
    private readonly store: L1Handle,
    private readonly capacity = Infinity,
  ) {
    this.#used = capacity === Infinity ? null : new Uint8Array(capacity)
    usePublishedClock()
  }

  /**
   * The value under `storedKey` if its entry is surely fresh now, counted as a hit; else
   * {@link ASK_STORE}.
   */
  hit(storedKey: string): unknown {
    const slot = this.#hitSlot(storedKey)
    return slot === -1 ? ASK_STORE : this.values[slot]
  }

  /**
   * As {@link hit}, for a caller that hands the value back in a promise: that promise,
   * settled, the same for every hit of one value; `undefined` to ask the store. A value
   * with a `then` method gets a new promise each time, which adopts it, as an async
   * function's return would.
   */
  hitResolved(storedKey: string): Promise<unknown> | undefined {
    const slot = this.#hitSlot(storedKey)
    if (slot === -1) return undefined
    const resolved = this.#resolved[slot]
    if (resolved !== undefined) return resolved
    const value = this.values[slot]
    const promise = Promise.resolve(value)
    if (!isThenable(value)) this.#resolved[slot] = promise
    return promise
  }

  /** The slot of `storedKey` if its entry is surely fresh now, counted as a hit; else -1. */
  #hitSlot(storedKey: string): number {
    const slot = this.#index.get(storedKey)
    if (slot === undefined) return -1
    // An entry without a ttl needs no clock; one far from its expiry, no clock read.
    const until = this.#freshUntil[slot]
    if (until !== Infinity && !isBefore(until)) return -1
    if (this.#used !== null) {
      this.#used[slot] = 1
      this.#answered++
    }
    this.#hits[this.#hitCount++] = slot
    if (this.#hitCount === HIT_BATCH) this.reportHits()
    return slot
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
    this.#resolved.push(undefined)
    return this.values.length - 1
  }

  /**
   * For a table of mirrors: counts a read the store answered (fresh, as text), and tells
   * whether to try keeping its parse here. Judges, every {@link JUDGE_EVERY} reads once
   * the table is full, whether consulting it pays (see {@link consulted}).
   */
  storeRead(): boolean {
    if (!this.consulted) {
      if (--this.#sittingOut > 0) return false
      this.consulted = true
      this.#answered = this.#asked = 0
      return true
    }
    if (++this.#asked + this.#answered < JUDGE_EVERY) return true
    const full = this.#free.length === 0 && this.values.length >= this.capacity
    if (full && this.#answered * 2 < this.#asked) {
      this.consulted = false
      this.#sittingOut = SIT_OUT
    }
    this.#answered = this.#asked = 0
    return this.consulted
  }

  /**
   * For a table of mirrors: a free slot holding `value`, to be lent by the store; or
   * `undefined` at capacity (then see {@link victim}).
   */
  lend(value: unknown, size: number): number | undefined {
    if (!this.#roomFor(size)) {
      if (this.#forgotten === 0) return undefined
      this.drain()
      if (!this.#roomFor(size)) return undefined
    }
    const slot = this.alloc(value)
    this.#used![slot] = 0
    this.#sizes[slot] = size
    this.#size += size
    return slot
  }

  /** Whether a free slot and the text budget allow another mirror of `size` characters. */
  #roomFor(size: number): boolean {
    return (this.#free.length > 0 || this.values.length < this.capacity) && this.#size + size <= MIRRORED_TEXT_BUDGET
  }

  /**
   * For a table of mirrors at capacity: whether `storedKey`, just read from the store, may
   * ask for a slot. Only on its second such read while it is remembered (among the last
   * `capacity` keys refused): a key read once, as in a scan, costs one `Set` insertion and
   * never a call into Rust or a sweep of the clock hand.
   */
  admit(storedKey: string): boolean {
    const seen = this.#seen
    if (seen.delete(storedKey)) return true
    if (seen.size >= this.capacity) seen.clear()
    seen.add(storedKey)
    return false
  }

  /**
   * For a table of mirrors at capacity: the next slot the clock hand finds unanswered since
   * it last passed (the hand clears the marks it passes), at most twice around; `undefined`
   * if none. The store then decides whether another key takes the slot over ({@link replace}).
   */
  victim(size: number): number | undefined {
    const used = this.#used!
    const end = this.values.length
    for (let steps = 0; steps < 2 * end; steps++) {
      const slot = this.#hand
      if (slot + 1 < end) this.#hand = slot + 1
      else {
        this.#hand = 0
        // Once a turn, the hits are reported: a slot unmarked since the hand last passed then
        // has none waiting, which would count for the key that takes it over.
        this.reportHits()
      }
      if (this.#keys[slot] === undefined) continue
      if (used[slot] === 1) used[slot] = 0
      // Taking this slot over would pass the text budget: not now, the hand moves on.
      else return this.#size - this.#sizes[slot] + size <= MIRRORED_TEXT_BUDGET ? slot : undefined
    }
    return undefined
  }

  /** Files `slot`, taken over by the store for `storedKey` (see {@link victim}), holding `value`. */
  replace(slot: number, storedKey: string, value: unknown, freshUntil: number, size: number) {
    this.forgetSlot(slot)
    this.values[slot] = value
    this.#resolved[slot] = undefined
    this.#used![slot] = 0
    this.#size += size - this.#sizes[slot]
    this.#sizes[slot] = size
    this.file(storedKey, slot, freshUntil)
  }

  /** Files `slot`, just stored under `storedKey`, as answerable until `freshUntil`. */
  file(storedKey: string, slot: number, freshUntil: number) {
    this.#index.set(storedKey, slot)
    this.#keys[slot] = storedKey
    this.#freshUntil[slot] = freshUntil
  }

  /** Stops answering for `storedKey` (deleted, expired, refused): the store answers. */
  forget(storedKey: string) {
    if (this.#index.delete(storedKey)) this.#forgotten++
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
    this.#resolved[slot] = undefined
    if (this.#used !== null) {
      this.#size -= this.#sizes[slot]
      this.#sizes[slot] = 0
    }
    this.#free.push(slot)
  }

  /** Releases the slots the store reported as freed. */
  drain() {
    this.#sinceDrain = 0
    this.#forgotten = 0
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

/** Whether `value` is a thenable, which `Promise.resolve` adopts rather than holds. */
function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
