/**
 * L1 (in-memory) benchmark: rustocache side by side with bentocache, lru-cache and cache-manager.
 *
 * What is measured, for each cache ("contender"), on a warm cache where every read is a hit:
 *   - get       a read of a present key
 *   - getOrSet  a read through the "compute on miss" API (bentocache getOrSet, lru-cache fetch,
 *               cache-manager wrap); the factory never runs, and throws if it ever does
 *   - set       an overwrite of a present key
 *
 * Why: rustocache is a drop-in for bentocache, so the number that matters is how fast the same
 * calls are, in the same serialize mode; lru-cache (a bare synchronous Map with LRU bookkeeping)
 * is the floor a JS cache can hope for, and cache-manager is a popular alternative.
 *
 * How: one process, one tinybench Bench. Every cache holds the same 10,000 keys `user:<i>` with a
 * ~95-byte object value; maxItems is above that, so nothing is evicted. Each task cycles through
 * the 10k keys (not one hot key). Promise-returning calls are awaited, as users do; synchronous
 * ones (lru-cache get/set) are not. Each task is warmed up right before it is timed.
 * Before timing, every cache is checked to hold every key with the expected value.
 * Each (operation, contender) pair runs twice. For p50 and p99, each call is timed on its own,
 * so every latency includes tinybench's per-call bookkeeping (a timer read, and an await for
 * async tasks: some tens to a couple hundred ns). For ops/s, each timed iteration makes
 * BATCH calls in a row, which spreads that bookkeeping over them, so fast contenders are not
 * flattened towards the timer's own cost and the ratios are those of the calls themselves.
 *
 * Run: `npm run build && node bench/l1.js`. BENCH_TIME_MS (default 1000) sets the time per task,
 * e.g. BENCH_TIME_MS=50 for a CI smoke run. The last line is `SUMMARY {json}` with the
 * rustocache/bentocache ops/s ratios.
 */
import assert from 'node:assert/strict'
import { Bench } from 'tinybench'
import { BentoCache as BentoCacheJs, bentostore as bentostoreJs } from 'bentocache'
import { memoryDriver as memoryDriverJs } from 'bentocache/drivers/memory'
import { LRUCache } from 'lru-cache'
import { createCache } from 'cache-manager'
import { BentoCache as RustoCache, bentostore as rustostore } from '../dist/index.js'
import { memoryDriver as rustoMemoryDriver } from '../dist/drivers/memory.js'

const KEY_COUNT = 10_000
const MAX_ITEMS = KEY_COUNT * 2
const TIME_MS = positiveNumber(process.env.BENCH_TIME_MS, 1000)
const WARMUP_MS = Math.max(10, Math.round(TIME_MS / 4))
/** Calls per timed iteration of the throughput tasks. */
const BATCH = 100

// ---------------------------------------------------------------------------------------------
// Data: the same keys and values for every cache.

const keys = Array.from({ length: KEY_COUNT }, (_, i) => `user:${i}`)
const values = keys.map((_, i) => ({
  id: i,
  name: `User ${String(i).padStart(5, '0')} Ada Lovelace`,
  tags: ['admin', 'beta-tester', 'eu-west-1', 'premium'],
}))

/** The factory given to every getOrSet-like call. The benchmark measures hits only. */
function missFactory() {
  throw new Error('getOrSet missed: the factory ran, so this was not a cache hit')
}

// ---------------------------------------------------------------------------------------------
// Contenders. Each one builds a cache and exposes the three measured operations as
// (key) => result, (key) => result and (key, value) => result.

/** A bentocache-style cache (bentocache itself or rustocache) over one memory store. */
function bentoLike(BentoCache, bentostore, memoryDriver, serialize) {
  const cache = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX_ITEMS, serialize })) },
  })
  return {
    get: (key) => cache.get({ key }),
    getOrSet: (key) => cache.getOrSet({ key, factory: missFactory }),
    set: (key, value) => cache.set({ key, value }),
  }
}

