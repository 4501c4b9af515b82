/**
 * File-driver benchmark: rustocache's file L2 (SQLite in the Rust engine) side by side with
 * bentocache's own file driver (`bentocache/drivers/file`, one JSON file per key), in one
 * run, each in its own fresh temporary directory (removed at the end).
 *
 * Stores, built the same way for both libraries:
 *   - coldL1  L1 (maxItems 100) + file L2, over COLD_KEYS keys read in a cycle: the L1 holds at
 *             most 100 of them, so every read misses it and is served from disk (then copied
 *             into the L1). rustocache's counters prove it: 0 L1 hits, one L2 hit per op.
 *   - tiered  L1 + file L2, for `set` (one L1 write and one disk write per op).
 *   - l2only  file L2 alone: writes the keys before the timing, so no L1 starts with them.
 *
 * Scenarios (values are ~95-byte objects, as in bench/l2.js):
 *   1. get, L1 miss -> L2 hit   coldL1.get of a cold key
 *   2. set                      tiered.set of a key (same value each time round)
 *
 * Each (scenario, library) is measured in three tinybench tasks, warmed up right before:
 *   - latency     one awaited call per iteration: p50, p99;
 *   - sequential  BATCH awaited calls in a row per iteration: ops/s;
 *   - 64 in flight  64 calls launched, then awaited together: ops/s.
 * Every value read is checked during the timing; a miss or a wrong value aborts the run.
 *
 * The machine may be shared and noisy: compare the two libraries within one run only.
 * Run: `npm run bench:file` (builds first) or `node bench/file.js`. BENCH_TIME_MS (default
 * 1000) sets the time per task. The last line is `SUMMARY {json}` with the ratios.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { Bench } from 'tinybench'
import { BentoCache as BentoCacheJs, bentostore as bentostoreJs } from 'bentocache'
import { memoryDriver as memoryDriverJs } from 'bentocache/drivers/memory'
import { fileDriver as fileDriverJs } from 'bentocache/drivers/file'
import { BentoCache as RustoCache, bentostore as rustostore } from '../dist/index.js'
import { memoryDriver as rustoMemoryDriver } from '../dist/drivers/memory.js'
import { fileDriver as rustoFileDriver } from '../dist/drivers/file.js'
import { TIME_MS, WARMUP_MS, isValue, printTable, valueOf } from './lib/common.js'

const COLD_KEYS = 5_000
const COLD_L1_MAX_ITEMS = 100
const IN_FLIGHT = 64
const BATCH = 10
const RUSTO = 'rustocache'
const BENTO = 'bentocache'

const keys = Array.from({ length: COLD_KEYS }, (_, i) => `user:${i}`)
const values = keys.map((_, i) => valueOf(i))

const rustoDir = mkdtempSync(join(os.tmpdir(), 'bench-file-rusto-'))
const bentoDir = mkdtempSync(join(os.tmpdir(), 'bench-file-bento-'))
process.on('exit', () => {
  rmSync(rustoDir, { recursive: true, force: true })
  rmSync(bentoDir, { recursive: true, force: true })
})

function createCaches() {
  const rustoFile = () => rustoFileDriver({ directory: rustoDir, pruneInterval: false })
  const bentoFile = () => fileDriverJs({ directory: bentoDir, pruneInterval: false })
  const rusto = new RustoCache({
    default: 'tiered',
    stores: {
      tiered: rustostore().useL1Layer(rustoMemoryDriver({ maxItems: COLD_KEYS * 2 })).useL2Layer(rustoFile()),
      coldL1: rustostore().useL1Layer(rustoMemoryDriver({ maxItems: COLD_L1_MAX_ITEMS })).useL2Layer(rustoFile()),
      l2only: rustostore().useL2Layer(rustoFile()),
    },
  })
  const bento = new BentoCacheJs({
    default: 'tiered',
    stores: {
      tiered: bentostoreJs().useL1Layer(memoryDriverJs({ maxItems: COLD_KEYS * 2 })).useL2Layer(bentoFile()),
      coldL1: bentostoreJs().useL1Layer(memoryDriverJs({ maxItems: COLD_L1_MAX_ITEMS })).useL2Layer(bentoFile()),
      l2only: bentostoreJs().useL2Layer(bentoFile()),
    },
  })
  return { [RUSTO]: rusto, [BENTO]: bento }
}

function failed(name, i, value) {
  return new Error(`${name}: call #${i} returned ${JSON.stringify(value)?.slice(0, 200)}`)
}

/** The three tasks of one (scenario, library): `op(i)` makes one call on key i. */
function tasksOf(name, op, check, counter) {
  const cursor = { at: 0 }
  const next = () => (cursor.at = cursor.at + 1 === COLD_KEYS ? 0 : cursor.at + 1)
  const one = async () => {
    const i = next()
    counter.ops++
    const value = await op(i)
    if (check && !check(value, i)) throw failed(name, i, value)
  }
  return [
    ['latency', one],
    ['sequential', async () => { for (let n = 0; n < BATCH; n++) await one() }],
    [`${IN_FLIGHT} in flight`, async () => {
      const is = Array.from({ length: IN_FLIGHT }, next)
      counter.ops += IN_FLIGHT
      const got = await Promise.all(is.map(op))
      if (check) got.forEach((value, n) => { if (!check(value, is[n])) throw failed(name, is[n], value) })
    }],
  ]
}

