import type { L2Backend, L2Write } from './l2_backend.js'

/** A write waiting for Redis: an entry to set (with its absolute expiry), or `null` to delete. */
type PendingWrite = (L2Write & { dropAt: number | null }) | null

/**
 * Writes to the L2 tier that failed, or were skipped while the circuit breaker was open,
 * kept to be retried once the L2 answers again, so an outage does not leave it with old
 * values. One pending write per key, the latest. Bounded: past `capacity` the oldest is
 * dropped and counted. Retries run every `intervalMs` while anything is pending, on a
 * timer that does not keep the process alive.
 *
 * Order matters more than delivery: a retry must never land after a newer write of the same
 * key. So a write supersedes the key's pending one when it is *sent* ({@link begin}), and a
 * write that fails is queued only if no newer write of its key was sent meanwhile
 * ({@link failed}); the newer one, whether it succeeds or fails, speaks for the key.
 */
export class WriteRetryQueue {
  readonly #pending = new Map<string, PendingWrite>()
  /** Key → ticket of the latest write sent for it and not yet answered. */
  readonly #inFlight = new Map<string, number>()
  #lastTicket = 0
  #timer: NodeJS.Timeout | undefined
  #flushing = false
  /** Writes dropped because the queue was full. */
  dropped = 0

  constructor(
    private readonly backend: Pick<L2Backend, 'setMany' | 'deleteMany'>,
    private readonly capacity = 10_000,
    private readonly intervalMs = 1_000,
  ) {}

  /** Writes waiting. */
  get size(): number {
    return this.#pending.size
  }

  /**
   * Records that writes of `keys` (as stored, namespace included) are being sent: their
   * pending retries are dropped, as these writes are newer. Returns the ticket to pass to
   * {@link succeeded} or {@link failed} when they answer.
   */
  begin(keys: string[]): number {
    const ticket = ++this.#lastTicket
    for (const key of keys) {
      this.#pending.delete(key)
      this.#inFlight.set(key, ticket)
    }
    return ticket
  }

  /** The writes of `ticket` reached the L2. */
  succeeded(keys: string[], ticket: number) {
    for (const key of keys) if (this.#inFlight.get(key) === ticket) this.#inFlight.delete(key)
  }

  /**
   * The writes of `ticket` failed (or were not tried): each is queued, entries to set as
   * given, `keys` alone to delete, unless a newer write of its key was sent since.
   */
  failed(writes: L2Write[] | string[], ticket: number) {
    const now = Date.now()
    for (const write of writes) {
      const key = typeof write === 'string' ? write : write.key
      if (this.#inFlight.get(key) !== ticket) continue
      this.#inFlight.delete(key)
      this.#put(key, typeof write === 'string' ? null : { ...write, dropAt: write.ttl == null ? null : now + write.ttl })
    }
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
      if (sets.length > 0) await this.backend.setMany(sets)
      // A key set anew while the sets were out is no longer to be deleted.
      const stillDeleted = deletes.filter((key) => this.#pending.get(key) === null)
      if (stillDeleted.length > 0) await this.backend.deleteMany(stillDeleted)
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