function lruCache() {
  const cache = new LRUCache({ max: MAX_ITEMS, fetchMethod: missFactory })
  return {
    get: (key) => cache.get(key),
    getOrSet: (key) => cache.fetch(key),
    set: (key, value) => cache.set(key, value),
  }
}

/** cache-manager 7 with its default store (an unbounded in-memory Keyv). */
function cacheManager() {
  const cache = createCache()
  return {
    get: (key) => cache.get(key),
    getOrSet: (key) => cache.wrap(key, missFactory),
    set: (key, value) => cache.set(key, value),
  }
}

const BENTO = 'bentocache'
const BENTO_NO_SER = 'bentocache (serialize:false)'
const LRU = 'lru-cache'

/** `baseline`: the bentocache row each contender's ops/s is compared with. */
const contenders = [
  { name: 'rustocache', baseline: BENTO, create: () => bentoLike(RustoCache, rustostore, rustoMemoryDriver, true) },
  { name: 'rustocache (serialize:false)', baseline: BENTO_NO_SER, create: () => bentoLike(RustoCache, rustostore, rustoMemoryDriver, false) },
  { name: BENTO, baseline: BENTO, create: () => bentoLike(BentoCacheJs, bentostoreJs, memoryDriverJs, true) },
  { name: BENTO_NO_SER, baseline: BENTO_NO_SER, create: () => bentoLike(BentoCacheJs, bentostoreJs, memoryDriverJs, false) },
  { name: LRU, baseline: BENTO, create: lruCache },
  { name: 'cache-manager', baseline: BENTO, create: cacheManager },
]

const operations = [
  { name: 'get', call: (cache, i) => cache.get(keys[i]) },
  { name: 'getOrSet', call: (cache, i) => cache.getOrSet(keys[i]) },
  { name: 'set', call: (cache, i) => cache.set(keys[i], values[i]) },
]

// ---------------------------------------------------------------------------------------------
// Setup and checks.

/** Fills `cache` with every key, then checks every key reads back, through get and getOrSet. */
async function fillAndCheck(name, cache) {
  for (let i = 0; i < KEY_COUNT; i++) await cache.set(keys[i], values[i])
  await checkAllHits(name, cache)
  const sample = Math.floor(KEY_COUNT / 2)
  assert.deepStrictEqual(await cache.getOrSet(keys[sample]), values[sample], `${name}: getOrSet(${keys[sample]}) is wrong`)
}

/** Throws unless every key is present in `cache` with its expected value. */
async function checkAllHits(name, cache) {
  for (let i = 0; i < KEY_COUNT; i++) {
    const got = await cache.get(keys[i])
    if (got === undefined) throw new Error(`${name}: ${keys[i]} is missing: a measured get would not be a hit`)
    assert.deepStrictEqual(got, values[i], `${name}: get(${keys[i]}) returned the wrong value`)
  }
}

/** Whether `fn` returns a promise: such calls are awaited by the benchmark, others are not. */
function returnsPromise(fn) {
  return typeof fn()?.then === 'function'
}

/** A task function calling `operation` on `cache`, one key further on each call. */
function cyclingTask(cache, operation) {
  let i = 0
  return () => {
    i = i + 1 === KEY_COUNT ? 0 : i + 1
    return operation.call(cache, i)
  }
}

