import { publishedClock } from './native.js'

/**
 * Within this many ms of a deadline by the published time, the real clock decides. The
 * published time lags by up to a tick (10 ms), more only if the engine's clock thread is
 * not scheduled: a second of margin keeps that lag from ever serving an expired entry.
 */
const MARGIN_MS = 1_000

/**
 * The engine's published clock (see `clock/published.rs`): `[0]` the time in ms since the
 * epoch, kept by a Rust thread (`Infinity` when unknown: idle, or not started yet); `[1]`
 * set here on each use, which keeps the thread ticking. `null` until
 * {@link usePublishedClock}, and where the runtime allows no external buffers: `Date.now()`
 * then decides every time.
 */
let cell: Float64Array | null = null
let asked = false

/**
 * Maps this realm's cell of the published clock, starting the engine's clock thread if it
 * is not running: called by the first store that reads it (a slot index: a `serialize: false`
 * store's, or a `serialize: true` store's decoded mirrors), so that a process without one
 * runs no clock thread.
 */
export function usePublishedClock(): void {
  if (asked) return
  asked = true
  const buffer = publishedClock()
  if (buffer !== null) cell = new Float64Array(buffer)
}

/**
 * Whether `deadline` (ms since the epoch) is still ahead, as `Date.now() < deadline`
 * answers it, without reading the clock when the published time is a second or more
 * before it (a clock read is ~40 ns on these machines, a fifth of a fresh hit).
 */
export function isBefore(deadline: number): boolean {
  if (cell !== null) {
    cell[1] = 1
    if (cell[0] + MARGIN_MS < deadline) return true
  }
  return Date.now() < deadline
}

/**
 * The time in ms since the epoch, never ahead of the engine's clock: the published time
 * when there is one (up to a tick behind, more if the clock thread stalls), else
 * `Date.now()`. For deadlines that may come early but never late: an index entry that
 * ends early only sends a read to the store.
 */
export function notAfterNow(): number {
  if (cell !== null) {
    cell[1] = 1
    const published = cell[0]
    if (published !== Infinity) return published
  }
  return Date.now()
}
