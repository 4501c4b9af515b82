// L1 hot path: rustocache side by side with bentocache, lru-cache and cache-manager, on a warm
// cache (moved here from bench/l1.js).
//
// Measured, for each cache ("contender"), serialize true and false for the two bentocache-like
// ones:
//   - get       a read of a present key
//   - getOrSet  a read through the "compute on miss" API (bentocache getOrSet, lru-cache fetch,
//               cache-manager wrap); the factory never runs, and throws if it ever does
//   - set       an overwrite of a present key
//   - has       whether a present key is there (cache-manager: its Keyv store's has())
//   - delete    a removal of a present key: the key is written back before each timed
//               iteration, outside the timing (tinybench's beforeEach)
//
// How: every cache holds the same 10,000 keys `user:<i>` with a ~95-byte object value;
// maxItems is above that, so nothing is evicted. Each task cycles through the keys. Promise-
// returning calls are awaited, as users do; synchronous ones (lru-cache) are not. p50, p99 and
// p99.9 time each call on its own (tinybench's per-call bookkeeping included: a timer read and,
// for async calls, an await). ops/s come from iterations of BATCH calls in a row, which spread
// that bookkeeping, so the ratios are those of the calls themselves; each sample of ops/s is
// one timed run of TIME_MS, and the samples of all contenders are taken in turns (round-robin),
// so a slow spell of the machine hits them alike.
import assert from 'node:assert/strict'
import { Bench } from 'tinybench'
import { BENTO, BENTO_NO_SER, CACHE_MANAGER, LRU, LRU_AWAITED, RUSTO, RUSTO_NO_SER, createContender } from '../lib/contenders.js'
import { TIME_MS, WARMUP_MS, batchTask, missFactory, resultOf, returnsPromise, userKeys, valueOf } from '../lib/common.js'
import { median } from '../lib/stats.js'
import { OPS_COLUMN, latencyColumns, latencyValues } from '../lib/report.js'

const KEY_COUNT = 10_000
const MAX_ITEMS = KEY_COUNT * 2
/** Calls per timed iteration of the throughput tasks. */
const BATCH = 100

const keys = userKeys(KEY_COUNT)
const values = keys.map((_, i) => valueOf(i))

const CONTENDERS = [RUSTO, RUSTO_NO_SER, BENTO, BENTO_NO_SER, LRU, LRU_AWAITED, CACHE_MANAGER]

const OPERATIONS = [
  { name: 'get', call: (cache, i) => cache.get(keys[i]) },
  { name: 'getOrSet', call: (cache, i) => cache.getOrSet(keys[i], missFactory) },
  { name: 'set', call: (cache, i) => cache.set(keys[i], values[i]) },
  { name: 'has', call: (cache, i) => cache.has(keys[i]) },
  // The key is put back before each iteration (see `refill` below), outside the timing.
  { name: 'delete', call: (cache, i) => cache.delete(keys[i]), refill: true },
]

async function fill(cache) {
  for (let i = 0; i < KEY_COUNT; i++) await cache.set(keys[i], values[i])
}

/** Throws unless every key is present in `cache` with its expected value. */
async function checkAllHits(name, cache) {
  for (let i = 0; i < KEY_COUNT; i++) {
    const got = await cache.get(keys[i])
    if (got === undefined) throw new Error(`${name}: ${keys[i]} is missing: a measured get would not be a hit`)
    assert.deepStrictEqual(got, values[i], `${name}: get(${keys[i]}) returned the wrong value`)
  }
  const sample = Math.floor(KEY_COUNT / 2)
  assert.deepStrictEqual(await cache.getOrSet(keys[sample], missFactory), values[sample], `${name}: getOrSet(${keys[sample]}) is wrong`)
  assert.equal(await cache.has(keys[sample]), true, `${name}: has(${keys[sample]})`)
}

/**
 * The function of one timed iteration, `calls` calls of `operation` on consecutive keys, and
 * the tinybench options it needs (for delete, a beforeEach writing back the keys it deletes).
 */
