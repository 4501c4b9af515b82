// Hit ratio: bench/hit_ratio.js's replays (real traces of ../shared/traces and seeded Zipf
// requests, read-through) of rustocache's W-TinyLFU against plain LRU (lru-cache) at equal
// capacity, as suite rows. Its own checks stand: LRU on OLTP must give the published figures,
// or the trace reader is wrong and the scenario fails. Hit ratios are exact (the same requests
// give the same ratios, give or take the engine's batched policy updates), so --compare flags
// a change of more than half a point, without a test.
import { hitRatios } from '../hit_ratio.js'

export const id = 'hit-ratio'
export const title = 'Hit ratio (traces and Zipf)'

export async function run({ quick, log }) {
  const printed = []
  const results = await hitRatios({ quick, printer: (line) => printed.push(line), log })
  const rows = []
  const add = (name, r) => {
    const targets = r.targets.map((t) => `${t.name} ${t.met ? 'met' : 'NOT MET'}`).join('; ')
    rows.push({ case: `${name} @ ${r.capacity}`, contender: 'rustocache', values: { hitRatio: r.rustocache, vsLru: r.rustocache - r.lru, targets } })
    rows.push({ case: `${name} @ ${r.capacity}`, contender: 'lru-cache', values: { hitRatio: r.lru } })
  }
  for (const r of results.traces) add(r.trace, r)
  for (const r of results.zipf) add(r.scenario, r)
  return {
    description: `Read-through replays at equal capacity (entries); hit % over the counted requests. ${quick ? 'Quick: a few capacities of OLTP and loop, one Zipf case.' : 'Every trace found and every Zipf case.'}`,
    columns: [
      { key: 'hitRatio', label: 'hit %', format: 'pct', better: 'higher', exact: true, tolerance: 0.5 },
      { key: 'vsLru', label: 'Δ points vs LRU', format: 'pct' },
      { key: 'targets', label: 'targets (issue 5)', format: 'text' },
    ],
    primary: 'hitRatio',
    rows,
    notes: results.missed.length ? [`Targets not met: ${results.missed.join('; ')}`] : ['Every target met.'],
  }
}
