// Memory per entry: how many bytes of V8 heap (what the garbage collector must trace)
// and of process RSS one cached entry costs, for 1,000,000 entries of the ~95-byte object
// the L1 benchmark uses, and how long one full collection (`gc()`) takes with them live.
// Each contender runs in a child process of its own, so one's garbage cannot be counted
// against another.
//
// And, with `--gc-load`: the longest GC pause (a PerformanceObserver on 'gc') and the
// event-loop delay (perf_hooks monitorEventLoopDelay, 1 ms resolution: p99 and max) while a
// 90/10 get/set load runs against a filled cache (LOAD_ENTRIES keys, random keys, seeded), for
// LOAD_MS (default 30 s) per contender. The load yields to the event loop every CHUNK ops, as a
// server handling requests does, so the delay is what a request arriving then would wait.
//
//   node --expose-gc bench/memory.js            (after `npm run build`)
//   ENTRIES=200000 node --expose-gc bench/memory.js
//   LOAD_MS=5000 node --expose-gc bench/memory.js --gc-load
//   npm run bench -- --only memory              (both, in the suite's results)
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { isMain, nodeChild } from './lib/common.js'
import { BENTO, LRU, RUSTO, RUSTO_NO_SER, createContender } from './lib/contenders.js'
import { seededRandom } from './traces.js'

export const CONTENDERS = ['map', LRU, BENTO, RUSTO, RUSTO_NO_SER]
/** The contenders of the GC-pause load. */
export const LOAD_CONTENDERS = [RUSTO, LRU, BENTO]
const CHUNK = 200
/** Full collections timed per contender; their median is reported. */
const FULL_GCS = 5

const valueOf = (i) => ({ id: i, name: `user number ${i}`, tags: ['alpha', 'beta', 'gamma', 'delta'] })

/** Builds one contender (maxItems = entries) and returns its cache interface. */
function build(name, entries) {
  if (name === 'map') {
    const map = new Map()
    return { get: (key) => map.get(key), set: (key, value) => map.set(key, value) }
  }
  return createContender(name, { maxItems: entries })
}

/** The median time of one full collection (`gc()`), in ms, over FULL_GCS of them. */
function fullGcMs() {
  const times = []
  for (let n = 0; n < FULL_GCS; n++) {
    const started = process.hrtime.bigint()
    globalThis.gc()
    times.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return times.sort((a, b) => a - b)[FULL_GCS >> 1]
}

/**
 * In a child: fills one contender and prints its bytes per entry, and the time of a full
 * collection with the filled cache live, as JSON.
 */
async function measure(name, entries) {
  const cache = build(name, entries)
  // Held by a global: once the loop is done, nothing else would keep the cache alive, and
  // the collector would free it before it is measured.
  globalThis.contender = cache
  globalThis.gc()
  const before = process.memoryUsage()
  for (let i = 0; i < entries; i++) await cache.set(`user:${i}`, valueOf(i))
  globalThis.gc()
  const after = process.memoryUsage()
  const perEntry = (field) => Math.round((after[field] - before[field]) / entries)
  console.log(JSON.stringify({ name, heap: perEntry('heapUsed'), rss: perEntry('rss'), fullGcMs: fullGcMs() }))
}

/** In a child: the 90/10 load on a filled contender; prints GC and event-loop figures as JSON. */
async function gcLoad(name, entries, durationMs) {
  const cache = build(name, entries)
  for (let i = 0; i < entries; i++) await cache.set(`user:${i}`, valueOf(i))
  globalThis.gc()
  const keys = Array.from({ length: entries }, (_, i) => `user:${i}`)
  const random = seededRandom(5)
  let gcMaxMs = 0
  let gcCount = 0
  let gcTotalMs = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++
      gcTotalMs += entry.duration
      gcMaxMs = Math.max(gcMaxMs, entry.duration)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const deadline = Date.now() + durationMs
  let ops = 0
  let hits = 0
  const started = process.hrtime.bigint()
  while (Date.now() < deadline) {
    for (let n = 0; n < CHUNK; n++) {
      const i = Math.floor(random() * entries)
      if (random() < 0.9) {
        let v = cache.get(keys[i])
        if (v instanceof Promise) v = await v
        if (v !== undefined) hits++
      } else {
        const w = cache.set(keys[i], valueOf(i))
        if (w instanceof Promise) await w
      }
    }
    ops += CHUNK
    await new Promise((resolve) => setImmediate(resolve))
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  delay.disable()
  // Let the observer hear of the last collections.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  console.log(JSON.stringify({
    name,
    opsPerSec: ops / seconds,
    hitRatio: hits / (ops * 0.9),
    gcMaxMs,
    gcCount,
    gcTotalMs,
    loopP99Ms: delay.percentile(99) / 1e6,
    loopMaxMs: delay.max / 1e6,
  }))
}

const run = (args) => nodeChild(import.meta.url, args, { nodeFlags: ['--expose-gc'] })

/** Bytes per entry of `name` for `entries` entries, measured in a child process. */
export const bytesPerEntry = (name, entries) => run(['--child', name, String(entries)])
/** The GC-pause load of `name`, in a child process. */
export const loadFigures = (name, entries, durationMs) => run(['--child-load', name, String(entries), String(durationMs)])

if (isMain(import.meta.url)) {
  const [mode, name, entries, duration] = process.argv.slice(2)
  if (mode === '--child') await measure(name, Number(entries))
  else if (mode === '--child-load') await gcLoad(name, Number(entries), Number(duration))
  else if (mode === '--gc-load') {
    const ms = Number(process.env.LOAD_MS ?? 30_000)
    const n = Number(process.env.LOAD_ENTRIES ?? 200_000)
    console.log(`90/10 get/set load, ${n.toLocaleString()} entries, ${ms} ms per contender (one process each)\n`)
    console.log('contender'.padEnd(30) + 'ops/s'.padStart(12) + 'GC max ms'.padStart(11) + 'loop p99 ms'.padStart(13) + 'loop max ms'.padStart(13))
    for (const contender of LOAD_CONTENDERS) {
      const r = await loadFigures(contender, n, ms)
      console.log(contender.padEnd(30) + String(Math.round(r.opsPerSec)).padStart(12) + r.gcMaxMs.toFixed(1).padStart(11) + r.loopP99Ms.toFixed(1).padStart(13) + r.loopMaxMs.toFixed(1).padStart(13))
    }
  } else {
    const n = Number(process.env.ENTRIES ?? 1_000_000)
    console.log(`Memory per entry, ${n.toLocaleString()} entries of a ~95-byte object (one process each)\n`)
    console.log('contender'.padEnd(30) + 'V8 heap B/entry'.padStart(16) + 'RSS B/entry'.padStart(14) + 'full GC ms'.padStart(12))
    for (const contender of CONTENDERS) {
      const { heap, rss, fullGcMs } = await bytesPerEntry(contender, n)
      console.log(contender.padEnd(30) + String(heap).padStart(16) + String(rss).padStart(14) + fullGcMs.toFixed(1).padStart(12))
    }
  }
}
