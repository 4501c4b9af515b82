import { l1TakeFreedSlots, type L1Handle } from './native.js'

/**
 * The values of a `serialize: false` store. They stay JS values on the V8 heap, held here
 * by slot number; the Rust store keeps only the number and runs the eviction policy.
 * When an entry leaves the store (evicted, expired, replaced, deleted), Rust reports its
 * slot as freed, and the slot is released here on the next allocation that needs one.
 */
export class SlotTable {
  readonly values: unknown[] = []
  #free: number[] = []
  #sinceDrain = 0

  constructor(private readonly store: L1Handle) {}

  /** A slot holding `value`. */
  alloc(value: unknown): number {
    // Drain now and then even with free slots left, so evicted values do not linger.
    if (this.#free.length === 0 || ++this.#sinceDrain >= 1024) this.drain()
    const slot = this.#free.pop()
    if (slot !== undefined) {
      this.values[slot] = value
      return slot
    }
    this.values.push(value)
    return this.values.length - 1
  }

  /** Gives back a slot whose value was never stored. */
  release(slot: number) {
    this.values[slot] = undefined
    this.#free.push(slot)
  }

  /** Releases the slots the store reported as freed. */
  drain() {
    this.#sinceDrain = 0
    for (const slot of l1TakeFreedSlots(this.store)) this.release(slot)
  }
}
