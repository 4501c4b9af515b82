import type { L1StatsOut } from './native.js'
import type { BusStats } from './bus/cache_bus.js'

/** A reading of a store's counters, from `getStats()`. */
export interface CacheStats {
  /**
   * Reads (`get`, `getOrSet`) answered with a fresh value from a tier — for `getOrSet`,
   * including callers that waited for another caller's factory and then found its value.
   */
  hits: number
  /** Reads answered with a stale value, by grace. */
  staleHits: number
  /** Reads that found no usable value (for `getOrSet`: calls that ran the factory). */
  misses: number
  /** `(hits + staleHits) / (hits + staleHits + misses)`; 0 before any read. */
  hitRate: number
  factory: {
    /** Factory runs started. */
    runs: number
    /** Factory runs that threw (or called `ctx.fail()`). */
    errors: number
    /** Callers that stopped waiting at a soft or hard timeout. */
    timeouts: number
  }
  /** Factory runs in the background, started on a hit (each is also in `factory.runs`). */
  refresh: {
    /** Stale-while-revalidate: a stale value served at once (`timeout: 0`), refreshed behind it. */
    staleWhileRevalidate: number
    /** Eager refresh: a fresh value served past its `eagerRefresh` threshold, refreshed behind it. */
    eager: number
    /** Background runs (of either kind) that failed; each went to `onFactoryError`. */
    errors: number
  }
  /** The L1 tier, counted in Rust: lookups, writes, evictions, entries and bytes held; absent without an L1. */
  l1?: L1StatsOut
  /** The L2 tier (Redis), as the cache saw it. */
  l2: {
    /** Reads that found an entry. */
    hits: number
    /** Reads that found nothing. */
    misses: number
    /** Operations that failed (timeouts included); each opens the circuit breaker. */
    errors: number
    /** Operations skipped while the circuit breaker was open. */
    skipped: number
    /** Values that were not valid entries (foreign or corrupted), read as misses. */
    unreadable: number
    /** Writes waiting to be retried, and those dropped because the retry queue was full. */
    retries: { pending: number; dropped: number }
  }
  /** The bus, if the store has one: messages sent and received, retries, gaps noticed. */
  bus?: BusStats
}

/** The counters a store keeps in JS; plain fields, so counting costs an increment. */
export class CacheCounters {
  hits = 0
  staleHits = 0
  misses = 0
  factoryRuns = 0
  factoryErrors = 0
  factoryTimeouts = 0
  refreshStaleWhileRevalidate = 0
  refreshEager = 0
  refreshErrors = 0
  l2Hits = 0
  l2Misses = 0
  l2Errors = 0
  l2Skipped = 0
  l2Unreadable = 0

  read(l1: L1StatsOut | undefined, retries = { pending: 0, dropped: 0 }, bus?: BusStats): CacheStats {
    const reads = this.hits + this.staleHits + this.misses
    return {
      hits: this.hits,
      staleHits: this.staleHits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : (this.hits + this.staleHits) / reads,
      factory: { runs: this.factoryRuns, errors: this.factoryErrors, timeouts: this.factoryTimeouts },
      refresh: { staleWhileRevalidate: this.refreshStaleWhileRevalidate, eager: this.refreshEager, errors: this.refreshErrors },
      l1,
      l2: { hits: this.l2Hits, misses: this.l2Misses, errors: this.l2Errors, skipped: this.l2Skipped, unreadable: this.l2Unreadable, retries },
      bus,
    }
  }
}
