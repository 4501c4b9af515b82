/**
 * Stops calling the L2 tier for a while after it failed (`l2CircuitBreakerDuration`), so
 * that an outage costs one timeout, not one per operation. Shared by a store's namespaces.
 */
export class CircuitBreaker {
  #openUntil = 0

  /** @param durationMs how long to stay open after a failure; `null`: never open. */
  constructor(private readonly durationMs: number | null) {}

  /** Whether L2 calls are skipped now. */
  isOpen(): boolean {
    return this.#openUntil !== 0 && Date.now() < this.#openUntil
  }

  /** Records a failure: opens the breaker for its duration. */
  trip() {
    if (this.durationMs) this.#openUntil = Date.now() + this.durationMs
  }
}
