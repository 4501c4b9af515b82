import { InvalidOptionError, type FactoryError } from './errors.js'
import { type Duration, parseGrace, parseOptionalTimerDuration, parseTimerDuration, parseTtl } from './duration.js'

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
  /**
   * Eager refresh, as FusionCache's: a ratio of the ttl, strictly between 0 and 1. An entry
   * written with `eagerRefresh: 0.8` and a ttl is due at 80% of its ttl; the first
   * `getOrSet` hit from then on (L1 or L2) returns the cached value at once and starts one
   * factory run in the background, whose value replaces the entry with a fresh ttl.
   * `false` or `null`: off (overrides a store's or global setting). Default off.
   */
  eagerRefresh?: number | false | null
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
  'eagerRefresh',
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

const DURATION_OPTIONS = ['ttl', 'grace', 'graceBackoff', 'timeout', 'hardTimeout', 'lockTimeout'] as const
/** Per option, the values calls gave that were found valid, so a hit need not parse them again. */
const VALID_CALL_DURATIONS = Object.fromEntries(DURATION_OPTIONS.map((name) => [name, new Set<unknown>()])) as Record<
  (typeof DURATION_OPTIONS)[number],
  Set<unknown>
>

/**
 * Why a call's durations are invalid, or `undefined`: for the L1 hit path, which uses none
 * of them yet must not ignore an invalid one. Valid values are remembered (a few hundred at
 * most), so a call repeating `ttl: '10m'` costs one set lookup per option, no parse.
 */
export function invalidCallDuration(call: CacheOptions): InvalidOptionError | undefined {
  if (givesNoDuration(call)) return undefined
  for (const name of DURATION_OPTIONS) {
    const value = call[name]
    const valid = VALID_CALL_DURATIONS[name]
    if (value === undefined || valid.has(value)) continue
    try {
      ResolvedOptions.resolve({ [name]: value })
    } catch (error) {
      return error as InvalidOptionError
    }
    if (valid.size >= 256) valid.clear()
    valid.add(value)
  }
  return undefined
}

/**
 * Whether `call` leaves every one of {@link DURATION_OPTIONS} unset. Most calls do: named
 * reads are cheap where a loop's computed ones are not (about 40 ns of a getOrSet hit).
 */
function givesNoDuration(call: CacheOptions): boolean {
  return (
    call.ttl === undefined &&
    call.grace === undefined &&
    call.graceBackoff === undefined &&
    call.timeout === undefined &&
    call.hardTimeout === undefined &&
    call.lockTimeout === undefined
  )
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
    /** The eager-refresh ratio of the ttl, in (0, 1); `null` for none. */
    readonly eagerRefresh: number | null,
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
      grace !== undefined ? parseGrace(grace) : base!.grace,
      graceBackoff !== undefined ? parseTimerDuration(graceBackoff, 'graceBackoff') : base!.graceBackoff,
      // bentocache turns a null timeout into 0 (stale-while-revalidate).
      timeout !== undefined ? (parseOptionalTimerDuration(timeout, 'timeout') ?? 0) : base!.timeout,
      hardTimeout !== undefined ? parseOptionalTimerDuration(hardTimeout, 'hardTimeout') : (base?.hardTimeout ?? null),
      lockTimeout !== undefined ? parseOptionalTimerDuration(lockTimeout, 'lockTimeout') : (base?.lockTimeout ?? null),
      raw.onFactoryError ?? base?.onFactoryError,
      raw.suppressL2Errors ?? base?.suppressL2Errors,
      raw.eagerRefresh !== undefined ? parseEagerRefresh(raw.eagerRefresh) : (base?.eagerRefresh ?? null),
    )
  }

  /** These options overridden by a call's; `this` itself when the call overrides none. */
  withCall(call: CacheOptions): ResolvedOptions {
    if (
      givesNoDuration(call) &&
      call.onFactoryError === undefined &&
      call.suppressL2Errors === undefined &&
      call.eagerRefresh === undefined
    ) {
      return this
    }
    return ResolvedOptions.#fromRaw(call, this)
  }

  /**
   * How long after its writing an entry of `ttl` ms is due for an eager refresh; `undefined`
   * without eager refresh or without a ttl (an entry that never expires is never refreshed).
   */
  refreshDelay(ttl: number | null): number | undefined {
    return this.eagerRefresh === null || ttl === null || ttl < 0 ? undefined : Math.floor(ttl * this.eagerRefresh)
  }

  /**
   * When an entry read from L2 (made at `createdAt`, fresh until `logicalExpiresAt`) is due
   * for an eager refresh by these options' ratio, in ms since the epoch; `undefined`: never.
   */
  refreshAt(createdAt: number, logicalExpiresAt: number | null): number | undefined {
    if (this.eagerRefresh === null || logicalExpiresAt === null) return undefined
    return createdAt + (logicalExpiresAt - createdAt) * this.eagerRefresh
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

/**
 * The `eagerRefresh` option: a ratio strictly between 0 and 1, or `false`/`null` for none.
 * @throws {InvalidOptionError} for anything else (0 and 1 included: 0 would refresh on every
 * hit, 1 never before the entry expires).
 */
function parseEagerRefresh(value: unknown): number | null {
  if (value === false || value === null) return null
  if (typeof value === 'number' && value > 0 && value < 1) return value
  throw new InvalidOptionError('eagerRefresh', value, 'a ratio of the ttl between 0 and 1 (exclusive), such as 0.8, or false')
}
