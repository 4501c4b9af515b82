// Tiered (L1 memory + L2 Redis): bench/l2.js (see its header for what each case measures and
// the checks it makes), in a child process that starts its own redis-server on a free loopback
// port; its figures become suite rows. Needs redis-server on PATH: skipped otherwise.
import { nodeChild } from '../lib/common.js'
import { latencyColumns, latencyValues } from '../lib/report.js'

export const id = 'l2'
export const title = 'L1 + L2 (Redis)'
export const needsRedis = true

export async function run({ log }) {
  log('l2: bench/l2.js in a child process')
  const measured = await nodeChild(new URL('../l2.js', import.meta.url).href, [], { tag: 'RESULTS' })
  const rows = Object.entries(measured).map(([name, s]) => {
    const [scenario, contender] = name.split(' | ')
    return { case: scenario, contender, values: { seqOpsPerSec: s.seqOpsPerSec, inFlightOpsPerSec: s.inFlightOpsPerSec, ...latencyValues(s, 'us') } }
  })
  return {
    description: 'One redis-server on loopback for both libraries; ioredis (raw) is the floor (a bare GET/MGET). Sequential: one call in flight; 64 in flight: 64 calls launched, then awaited together. Latencies of single calls, in µs.',
    columns: [
      { key: 'seqOpsPerSec', label: 'seq ops/s', format: 'int', better: 'higher' },
      { key: 'inFlightOpsPerSec', label: '64-in-flight ops/s', format: 'int', better: 'higher' },
      ...latencyColumns('us'),
    ],
    primary: 'seqOpsPerSec',
    rows,
  }
}
