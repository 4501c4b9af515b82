// Access traces for hit-ratio measurements: the real traces of ../shared/traces (see its
// README) and synthetic Zipf requests, each as a Float64Array of integer keys, plus a
// read-through replayer. Used by bench/hit_ratio.js and __test__/hit_ratio.test.ts.
//
// The traces are read where they lie: RUSTOCACHE_TRACES names their directory, by default
// ../shared/traces next to the project. They are never copied into the project.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

/** Where the traces are: $RUSTOCACHE_TRACES, or ../shared/traces beside the project. */
export const TRACES_DIR =
  process.env.RUSTOCACHE_TRACES ?? fileURLToPath(new URL('../../shared/traces/', import.meta.url))

/** Synthetic scan keys start here, above any Zipf id. */
export const SCAN_BASE = 2 ** 40

/**
 * Each trace: its file and format.
 * - `arc`: the ARC paper's `.lis` lines `start_block num_blocks ignore request_no`, each
 *   standing for num_blocks requests start_block, start_block+1, ...
 * - `lirs`: one integer key per line (the `*` lines some LIRS traces hold are not requests).
 * - `cache2k`: a sequence of 32-bit big-endian integer keys.
 */
export const TRACES = {
  OLTP: { file: 'OLTP.lis.gz', format: 'arc' },
  P3: { file: 'P3.lis.gz', format: 'arc' },
  loop: { file: 'lirs-loop.trace.gz', format: 'lirs' },
  multi1: { file: 'lirs-multi1.trace.gz', format: 'lirs' },
  '2_pools': { file: 'lirs-2_pools.trace.gz', format: 'lirs' },
  sprite: { file: 'lirs-sprite.trace.gz', format: 'lirs' },
  cs: { file: 'lirs-cs.trace.gz', format: 'lirs' },
  gli: { file: 'lirs-gli.trace.gz', format: 'lirs' },
  web07: { file: 'cache2k-web07.trace.gz', format: 'cache2k' },
}

/** Plain LRU's published hit ratios (%) on OLTP, by capacity: they check the reader. */
export const OLTP_PUBLISHED_LRU = { 250: 16.47, 500: 23.45, 1000: 32.83, 2000: 42.47 }

export function traceAvailable(name) {
  return existsSync(join(TRACES_DIR, TRACES[name].file))
}

/** A growable list of numbers, without boxing them in a JS array. */
class Keys {
  array = new Float64Array(1 << 16)
  length = 0
  push(key) {
    if (this.length === this.array.length) {
      const bigger = new Float64Array(this.array.length * 2)
      bigger.set(this.array)
      this.array = bigger
    }
    this.array[this.length++] = key
  }
  done() {
    return this.array.subarray(0, this.length)
  }
}

/** The requests of trace `name` (a key of TRACES), in order. */
export function readTrace(name) {
  const { file, format } = TRACES[name]
  const bytes = gunzipSync(readFileSync(join(TRACES_DIR, file)))
  const keys = new Keys()
  if (format === 'cache2k') {
    if (bytes.length % 4 !== 0) throw new Error(`${file}: ${bytes.length} bytes, not a whole number of 32-bit keys`)
    for (let at = 0; at < bytes.length; at += 4) keys.push(bytes.readInt32BE(at))
    return keys.done()
  }
  for (const line of bytes.toString('latin1').split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (format === 'arc') {
      const [start, count] = fields.map(Number)
      if (!Number.isInteger(start) || !Number.isInteger(count)) continue
      for (let block = start; block < start + count; block++) keys.push(block)
    } else if (/^-?\d+$/.test(fields[0])) {
      keys.push(Number(fields[0]))
    }
  }
  return keys.done()
}

/** A seeded 32-bit generator (mulberry32): the same seed, the same requests. */
export function seededRandom(seed) {
  let state = seed >>> 0
  const next32 = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return (z ^ (z >>> 14)) >>> 0
  }
  // 53 random bits, uniform in [0, 1).
  return () => (next32() * 2 ** 21 + (next32() >>> 11)) / 2 ** 53
}

/**
 * `requests` Zipf-distributed ids over `items` ranks (rank r, 1-based, asked for in
 * proportion to r^-s), and every `scanEvery` Zipf requests (0: never) a scan of `scanLength`
 * one-time keys (SCAN_BASE and up). Also returns the ideal hit ratio of a cache of each
 * given capacity over the Zipf requests: the share of them that go to the `capacity`
 * most popular ranks, which is what a cache always holding those would hit.
 */
export function zipfRequests({ s, items, requests, seed, scanEvery = 0, scanLength = 0, capacities = [] }) {
  const cumulative = new Float64Array(items)
  let total = 0
  for (let rank = 1; rank <= items; rank++) cumulative[rank - 1] = total += rank ** -s
  const random = seededRandom(seed)
  const keys = new Keys()
  const ideal = capacities.map(() => 0)
  let scanned = 0
  for (let i = 0; i < requests; i++) {
    if (scanEvery > 0 && i > 0 && i % scanEvery === 0) {
      for (let j = 0; j < scanLength; j++) keys.push(SCAN_BASE + scanned++)
    }
    const target = random() * total
    let low = 0
    let high = items - 1
    while (low < high) {
      const mid = (low + high) >>> 1
      if (cumulative[mid] < target) low = mid + 1
      else high = mid
    }
    keys.push(low + 1)
    capacities.forEach((capacity, c) => {
      if (low < capacity) ideal[c]++
    })
  }
  return { keys: keys.done(), ideal: ideal.map((hits) => hits / requests) }
}

/**
 * Replays `keys` read-through against a cache: a `get`, and on a miss a `set`. `get` and
 * `set` may return promises (they are awaited only then). Counts hits over every request
 * and over those below SCAN_BASE (the Zipf requests of a trace with scans).
 */
export async function replay(keys, { get, set }) {
  let hits = 0
  let counted = 0
  let countedHits = 0
  for (let i = 0; i < keys.length; i++) {
    const id = keys[i]
    const key = String(id)
    let found = get(key)
    if (found instanceof Promise) found = await found
    const hit = found !== undefined
    if (hit) hits++
    else {
      const written = set(key)
      if (written instanceof Promise) await written
    }
    if (id < SCAN_BASE) {
      counted++
      if (hit) countedHits++
    }
  }
  return { hitRatio: hits / keys.length, hitRatioOfCounted: countedHits / counted }
}
