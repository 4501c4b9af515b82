/**
 * Load and leaks: 1,000 concurrent getOrSet over 10,000 keys, L1 + L2 + bus on a real
 * redis-server, in a child process. Its RSS must be flat once warmed up, and after
 * disconnectAll() it must exit by itself (no handle left open).
 *
 * 20 s by default for CI (10 s of warm-up, then 10 s measured); the 60 s is
 * CHAOS_LOAD_SECONDS=60. RSS is sampled every second after a full garbage collection, so
 * that it measures what the process keeps, not garbage V8 has not collected yet.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sleep } from '../helpers.js'
import { ChildCache } from '../support/child_cache.js'
import { startRedis, type RedisServer } from '../support/redis_server.js'

const SCRIPT = fileURLToPath(new URL('../support/chaos_node.mjs', import.meta.url))
const LOAD_SECONDS = Number(process.env.CHAOS_LOAD_SECONDS ?? 20)
const WARM_UP_SECONDS = Math.round(LOAD_SECONDS * 0.5)

let redis: RedisServer
let node: ChildCache | undefined

beforeAll(async () => {
  redis = await startRedis()
})

afterAll(async () => {
  node?.kill()
  await redis?.stop()
})

it(`${LOAD_SECONDS} s of 1,000 concurrent getOrSet over 10k keys: RSS flat after warm-up, exits by itself`, { timeout: (LOAD_SECONDS + 60) * 1000 }, async () => {
  node = await ChildCache.start(SCRIPT, [JSON.stringify({ l2: redis.url, bus: redis.url, maxItems: 10_000 })], ['--expose-gc'])
  await node.call('startLoad', { workers: 1_000, keys: 10_000, mix: 'getOrSet' })
  const samples: number[] = []
  for (let second = 1; second <= LOAD_SECONDS; second++) {
    await sleep(1_000)
    samples.push(await node.call('rss'))
  }
  const { counts } = await node.call('stopLoad')
  const stats = await node.stats()

  // Lower quartiles, not single samples or medians: from one second to the next the RSS
  // swings by several % as the allocator's per-thread arenas grow and shrink (seen: 110 to
  // 128 MB within seconds), often alternating between two levels ~8 MB apart. The highest
  // measured second beats the highest warm-up second two times in three with no leak at
  // all, and a median of such two-level samples jumps between the levels when one sample
  // changes sides (a full-suite run failed at 7.3 % so, with no trend). The lower quartile
  // follows what the process keeps; a leak of r MB/s still raises it by about r × the
  // ~10 s between the two windows. Baseline: the warm-up after its first second; end: every
  // measured second.
  const lowerQuartile = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 2]
  const warm = lowerQuartile(samples.slice(1, WARM_UP_SECONDS))
  const after = samples.slice(WARM_UP_SECONDS)
  const end = lowerQuartile(after)
  const peak = Math.max(...after)
  const last = after[after.length - 1]
  const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10
  console.log(
    `[chaos] load ${JSON.stringify({
      seconds: LOAD_SECONDS,
      ops: counts.before.ops,
      opsPerSecond: Math.round(counts.before.ops / LOAD_SECONDS),
      errors: counts.before.errors,
      rssWarmMb: mb(warm),
      rssEndMb: mb(end),
      rssPeakMb: mb(peak),
      rssLastMb: mb(last),
      growthPercent: Math.round(((end - warm) / warm) * 1000) / 10,
      l2Hits: stats.l2.hits,
      factoryRuns: stats.factory.runs,
      busPublished: stats.bus.published,
      rssMbPerSecond: samples.map(mb),
    })}`,
  )
  expect(counts.before.errors).toBe(0)
  expect(counts.before.ops).toBeGreaterThan(10_000)
  expect(stats.factory.runs).toBeGreaterThan(0)
  expect(stats.process).toMatchObject({ unhandledRejections: 0, uncaughtExceptions: 0 })
  // Flat after warm-up: the end's lower quartile within 5 % of the warmed-up one.
  expect(end).toBeLessThanOrEqual(warm * 1.05)
  expect(await node.exitAfter('disconnectAll', 10_000)).toBe(0)
})