async function main() {
  const caches = createCaches()
  try {
    // Written through an L2-only store, so that the coldL1 stores start with an empty L1.
    for (const cache of Object.values(caches)) {
      for (let start = 0; start < COLD_KEYS; start += 500) {
        await Promise.all(keys.slice(start, start + 500).map((key, n) => cache.use('l2only').set({ key, value: values[start + n] })))
      }
    }
    const scenarios = [
      { id: 'get.l1miss', title: `get, L1 miss -> L2 (file) hit (L1 of ${COLD_L1_MAX_ITEMS}, ${COLD_KEYS} keys cycled)`, perOp: 1,
        op: (cache) => (i) => cache.use('coldL1').get({ key: keys[i] }), check: isValue },
      { id: 'set', title: 'set (L1 + file write)', perOp: BATCH,
        op: (cache) => (i) => cache.use('tiered').set({ key: keys[i], value: values[i] }) },
    ]
    const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, iterations: 8, warmupIterations: 2, throws: true })
    const plan = []
    for (const scenario of scenarios) {
      for (const [library, cache] of Object.entries(caches)) {
        const counter = { ops: 0 }
        for (const [mode, fn] of tasksOf(`${scenario.id} | ${library}`, scenario.op(cache), scenario.check, counter)) {
          const name = `${scenario.id} | ${library} | ${mode}`
          bench.add(name, fn, { async: true })
          plan.push({ name, scenario, library, mode, counter, store: library === RUSTO ? cache.use('coldL1') : undefined })
        }
      }
    }
    console.log(`File-driver benchmark: ${COLD_KEYS} keys, ~${JSON.stringify(values[0]).length}-byte values, ${TIME_MS} ms per task after ${WARMUP_MS} ms warmup; node ${process.version}, ${os.cpus().length} CPUs\n`)

    const results = new Map()
    for (const item of plan) {
      const task = bench.tasks.find((t) => t.name === item.name)
      const before = { ops: item.counter.ops, stats: item.store?.getStats() }
      await task.warmup()
      await task.run()
      const { result } = task
      if (result.state !== 'completed') throw new Error(`task ${item.name} did not complete`, { cause: result.error })
      if (item.scenario.id === 'get.l1miss' && item.store) {
        const after = item.store.getStats()
        const ops = item.counter.ops - before.ops
        assert.equal(after.l1.hits - before.stats.l1.hits, 0, `${item.name}: L1 hits`)
        assert.equal(after.l2.hits - before.stats.l2.hits, ops, `${item.name}: L2 hits`)
      }
      const perIteration = item.mode === 'sequential' ? BATCH : item.mode === 'latency' ? 1 : IN_FLIGHT
      results.set(item.name, {
        opsPerSec: (result.latency.samplesCount * perIteration) / (result.totalTime / 1000),
        p50: result.latency.p50 * 1000,
        p99: result.latency.p99 * 1000,
        p999: result.latency.p999 * 1000,
      })
    }

    const rows = [['scenario', 'mode', `${RUSTO} ops/s`, `${BENTO} ops/s`, 'ratio', `${RUSTO} p50/p99 µs`, `${BENTO} p50/p99 µs`]]
    const summary = {}
    for (const scenario of scenarios) {
      for (const mode of ['latency', 'sequential', `${IN_FLIGHT} in flight`]) {
        const r = results.get(`${scenario.id} | ${RUSTO} | ${mode}`)
        const b = results.get(`${scenario.id} | ${BENTO} | ${mode}`)
        const ratio = r.opsPerSec / b.opsPerSec
        summary[`${scenario.id} ${mode}`] = Number(ratio.toFixed(2))
        const lat = (x) => (mode === 'latency' ? `${x.p50.toFixed(1)} / ${x.p99.toFixed(1)}` : '')
        rows.push([scenario.title, mode, Math.round(r.opsPerSec).toLocaleString('en-US'), Math.round(b.opsPerSec).toLocaleString('en-US'), `${ratio.toFixed(2)}x`, lat(r), lat(b)])
      }
    }
    printTable(rows)
    console.log('\nratio = rustocache ops/s / bentocache ops/s (higher is better for rustocache)')
    console.log(`SUMMARY ${JSON.stringify(summary)}`)
    // For bench/run.js: every (scenario, library, mode)'s figures (latencies in µs).
    console.log(`RESULTS ${JSON.stringify(Object.fromEntries(results))}`)
  } finally {
    await Promise.allSettled(Object.values(caches).map((cache) => cache.disconnectAll()))
  }
}

await main()
