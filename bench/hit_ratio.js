// Hit ratio on a real trace: RustoCache's L1 (moka's TinyLFU, fed by batched reads) against
// plain LRU (lru-cache, which bentocache's memory store is built on), at equal capacity.
//
// The trace is OLTP from the ARC paper (N. Megiddo and D. S. Modha, "ARC: A Self-Tuning,
// Low Overhead Replacement Cache", USENIX FAST 2003), read from ../shared/traces. Each line
// `start count ...` is `count` block requests from `start`. A request is a `get`; a miss is
// followed by a `set`, as a read-through cache does. LRU on this trace is published at
// 16.47 / 23.45 / 32.83 / 42.47 % for 250 / 500 / 1000 / 2000 entries, which checks the reader.
//
//   node bench/hit_ratio.js        (after `npm run build`)
import { readFileSync, existsSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { BentoCache, bentostore } from '../dist/index.js'
import { memoryDriver } from '../dist/drivers/memory.js'

const TRACE = fileURLToPath(new URL('../../shared/traces/OLTP.lis.gz', import.meta.url))
const CAPACITIES = [250, 500, 1000, 2000]

function readTrace() {
  const keys = []
  for (const line of gunzipSync(readFileSync(TRACE)).toString('latin1').split('\n')) {
    const [start, count] = line.trim().split(/\s+/).map(Number)
    if (!Number.isFinite(start) || !Number.isFinite(count)) continue
    for (let block = start; block < start + count; block++) keys.push(String(block))
  }
  return keys
}

function lruHitRatio(keys, capacity) {
  const lru = new LRUCache({ max: capacity })
  let hits = 0
  for (const key of keys) {
    if (lru.get(key) !== undefined) hits++
    else lru.set(key, 1)
  }
  return hits / keys.length
}

async function rustoHitRatio(keys, capacity) {
  const cache = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: capacity })) } })
  let hits = 0
  for (const key of keys) {
    if ((await cache.get({ key })) !== undefined) hits++
    else await cache.set({ key, value: 1 })
  }
  return hits / keys.length
}

if (!existsSync(TRACE)) {
  console.log(`hit ratio: skipped, no trace at ${TRACE}`)
} else {
  const keys = readTrace()
  console.log(`Hit ratio on OLTP (${keys.length.toLocaleString()} requests)\n`)
  console.log('capacity'.padEnd(10) + 'LRU (lru-cache)'.padStart(17) + 'rustocache L1'.padStart(15))
  for (const capacity of CAPACITIES) {
    const lru = lruHitRatio(keys, capacity)
    const rusto = await rustoHitRatio(keys, capacity)
    const pct = (ratio) => (ratio * 100).toFixed(2) + ' %'
    console.log(String(capacity).padEnd(10) + pct(lru).padStart(17) + pct(rusto).padStart(15))
  }
}