function taskOf(cache, operation, calls) {
  const cursor = { at: 0, start: 0 }
  const step = () => {
    cursor.at = cursor.at + 1 === KEY_COUNT ? 0 : cursor.at + 1
    return operation.call(cache, cursor.at)
  }
  const async = returnsPromise(step)
  const fn = calls === 1 ? step : batchTask(step, async, calls)
  const options = { async }
  if (operation.refill) {
    // Synchronous for a synchronous cache: an async hook would put an await before every
    // timed call of a task that has none.
    const refill = (n) => (n + 1 === KEY_COUNT ? 0 : n + 1)
    options.beforeEach = async
      ? async () => {
          for (let n = 0, i = cursor.at; n < calls; n++) await cache.set(keys[(i = refill(i))], values[i])
        }
      : () => {
          for (let n = 0, i = cursor.at; n < calls; n++) cache.set(keys[(i = refill(i))], values[i])
        }
  }
  return { fn, options }
}

/** One tinybench run of `fn`: its latency statistics (ms per iteration). */
async function timed(name, { fn, options }) {
  const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, throws: true })
  bench.add(name, fn, options)
  const [task] = bench.tasks
  await task.warmup()
  await task.run()
  return resultOf(task).latency
}

export const id = 'l1'
export const title = 'L1 hot path'

export async function run({ samples, log }) {
  const caches = new Map()
  for (const name of CONTENDERS) {
    const cache = createContender(name, { maxItems: MAX_ITEMS })
    await fill(cache)
    await checkAllHits(name, cache)
    caches.set(name, cache)
  }
  const rows = []
  for (const operation of OPERATIONS) {
    for (const name of CONTENDERS) {
      const cache = caches.get(name)
      log(`l1: ${operation.name} | ${name}: latency`)
      const latency = await timed(`${operation.name} | ${name} | latency`, taskOf(cache, operation, 1))
      rows.push({ case: operation.name, contender: name, values: latencyValues(latency, 'ns'), samples: { opsPerSec: [] } })
      if (operation.refill) await fill(cache)
    }
  }
  // ops/s: the samples of every (operation, contender) in turns.
  for (let round = 0; round < samples; round++) {
    log(`l1: ops/s, round ${round + 1} of ${samples}`)
    for (const row of rows) {
      const operation = OPERATIONS.find((o) => o.name === row.case)
      const cache = caches.get(row.contender)
      const latency = await timed(`${row.case} | ${row.contender} | throughput`, taskOf(cache, operation, BATCH))
      // Calls per second of measured time (not tinybench's mean of per-iteration rates, which
      // overweights the fastest iterations and hides GC pauses).
      row.samples.opsPerSec.push((BATCH * 1000) / latency.mean)
      if (operation.refill) await fill(cache)
    }
  }
  // The sets overwrote keys with the same values, deletes were written back, no factory ran.
  for (const [name, cache] of caches) await checkAllHits(name, cache)
  await Promise.all([...caches.values()].map((cache) => cache.close()))
  for (const row of rows) row.values.opsPerSec = median(row.samples.opsPerSec)
  return {
    description:
      `${KEY_COUNT.toLocaleString('en')} keys, ~${JSON.stringify(values[0]).length}-byte values, all hits; ${TIME_MS} ms per task after ${WARMUP_MS} ms warmup; ` +
      `ops/s: median of ${samples} runs, each of batches of ${BATCH} calls; p50/p99/p99.9: single calls, in ns (tinybench's per-call cost included).`,
    columns: [OPS_COLUMN, ...latencyColumns('ns')],
    primary: 'opsPerSec',
    rows,
    notes: [
      'cache-manager: its default store (an unbounded in-memory Keyv); has() is its Keyv store\'s. lru-cache calls are synchronous, not awaited; lru-cache (awaited) holds each value as a promise settled at its set and hands it back (other calls: shared settled promises), awaited: the floor of any promise-returning call.',
      'delete: the key is written back before each timed iteration, outside the timing. lru-cache deletes the key it has just written slowly (tens of µs, also timed outside tinybench), hence its p50; its ops/s rows delete 100 keys written in a batch.',
    ],
  }
}
