// Adversarial access patterns, read-through (a get, and a set on a miss, as bench/traces.js
// replays), every contender bounded to the same number of entries:
//   - hotspot      1 % of the keys get 99 % of the requests, the rest spread over all keys
//   - LRU killer   a loop over a working set 10x the capacity: plain LRU evicts each key just
//                  before it comes back, and hits nothing
//   - random       uniform over 10x the capacity: no locality, no policy can beat capacity/keys
//   - Zipf 0.99    Zipf-distributed over 10x the capacity (s = 0.99, as YCSB)
// Measured per contender: ops/s (requests per second, a miss's set included) and the hit
// ratio. Each sample replays the whole workload into a new, empty cache; the requests are
// seeded, so every run and contender replays the same ones.
import { CACHE_MANAGER_BOUNDED, LRU, BENTO, RUSTO, createContender } from '../lib/contenders.js'
import { valueOf } from '../lib/common.js'
import { mean, median } from '../lib/stats.js'
import { OPS_COLUMN } from '../lib/report.js'
import { replay, seededRandom, zipfRequests } from '../traces.js'

const CONTENDERS = [RUSTO, BENTO, LRU, CACHE_MANAGER_BOUNDED]
const VALUE = valueOf(1)

function workloads({ capacity, requests }) {
  const keySpace = capacity * 10
  const uniform = (seed, n, range) => {
    const random = seededRandom(seed)
    return Float64Array.from({ length: n }, () => Math.floor(random() * range))
  }
  const hot = Math.max(1, Math.round(keySpace / 100))
  const hotRandom = seededRandom(7)
  return [
    {
      name: 'hotspot (1 % of keys, 99 % of requests)',
      keys: Float64Array.from({ length: requests }, () => (hotRandom() < 0.99 ? Math.floor(hotRandom() * hot) : Math.floor(hotRandom() * keySpace))),
    },
    { name: 'LRU killer (loop over 10x capacity)', keys: Float64Array.from({ length: requests }, (_, i) => i % keySpace) },
    { name: 'random keys (10x capacity)', keys: uniform(11, requests, keySpace) },
    { name: 'Zipf s=0.99 (10x capacity)', keys: zipfRequests({ s: 0.99, items: keySpace, requests, seed: 42 }).keys },
  ]
}

export const id = 'adversarial'
export const title = 'Adversarial access patterns'

export async function run({ quick, samples, log }) {
  const capacity = quick ? 2_000 : 10_000
  const requests = quick ? 100_000 : 500_000
  const rows = []
  const all = workloads({ capacity, requests })
  for (const workload of all) {
    for (const name of CONTENDERS) rows.push({ case: workload.name, contender: name, values: {}, samples: { opsPerSec: [], hitRatio: [] } })
  }
  for (let round = 0; round < samples; round++) {
    for (const workload of all) {
      log(`adversarial: ${workload.name}, round ${round + 1} of ${samples}`)
      for (const row of rows.filter((r) => r.case === workload.name)) {
        const cache = createContender(row.contender, { maxItems: capacity })
        const started = process.hrtime.bigint()
        const { hitRatio } = await replay(workload.keys, { get: (key) => cache.get(key), set: (key) => cache.set(key, VALUE) })
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        await cache.close()
        row.samples.opsPerSec.push(workload.keys.length / seconds)
        row.samples.hitRatio.push(hitRatio * 100)
      }
    }
  }
  for (const row of rows) {
    row.values.opsPerSec = median(row.samples.opsPerSec)
    row.values.hitRatio = mean(row.samples.hitRatio)
  }
  return {
    description: `capacity ${capacity.toLocaleString('en')} entries (maxItems), ${requests.toLocaleString('en')} requests per workload, read-through; ops/s: median of ${samples} replays; hit %: their mean.`,
    columns: [
      OPS_COLUMN,
      { key: 'hitRatio', label: 'hit %', format: 'pct', better: 'higher' },
    ],
    primary: 'opsPerSec',
    rows,
    notes: ["cache-manager here: a Keyv over an lru-cache of the same capacity (its default store is unbounded, so its hit ratio would say nothing)."],
  }
}
