import { InvalidOptionError } from './errors.js'

/** A duration: milliseconds, or a string such as `'10m'`, `'1.5h'` or `'30 seconds'`. */
export type Duration = number | string

const UNIT_MS: Record<string, number> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  y: 31_557_600_000, yr: 31_557_600_000, yrs: 31_557_600_000, year: 31_557_600_000, years: 31_557_600_000,
}
const DURATION = /^(-?(?:\d+)?\.?\d+) *([a-z]+)?$/i

/**
 * Milliseconds of a duration option. Numbers pass as they are; strings take the units of
 * bentocache's parser (ms, s, m, h, d, w, y and their long forms).
 * @throws {InvalidOptionError} for anything else, naming the option.
 */
export function parseDuration(value: Duration, option: string): number {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new InvalidOptionError(option, value, 'a number of ms or a duration string')
    return value
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value.trim())
    const unit = match && (match[2] ? UNIT_MS[match[2].toLowerCase()] : 1)
    if (match && unit !== undefined && unit !== null) return Number.parseFloat(match[1]) * unit
  }
  throw new InvalidOptionError(option, value, 'a number of ms or a duration string such as "10m"')
}

/** A ttl option: a duration, or `null` for an entry that never expires. */
export function parseTtl(value: Duration | null, option = 'ttl'): number | null {
  if (value === null) return null
  const ms = parseDuration(value, option)
  // As in bentocache, a ttl of 0 means no expiry.
  return ms === 0 || ms === Number.POSITIVE_INFINITY ? null : ms
}

/** An optional duration whose absence (`null`, `undefined`, `false`) means "off". */
export function parseOptionalDuration(value: Duration | null | false | undefined, option: string): number | null {
  if (value === null || value === undefined || value === false) return null
  return parseDuration(value, option)
}

/** The longest delay a Node.js timer can wait (longer ones fire after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A duration that sets a timer (`timeout`, `hardTimeout`, `lockTimeout`) or a backoff: at
 * least 0 and at most {@link MAX_TIMER_MS} (about 24.8 days).
 * @throws {InvalidOptionError} for a negative, infinite or longer one.
 */
export function parseTimerDuration(value: Duration, option: string): number {
  const ms = parseDuration(value, option)
  if (!(ms >= 0 && ms <= MAX_TIMER_MS)) {
    throw new InvalidOptionError(option, value, `a duration from 0 to ${MAX_TIMER_MS} ms (about 24.8 days)`)
  }
  return ms
}

/** {@link parseTimerDuration} for an optional one (`null`, `undefined`, `false`: off). */
export function parseOptionalTimerDuration(value: Duration | null | false | undefined, option: string): number | null {
  if (value === null || value === undefined || value === false) return null
  return parseTimerDuration(value, option)
}

/**
 * A grace period: negative means none (as 0); it must be finite (grace has no "forever").
 * @throws {InvalidOptionError} for an infinite or unparseable one.
 */
export function parseGrace(value: Duration | null | false | undefined): number {
  const ms = parseOptionalDuration(value, 'grace') ?? 0
  if (!Number.isFinite(ms)) throw new InvalidOptionError('grace', value, 'a finite duration, false or 0')
  return Math.max(0, ms)
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 }
const BYTES = /^((-|\+)?(\d+(?:\.\d+)?)) *(kb|mb|gb|tb|pb|b)?$/i

/**
 * Bytes of a size option: a number of bytes, or a string such as `'10mb'` (units b, kb,
 * mb, gb, tb, pb, base 1024), as bentocache's `bytes` parser reads them.
 * @throws {InvalidOptionError} for anything else, or a size that is not positive.
 */
export function parseBytes(value: number | string, option: string): number {
  let bytes = Number.NaN
  if (typeof value === 'number') bytes = value
  else if (typeof value === 'string') {
    const match = BYTES.exec(value.trim())
    if (match) bytes = Math.floor(Number.parseFloat(match[1]) * BYTE_UNITS[(match[4] ?? 'b').toLowerCase()])
  }
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new InvalidOptionError(option, value, 'a positive number of bytes or a size string such as "10mb"')
  }
  return bytes
}