/** A task function making BATCH calls of `step` in a row, awaiting each if `async`. */
function batchTask(step, async) {
  if (!async) {
    return () => {
      for (let n = 0; n < BATCH; n++) step()
    }
  }
  return async () => {
    for (let n = 0; n < BATCH; n++) await step()
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting.

/** The result of a finished task, or an error saying why it did not finish. */
function resultOf(task) {
  const { result } = task
  if (result.state !== 'completed') {
    throw new Error(`task "${task.name}" did not complete (${result.state})`, { cause: result.error })
  }
  return result
}

/**
 * ops/s from the throughput task: calls per second of measured time, BATCH * 1000 / mean
 * iteration time (ms). Not tinybench's `throughput.mean`: that is the mean of each
 * iteration's own rate, which overweights the fastest ones and ignores most of the cost of
 * slow ones (GC pauses), so it overstates ops/s, by more the heavier a contender's tail.
 * p50 and p99 from the latency task, one call per iteration.
 */
function statsOf(latencyTask, throughputTask) {
  const latency = resultOf(latencyTask).latency
  return {
    opsPerSec: (BATCH * 1000) / resultOf(throughputTask).latency.mean,
    p50Ns: latency.p50 * 1e6,
    p99Ns: latency.p99 * 1e6,
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const ratio = (a, b) => (a / b).toFixed(2) + 'x'

/** Prints `rows` (arrays of strings) as aligned columns; the first row is the header. */
function printTable(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)))
  const line = (row) => row.map((cell, col) => (col < 2 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ')
  console.log(line(rows[0]))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) console.log(line(row))
}

function positiveNumber(text, fallback) {
  const n = Number(text)
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : fallback
}

// ---------------------------------------------------------------------------------------------
// Main.

async function main() {
  const caches = new Map()
  for (const contender of contenders) {
    const cache = contender.create()
    await fillAndCheck(contender.name, cache)
    caches.set(contender.name, cache)
  }

  const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, throws: true })
  for (const operation of operations) {
    for (const contender of contenders) {
      const cache = caches.get(contender.name)
      const fn = cyclingTask(cache, operation)
      const async = returnsPromise(fn)
      bench.add(`${operation.name} | ${contender.name} | latency`, fn, { async })
      bench.add(`${operation.name} | ${contender.name} | throughput`, batchTask(fn, async), { async })
    }
  }

  console.log(
    `L1 benchmark: ${KEY_COUNT} keys, ${JSON.stringify(values[0]).length}-byte values, ` +
      `${TIME_MS} ms per task after ${WARMUP_MS} ms warmup, ops/s from batches of ${BATCH} calls; node ${process.version}\n`,
  )
  // Warm each task up right before timing it, rather than all tasks up front.
  for (const task of bench.tasks) {
    await task.warmup()
    await task.run()
  }

  // The sets overwrote keys with the same values and no getOrSet factory ran: still all hits.
  for (const [name, cache] of caches) await checkAllHits(name, cache)

  const tasks = new Map(bench.tasks.map((task) => [task.name, task]))
  const stats = (operation, contender) =>
    statsOf(tasks.get(`${operation} | ${contender} | latency`), tasks.get(`${operation} | ${contender} | throughput`))

  const rows = [['operation', 'contender', 'ops/s', 'p50 (ns)', 'p99 (ns)', 'vs bentocache', 'vs lru-cache']]
  for (const operation of operations) {
    for (const contender of contenders) {
      const s = stats(operation.name, contender.name)
      rows.push([
        operation.name,
        contender.name,
        integer.format(s.opsPerSec),
        integer.format(s.p50Ns),
        integer.format(s.p99Ns),
        ratio(s.opsPerSec, stats(operation.name, contender.baseline).opsPerSec),
        ratio(s.opsPerSec, stats(operation.name, LRU).opsPerSec),
      ])
    }
  }
  printTable(rows)
  console.log('\nvs bentocache: ops/s over bentocache in the same serialize mode (lru-cache and cache-manager: over bentocache default).')

  const rustoOverBento = (operation, rusto, bento) =>
    Number((stats(operation, rusto).opsPerSec / stats(operation, bento).opsPerSec).toFixed(3))
  const summary = { timeMs: TIME_MS }
  for (const operation of ['get', 'getOrSet', 'set']) {
    summary[`${operation}.serialize`] = rustoOverBento(operation, 'rustocache', BENTO)
    summary[`${operation}.noSerialize`] = rustoOverBento(operation, 'rustocache (serialize:false)', BENTO_NO_SER)
  }
  console.log('SUMMARY ' + JSON.stringify(summary))
}

await main()
