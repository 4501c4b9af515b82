import type { L1StatsOut } from '../index.js'

/** A reading of a store's counters, from `getStats()`. */
export interface CacheStats {
  /** Reads (`get`, `getOrSet`) answered with a fresh value. */
  hits: number
  /** Reads answered with a stale value, by grace. */
  staleHits: number
  /** Reads that found no usable value. */
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
  /** The L1 tier, counted in Rust: lookups, writes, evictions, entries and bytes held. */
  l1: L1StatsOut
}

/** The counters a store keeps in JS; plain fields, so counting costs an increment. */
export class CacheCounters {
  hits = 0
  staleHits = 0
  misses = 0
  factoryRuns = 0
  factoryErrors = 0
  factoryTimeouts = 0

  read(l1: L1StatsOut): CacheStats {
    const reads = this.hits + this.staleHits + this.misses
    return {
      hits: this.hits,
      staleHits: this.staleHits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : (this.hits + this.staleHits) / reads,
      factory: { runs: this.factoryRuns, errors: this.factoryErrors, timeouts: this.factoryTimeouts },
      l1,
    }
  }
}
