/**
 * The eviction policy earns its keep: on a real trace, RustoCache's L1 (TinyLFU) keeps more
 * of what is asked for than LRU at the same capacity. This guards the wiring between the
 * read index and moka's policy: reads and misses must reach the policy, or admission
 * starves (a broken wiring once gave 8% where LRU gives 16%).
 *
 * The trace comes from ../shared/traces (see its README); the test is skipped without it.
 */
import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createCache } from './helpers.js'

const TRACE = fileURLToPath(new URL('../../shared/traces/OLTP.lis.gz', import.meta.url))

/** OLTP's requests: each line `start count ...` asks for blocks start .. start+count-1. */
function oltpKeys(): string[] {
  const keys: string[] = []
  for (const line of gunzipSync(readFileSync(TRACE)).toString('latin1').split('\n')) {
    const [start, count] = line.trim().split(/\s+/).map(Number)
    if (!Number.isFinite(start) || !Number.isFinite(count)) continue
    for (let block = start; block < start + count; block++) keys.push(String(block))
  }
  return keys
}

describe.skipIf(!existsSync(TRACE))('hit ratio on the OLTP trace', () => {
  it('beats LRU at 500 entries (LRU: 23.45 %, published)', async () => {
    const keys = oltpKeys()
    expect(keys.length).toBe(914_145)
    const cache = createCache({ driver: { maxItems: 500 } })
    let hits = 0
    for (const key of keys) {
      if ((await cache.get({ key })) !== undefined) hits++
      else await cache.set({ key, value: 1 })
    }
    expect(hits / keys.length).toBeGreaterThan(0.2345)
  }, 120_000)
})
