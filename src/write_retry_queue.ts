import { l2DeleteMany, l2SetMany, type ExternalObject, type L2Write, type RedisTier } from '../index.js'

/** A write waiting for Redis: an entry to set (with its absolute expiry), or `null` to delete. */
type PendingWrite = (L2Write & { dropAt: number | null }) | null

/**
 * Writes to the L2 tier that failed, or were skipped while the circuit breaker was open,
 * kept to be retried once Redis answers again, so an outage does not leave Redis with old
 * values. One pending write per key, the latest: a newer write, or a successful one,
 * replaces or settles it. Bounded: past `capacity` the oldest is dropped and counted.
 * Retries run every `intervalMs` while anything is pending, on a timer that does not keep
 * the process alive.
 */
export class WriteRetryQueue {
  readonly #pending = new Map<string, PendingWrite>()
  #timer: NodeJS.Timeout | undefined
  #flushing = false
  /** Writes dropped because the queue was full. */
  dropped = 0

  constructor(
    private readonly handle: ExternalObject<RedisTier>,
    private readonly capacity = 10_000,
    private readonly intervalMs = 1_000,
  ) {}

  /** Writes waiting. */
  get size(): number {
    return this.#pending.size
  }

  /** Queues entries to set (keys as stored, namespace included). */
  set(writes: L2Write[]) {
    const now = Date.now()
    for (const write of writes) this.#put(write.key, { ...write, dropAt: write.ttl == null ? null : now + write.ttl })
  }

  /** Queues keys to delete. */
  delete(keys: string[]) {
    for (const key of keys) this.#put(key, null)
  }

  /** Forgets the pending writes of keys that were just written successfully. */
  settle(keys: string[]) {
    if (this.#pending.size === 0) return
    for (const key of keys) this.#pending.delete(key)
  }

  #put(key: string, write: PendingWrite) {
    this.#pending.delete(key) // re-inserted last: the map's order is the age order
    this.#pending.set(key, write)
    if (this.#pending.size > this.capacity) {
      this.#pending.delete(this.#pending.keys().next().value!)
      this.dropped++
    }
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.flush(), this.intervalMs)
      this.#timer.unref()
    }
  }

  /** Tries the pending writes now: one round trip for the sets, one for the deletes. */
  async flush(): Promise<void> {
    if (this.#flushing || this.#pending.size === 0) return
    this.#flushing = true
    const batch = [...this.#pending]
    const now = Date.now()
    const sets: L2Write[] = []
    const deletes: string[] = []
    for (const [key, write] of batch) {
      if (write === null) deletes.push(key)
      else if (write.dropAt === null || write.dropAt > now) {
        const { dropAt, ...entry } = write
        sets.push({ ...entry, ttl: dropAt === null ? undefined : dropAt - now })
      }
    }
    try {
      if (sets.length > 0) await l2SetMany(this.handle, sets)
      if (deletes.length > 0) await l2DeleteMany(this.handle, deletes)
      // Settle what was sent, unless a newer write for the key came in meanwhile.
      for (const [key, write] of batch) if (this.#pending.get(key) === write) this.#pending.delete(key)
    } catch {
      // Redis is still away: everything stays for the next tick.
    } finally {
      this.#flushing = false
      if (this.#pending.size === 0 && this.#timer) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }
  }
}
