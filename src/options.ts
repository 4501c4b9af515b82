import { InvalidOptionError, type FactoryError } from './errors.js'
import { type Duration, parseDuration, parseOptionalDuration, parseTtl } from './duration.js'

/**
 * Options that may be set globally (`new BentoCache({...})`), per store (`bentostore({...})`)
 * and per call; the most specific one given wins. Durations are ms or strings like `'10m'`.
 */
export interface CacheOptions {
  /** How long an entry stays fresh. `null` (or 0): forever. Default `'30m'`. */
  ttl?: Duration | null
  /**
   * How long past its ttl a stale entry is kept, to be served when its factory fails or is
   * slow. `false` or 0: no grace. Default `false`.
   */
  grace?: Duration | false | null
  /** After a factory failure served from grace, how long before the factory is tried again. Default `'10s'`. */
  graceBackoff?: Duration
  /**
   * Soft timeout: with grace and a stale value, how long a factory may run before the stale
   * value is returned (the factory goes on in the background). 0: return the stale value at
   * once and refresh in the background (stale-while-revalidate). Default 0.
   */
  timeout?: Duration | null
  /** Hard timeout: how long a factory may run before `getOrSet` rejects. Default none. */
  hardTimeout?: Duration | null
  /** How long a `getOrSet` waits for another caller's factory run on the same key. Default none. */
  lockTimeout?: Duration | null
  /** Called with every factory failure, foreground or background. */
  onFactoryError?: (error: FactoryError) => void
  /** Whether L2 failures are hidden from callers. Default: true when an L1 exists. */
  suppressL2Errors?: boolean
}

/** Options that only make sense for one call. */
export interface CallOptions extends CacheOptions {
  /** Skip every cache read and run the factory. */
  forceFresh?: boolean
  /** Tags of the entry written. */
  tags?: string[]
  /** Write the L1 only. */
  skipL2Write?: boolean
  /** Do not tell other nodes about this write. */
  skipBusNotify?: boolean
}

/** The names of {@link CacheOptions}, to tell a misspelt option from a real one. */
export const CACHE_OPTION_NAMES = [
  'ttl',
  'grace',
  'graceBackoff',
  'timeout',
  'hardTimeout',
  'lockTimeout',
  'onFactoryError',
  'suppressL2Errors',
] as const

/**
 * Throws {@link InvalidOptionError} for a key of `options` that is not in `known`: a misspelt
 * option would otherwise be ignored without a word.
 */
export function rejectUnknownOptions(options: object, known: readonly string[], where: string) {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new InvalidOptionError(name, (options as any)[name], `an option of ${where} (${known.join(', ')})`)
  }
}

/** bentocache's defaults. */
const DEFAULTS: Required<Pick<CacheOptions, 'ttl' | 'grace' | 'graceBackoff' | 'timeout'>> = {
  ttl: '30m',
  grace: false,
  graceBackoff: '10s',
  timeout: 0,
}

/**
 * Options with every duration parsed. Built once per store (and namespace); a call that
 * overrides nothing reuses it, so the hot path allocates no option object.
 */
export class ResolvedOptions {
  private constructor(
    /** Fresh for this many ms; `null` forever. */
    readonly ttl: number | null,
    /** Kept this many ms past the ttl; 0 for no grace. */
    readonly grace: number,
    readonly graceBackoff: number,
    readonly timeout: number | null,
    readonly hardTimeout: number | null,
    readonly lockTimeout: number | null,
    readonly onFactoryError: ((error: FactoryError) => void) | undefined,
    readonly suppressL2Errors: boolean | undefined,
  ) {}

  /** The defaults overridden by each level in turn; `undefined` values override nothing. */
  static resolve(...levels: Array<CacheOptions | undefined>): ResolvedOptions {
    let base = ResolvedOptions.#fromRaw(DEFAULTS, undefined)
    for (const level of levels) if (level) base = base.withCall(level)
    return base
  }

  static #fromRaw(raw: CacheOptions, base: ResolvedOptions | undefined): ResolvedOptions {
    const { ttl, grace, graceBackoff, timeout, hardTimeout, lockTimeout } = raw
    return new ResolvedOptions(
      ttl !== undefined ? parseTtl(ttl) : base!.ttl,
      grace !== undefined ? Math.max(0, parseOptionalDuration(grace, 'grace') ?? 0) : base!.grace,
      graceBackoff !== undefined ? parseDuration(graceBackoff, 'graceBackoff') : base!.graceBackoff,
      // bentocache turns a null timeout into 0 (stale-while-revalidate).
      timeout !== undefined ? (parseOptionalDuration(timeout, 'timeout') ?? 0) : base!.timeout,
      hardTimeout !== undefined ? parseOptionalDuration(hardTimeout, 'hardTimeout') : (base?.hardTimeout ?? null),
      lockTimeout !== undefined ? parseOptionalDuration(lockTimeout, 'lockTimeout') : (base?.lockTimeout ?? null),
      raw.onFactoryError ?? base?.onFactoryError,
      raw.suppressL2Errors ?? base?.suppressL2Errors,
    )
  }

  /** These options overridden by a call's; `this` itself when the call overrides none. */
  withCall(call: CacheOptions): ResolvedOptions {
    if (
      call.ttl === undefined &&
      call.grace === undefined &&
      call.graceBackoff === undefined &&
      call.timeout === undefined &&
      call.hardTimeout === undefined &&
      call.lockTimeout === undefined &&
      call.onFactoryError === undefined &&
      call.suppressL2Errors === undefined
    ) {
      return this
    }
    return ResolvedOptions.#fromRaw(call, this)
  }

  /** Whether stale entries may be served. */
  get graceEnabled(): boolean {
    return this.grace > 0
  }

  /** Whether a stale value is served at once while the factory refreshes it in the background. */
  shouldRevalidateInBackground(hasStale: boolean): boolean {
    return hasStale && this.grace > 0 && this.timeout === 0
  }

  /** How long a caller waits for another caller's factory run (bentocache's rules); `null`: no limit. */
  waitLimit(hasStale: boolean): number | null {
    if (this.shouldRevalidateInBackground(hasStale)) return 0
    if (this.lockTimeout) return this.lockTimeout
    if (hasStale && this.grace > 0 && this.timeout !== null) return this.timeout
    return null
  }

  /** The factory's time limit: soft when a stale value can stand in, else hard; `null`: none. */
  factoryLimit(hasStale: boolean): { soft: boolean; ms: number } | null {
    if (hasStale && this.grace > 0 && this.timeout !== null) return { soft: true, ms: this.timeout }
    if (this.hardTimeout) return { soft: false, ms: this.hardTimeout }
    return null
  }
}
