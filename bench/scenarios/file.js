// File L2 (SQLite in the engine) against bentocache's file driver: bench/file.js (see its
// header), in a child process; its figures become suite rows. No server needed.
import { nodeChild } from '../lib/common.js'
import { OPS_COLUMN, latencyColumns, latencyValues } from '../lib/report.js'

export const id = 'file'
export const title = 'L1 + file L2'

export async function run({ log }) {
  log('file: bench/file.js in a child process')
  const measured = await nodeChild(new URL('../file.js', import.meta.url).href, [], { tag: 'RESULTS' })
  const rows = Object.entries(measured).map(([name, s]) => {
    const [scenario, contender, mode] = name.split(' | ')
    // Latencies are of single calls in the latency mode only (the others time whole batches).
    const latency = mode === 'latency' ? latencyValues({ p50: s.p50 / 1000, p99: s.p99 / 1000, p999: s.p999 / 1000 }, 'us') : {}
    return { case: `${scenario}, ${mode}`, contender, values: { opsPerSec: s.opsPerSec, ...latency } }
  })
  return {
    description: 'get.l1miss: L1 of 100 over 5,000 keys, every read from disk; set: L1 + file write. latency: one awaited call per iteration (p50/p99/p99.9 in µs); sequential: batches of awaited calls; 64 in flight: 64 calls awaited together.',
    columns: [OPS_COLUMN, ...latencyColumns('us')],
    primary: 'opsPerSec',
    rows,
  }
}
