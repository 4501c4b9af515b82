// Thundering herd: N concurrent getOrSet calls (N = 1,000 and 10,000) on K missing keys
// (K = 10, then 1), all launched in one go, each key's factory taking 50 ms. A cache that
// coalesces the calls runs the factory exactly once per key; the run FAILS if any contender
// runs it more or less often, or returns a wrong value. Measured: each call's latency from its
// own start to its result, p50/p99 and p99 over the 50 ms (the overhead), and the time until
// all N calls are done.
// getOrSet-like calls: rustocache/bentocache getOrSet, lru-cache fetch (which coalesces
// fetches of a key), cache-manager wrap (which coalesces too).
import { CACHE_MANAGER, LRU, BENTO, RUSTO, createContender } from '../lib/contenders.js'
import { sleep } from '../lib/common.js'
import { median, quantile } from '../lib/stats.js'

const FACTORY_MS = 50
const CONTENDERS = [RUSTO, BENTO, LRU, CACHE_MANAGER]

/** One herd: `calls` getOrSet over `keyCount` fresh keys; throws unless one factory run per key. */
async function herd(name, calls, keyCount, round) {
  const cache = createContender(name, { maxItems: 100_000 })
  const keys = Array.from({ length: keyCount }, (_, k) => `herd:${round}:${calls}:${k}`)
  const runs = new Map(keys.map((key) => [key, 0]))
  const factoryOf = (key) => async () => {
    runs.set(key, runs.get(key) + 1)
    await sleep(FACTORY_MS)
    return { key }
  }
  const factories = keys.map(factoryOf)
  const latencies = new Float64Array(calls)
  const started = process.hrtime.bigint()
  const pending = new Array(calls)
  for (let i = 0; i < calls; i++) {
    const k = i % keyCount
    const t0 = process.hrtime.bigint()
    pending[i] = Promise.resolve(cache.getOrSet(keys[k], factories[k])).then((value) => {
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6
      if (value?.key !== keys[k]) throw new Error(`${name}: getOrSet(${keys[k]}) returned ${JSON.stringify(value)}`)
    })
  }
  await Promise.all(pending)
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6
  await cache.close()
  const wrong = [...runs].filter(([, n]) => n !== 1)
  if (wrong.length > 0) {
    throw new Error(`thundering herd: ${name} ran the factory ${wrong.map(([key, n]) => `${n} times for ${key}`).join(', ')} (${calls} concurrent calls on ${keyCount} keys): it must run once per key`)
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), totalMs, runs: keyCount }
}

export const id = 'herd'
export const title = 'Thundering herd'

export async function run({ samples, log }) {
  const rows = []
  for (const calls of [1_000, 10_000]) {
    for (const keyCount of [10, 1]) {
      const name = `${calls.toLocaleString('en')} calls on ${keyCount} key${keyCount > 1 ? 's' : ''}`
      for (const contender of CONTENDERS) rows.push({ case: name, contender, calls, keyCount, values: {}, samples: { p99Ms: [], p50Ms: [], totalMs: [] } })
    }
  }
  for (let round = 0; round < samples; round++) {
    log(`herd: round ${round + 1} of ${samples}`)
    for (const row of rows) {
      const result = await herd(row.contender, row.calls, row.keyCount, round)
      row.samples.p99Ms.push(result.p99)
      row.samples.p50Ms.push(result.p50)
      row.samples.totalMs.push(result.totalMs)
      row.values.factoryRuns = result.runs
    }
  }
  for (const row of rows) {
    row.values.p50Ms = median(row.samples.p50Ms)
    row.values.p99Ms = median(row.samples.p99Ms)
    row.values.overheadMs = row.values.p99Ms - FACTORY_MS
    row.values.totalMs = median(row.samples.totalMs)
    delete row.calls
    delete row.keyCount
  }
  return {
    description: `getOrSet on missing keys, all calls launched at once, factory of ${FACTORY_MS} ms; latencies in ms, medians of ${samples} herds; every contender ran the factory exactly once per key (checked).`,
    columns: [
      { key: 'factoryRuns', label: 'factory runs', format: 'int' },
      { key: 'p50Ms', label: 'p50 ms', format: 'ms', better: 'lower' },
      { key: 'p99Ms', label: 'p99 ms', format: 'ms', better: 'lower' },
      { key: 'overheadMs', label: `p99 − ${FACTORY_MS} ms`, format: 'ms' },
      { key: 'totalMs', label: 'all done ms', format: 'ms', better: 'lower' },
    ],
    primary: 'p99Ms',
    rows,
  }
}
