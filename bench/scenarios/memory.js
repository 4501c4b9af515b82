// Memory: bytes per entry (V8 heap and RSS) for 1,000,000 entries (100,000 with --quick), the
// time of a full GC with them live, and
// the longest GC pause and event-loop delay during a 90/10 get/set load (30 s per contender,
// 5 s with --quick, 1 s in a smoke run), each contender in a child process of its own started
// with --expose-gc. The code is bench/memory.js's.
import { TIME_MS } from '../lib/common.js'
import { CONTENDERS, LOAD_CONTENDERS, bytesPerEntry, loadFigures } from '../memory.js'

export const id = 'memory'
export const title = 'Memory per entry, GC pauses and event-loop delay'

export async function run({ quick, log }) {
  const entries = quick ? 100_000 : 1_000_000
  const loadEntries = quick ? 50_000 : 200_000
  const loadMs = quick ? Math.min(5_000, Math.max(1_000, TIME_MS * 20)) : 30_000
  const rows = []
  const perEntry = `bytes per entry (${entries.toLocaleString('en')} entries)`
  for (const name of CONTENDERS) {
    log(`memory: ${name}, ${entries} entries`)
    const r = await bytesPerEntry(name, entries)
    rows.push({ case: perEntry, contender: name, values: { heapB: r.heap, rssB: r.rss, fullGcMs: r.fullGcMs } })
  }
  const load = `90/10 get/set load (${loadEntries.toLocaleString('en')} entries, ${loadMs / 1000} s)`
  for (const name of LOAD_CONTENDERS) {
    log(`memory: ${name}, ${loadMs} ms of 90/10 load`)
    const r = await loadFigures(name, loadEntries, loadMs)
    rows.push({ case: load, contender: name, values: { opsPerSec: r.opsPerSec, gcMaxMs: r.gcMaxMs, gcTotalMs: r.gcTotalMs, loopP99Ms: r.loopP99Ms, loopMaxMs: r.loopMaxMs } })
  }
  return {
    description: 'One child process per contender and measure (node --expose-gc). Bytes per entry: growth of V8 heapUsed and RSS over a gc() before and after filling, divided by the entries; full GC: the median time of 5 gc() calls with the filled cache live. Load: random keys, 90 % get, 10 % set, yielding to the event loop every 200 ops.',
    columns: [
      { key: 'heapB', label: 'heap B/entry', format: 'int', better: 'lower', exact: true, tolerance: 10 },
      { key: 'rssB', label: 'RSS B/entry', format: 'int', better: 'lower', exact: true, tolerance: 25 },
      { key: 'fullGcMs', label: 'full GC ms', format: 'ms', better: 'lower', exact: true, tolerance: 5 },
      { key: 'opsPerSec', label: 'load ops/s', format: 'int' },
      { key: 'gcMaxMs', label: 'GC max ms', format: 'ms', better: 'lower', exact: true, tolerance: 5 },
      { key: 'gcTotalMs', label: 'GC total ms', format: 'ms' },
      { key: 'loopP99Ms', label: 'loop delay p99 ms', format: 'ms', better: 'lower', exact: true, tolerance: 5 },
      { key: 'loopMaxMs', label: 'loop delay max ms', format: 'ms' },
    ],
    primary: 'rssB',
    rows,
    notes: ['map: a bare Map, the floor. The GC and loop-delay figures are single runs: on a shared machine they are noisy, and --compare flags them only past a tolerance (5 ms).'],
  }
}
