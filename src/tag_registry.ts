/**
 * What this process knows of tag invalidations: for each tag (qualified by its namespace,
 * `users:active`), when it was last deleted and last expired, in ms since the epoch.
 *
 * Entries carry their creation time (for a factory's value, when the factory started). An
 * entry created at or before its tag's invalidation is refused (deleted) or served only
 * as stale (expired), however late it reaches a tier: a factory that started before a
 * `deleteByTag` cannot write its outdated value back after it. Checking costs two map
 * lookups per tag, and no Redis round trip.
 */
export class TagRegistry {
  readonly #deleted = new Map<string, number>()
  readonly #expired = new Map<string, number>()
  /** The latest invalidation noted, so that {@link stamp} can come after it. */
  #latest = 0

  /** Notes that `tags` were deleted or expired at `at`; an older note never replaces a newer. */
  note(kind: 'delete' | 'expire', tags: readonly string[], at: number) {
    const notes = kind === 'delete' ? this.#deleted : this.#expired
    for (const tag of tags) if ((notes.get(tag) ?? -1) < at) notes.set(tag, at)
    if (at > this.#latest) this.#latest = at
  }

  /** Whether anything was ever invalidated: when not, every check can be skipped. */
  get empty(): boolean {
    return this.#latest === 0
  }

  /**
   * The creation time to give a value made now: now, or just after the latest
   * invalidation when that is in the same millisecond (or, from a faster clock, later),
   * so that a value written after `deleteByTag` is never mistaken for one made before.
   */
  stamp(): number {
    return Math.max(Date.now(), this.#latest + 1)
  }

  /** What invalidations leave of an entry with `tags` created at `createdAt`. */
  verdict(tags: readonly string[], createdAt: number): 'valid' | 'stale' | 'deleted' {
    let verdict: 'valid' | 'stale' = 'valid'
    for (const tag of tags) {
      if (createdAt <= (this.#deleted.get(tag) ?? -1)) return 'deleted'
      if (createdAt <= (this.#expired.get(tag) ?? -1)) verdict = 'stale'
    }
    return verdict
  }
}
