/**
 * Chaos: faults injected under load, against real processes. Each cache runs in a child
 * process of its own (`support/chaos_node.mjs`); this process owns the faults: it kills and
 * restarts redis-server, and slows or cuts a loopback TCP proxy in front of it.
 *
 * Durations are shortened for CI (an outage of 4 s within a 10 s load, where the issue
 * asked for 30 s); CHAOS_OUTAGE_MS and CHAOS_LOAD_MS lengthen them. The figures each test
 * measured are printed (`[chaos] ...`) for the README's "Reliability" section; only the
 * behaviour is asserted, plus one generous event-loop bound that the issue asks for.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../../src/index.js'
import { redisDriver } from '../../src/drivers/redis.js'
import { sleep } from '../helpers.js'
import { ChildCache } from '../support/child_cache.js'
import { startRedis, type RedisServer } from '../support/redis_server.js'
import { TcpProxy } from '../support/tcp_proxy.js'

const SCRIPT = fileURLToPath(new URL('../support/chaos_node.mjs', import.meta.url))
const OUTAGE_MS = Number(process.env.CHAOS_OUTAGE_MS ?? 4_000)
const LOAD_MS = Number(process.env.CHAOS_LOAD_MS ?? 10_000)

interface NodeConfig {
  l2: string
  bus?: string | null
  timeout?: string
  maxItems?: number
}

const children: ChildCache[] = []
async function startNode(config: NodeConfig): Promise<ChildCache> {
  const node = await ChildCache.start(SCRIPT, [JSON.stringify(config)])
  children.push(node)
  return node
}

/** How long until `check` holds (polled every 20 ms), or a failure after `ms`. */
async function timeUntil(check: () => Promise<boolean>, ms: number): Promise<number> {
  const start = performance.now()
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`condition not met within ${ms} ms`)
    await sleep(20)
  }
  return Math.round(performance.now() - start)
}

function report(name: string, figures: Record<string, unknown>) {
  console.log(`[chaos] ${name} ${JSON.stringify(figures)}`)
}

let redis: RedisServer

beforeAll(async () => {
  redis = await startRedis()
})

afterAll(async () => {
  for (const child of children) child.kill()
  await redis?.stop()
})

describe('redis-server killed and restarted during a mixed load', () => {
  it('no crash, no unhandled rejection, L1 serving, errors counted, every outage write in Redis or counted as dropped', { timeout: LOAD_MS + 45_000 }, async () => {
    const node = await startNode({ l2: redis.url, bus: redis.url, timeout: '200ms' })
    await node.call('warm', 500)
    await node.call('startLoad', { workers: 20, keys: 5000, mix: 'mixed' })
    const before = Math.max(1_000, (LOAD_MS - OUTAGE_MS) / 2)
    await sleep(before)

    await redis.kill()
    const killedAt = Date.now()
    await node.call('phase', 'outage')
    const duringOutage = await node.stats()
    await sleep(OUTAGE_MS)
    await redis.restart()
    await node.call('phase', 'after')
    // Recovered: the writes queued during the outage have all reached Redis.
    const recoveryMs = await timeUntil(async () => (await node.stats()).l2.retries.pending === 0, 15_000)
    await sleep(Math.max(1_000, LOAD_MS - before - OUTAGE_MS - recoveryMs))
    const { counts, writes } = await node.call('stopLoad')
    // The last writes of the load may still be queued: let them land.
    await timeUntil(async () => (await node.stats()).l2.retries.pending === 0, 15_000)
    const stats = await node.stats()

    // Read back, through a cache of our own with no L1, the last value of every key
    // written after the kill (what was written before it died with redis-server's memory).
    const reader = new BentoCache({ default: 'main', stores: { main: bentostore().useL2Layer(redisDriver({ connection: redis.url })) } })
    let checked = 0
    let missing = 0
    for (const [key, write] of Object.entries(writes as Record<string, { value: string; at: number }>)) {
      if (write.at < killedAt) continue
      checked++
      if ((await reader.get({ key })) !== write.value) missing++
    }
    await reader.disconnectAll()

    report('redis-kill', {
      outageMs: OUTAGE_MS,
      opsBefore: counts.before?.ops,
      opsDuringOutage: counts.outage?.ops,
      l1ReadsDuringOutage: counts.outage?.byKind.read,
      l1ReadsServed: counts.outage?.l1Served,
      opsAfter: counts.after?.ops,
      callerErrors: (counts.before?.errors ?? 0) + (counts.outage?.errors ?? 0) + (counts.after?.errors ?? 0),
      l2Errors: stats.l2.errors,
      l2ErrorsBeforeKill: duringOutage.l2.errors,
      writesChecked: checked,
      writesMissing: missing,
      retriesDropped: stats.l2.retries.dropped,
      busPublishErrors: stats.bus.publishErrors,
      busDropped: stats.bus.retries.dropped,
      recoveryMs,
    })
    expect(stats.process).toMatchObject({ unhandledRejections: 0, uncaughtExceptions: 0 })
    // The callers saw no error: L2 failures are misses and queued writes.
    expect(counts.outage.errors).toBe(0)
    expect(counts.after.errors).toBe(0)
    // The L1 kept serving: every read of a warmed key during the outage got its value.
    expect(counts.outage.byKind.read).toBeGreaterThan(0)
    expect(counts.outage.l1Served).toBe(counts.outage.byKind.read)
    expect(counts.outage.byKind.set).toBeGreaterThan(0)
    // The failures were counted...
    expect(stats.l2.errors).toBeGreaterThan(duringOutage.l2.errors)
    // ...and no write was lost without a count.
    expect(checked).toBeGreaterThan(0)
    expect(missing).toBeLessThanOrEqual(stats.l2.retries.dropped)
    // Working again, both tiers (the restarted server lost what it held: no persistence).
    await node.call('set', { key: 'post', value: 'after' })
    expect(await node.call('get', { key: 'post' })).toBe('after')
    const check = new BentoCache({ default: 'main', stores: { main: bentostore().useL2Layer(redisDriver({ connection: redis.url })) } })
    expect(await check.get({ key: 'post' })).toBe('after')
    await check.disconnectAll()
    expect(await node.exitAfter('disconnectAll')).toBe(0)
  })
})

describe('Redis made slow by a proxy adding 200 ms each way', () => {
  it('L2 timeouts fire, callers get their values, the event loop is not blocked', async () => {
    const proxy = await TcpProxy.start(redis.port)
    try {
      const node = await startNode({ l2: proxy.url, bus: null, timeout: '300ms' })
      await node.call('warm', 500)
      proxy.delayMs = 200
      const errorsBefore = (await node.stats()).l2.errors
      await node.call('loopDelay', true)
      await node.call('startLoad', { workers: 20, keys: 5000, mix: 'mixed' })
      await sleep(3_000)
      const { counts } = await node.call('stopLoad')
      const delay = await node.call('loopDelay', false)
      const stats = await node.stats()
      report('slow-redis', {
        addedMsEachWay: 200,
        l2TimeoutMs: 300,
        ops: counts.before.ops,
        callerErrors: counts.before.errors,
        l2Errors: stats.l2.errors - errorsBefore,
        loopDelayMaxMs: delay.max,
        loopDelayP99Ms: delay.p99,
        loopDelayMeanMs: delay.mean,
      })
      expect(stats.l2.errors).toBeGreaterThan(errorsBefore)
      expect(counts.before.errors).toBe(0)
      expect(counts.before.byKind.getOrSet).toBeGreaterThan(0)
      // A thread waiting on Redis would hold the loop for the whole 400 ms round trip;
      // the bound is far below that yet generous for a shared 2-core machine (the issue's
      // 10 ms is reported, not asserted: see the printed figures).
      expect(delay.max).toBeLessThan(150)
      proxy.delayMs = 0
      expect(await node.exitAfter('disconnectAll')).toBe(0)
    } finally {
      await proxy.stop()
    }
  })
})

describe('the bus partitioned and healed', () => {
  it('no stale read after recovery, in either direction', async () => {
    const proxy = await TcpProxy.start(redis.port)
    try {
      const a = await startNode({ l2: redis.url, bus: redis.url })
      const b = await startNode({ l2: redis.url, bus: proxy.url })
      // Both subscribed: a message from each reaches the other.
      await timeUntil(async () => {
        await a.call('delete', { key: 'probe-a' })
        await b.call('delete', { key: 'probe-b' })
        return (await a.stats()).bus.received > 0 && (await b.stats()).bus.received > 0
      }, 10_000)
      const keys = Array.from({ length: 100 }, (_, i) => `p:${i}`)
      const ownKeys = Array.from({ length: 10 }, (_, i) => `b:${i}`)
      for (const key of keys) await a.call('set', { key, value: 'v1' })
      for (const key of ownKeys) await b.call('set', { key, value: 'b1' })
      for (const key of keys) expect(await b.call('get', { key })).toBe('v1') // now in B's L1
      for (const key of ownKeys) expect(await a.call('get', { key })).toBe('b1') // in A's L1

      const resubscribed = (await b.stats()).bus.resubscriptions
      proxy.cut()
      await timeUntil(async () => (await b.stats()).bus.disconnections > 0, 10_000)
      for (const key of keys) await a.call('set', { key, value: 'v2' })
      for (const key of ownKeys) await b.call('set', { key, value: 'b2' })
      const staleDuringPartition = (await Promise.all(keys.map((key) => b.call('get', { key })))).filter((v) => v === 'v1').length
      await sleep(500)
      proxy.heal()
      const healedAt = performance.now()

      const resubscribeMs = await timeUntil(async () => (await b.stats()).bus.resubscriptions > resubscribed, 10_000)
      const stale = (await Promise.all(keys.map((key) => b.call('get', { key })))).filter((v) => v !== 'v2')
      // B's own writes reach A through B's retried publishes.
      await timeUntil(async () => {
        const seen = await Promise.all(ownKeys.map((key) => a.call('get', { key })))
        return seen.every((value) => value === 'b2')
      }, 10_000)
      const bStats = await b.stats()
      report('bus-partition', {
        keys: keys.length,
        staleDuringPartition,
        staleAfterRecovery: stale.length,
        resubscribeMs,
        otherWayMs: Math.round(performance.now() - healedAt),
        busPublishErrors: bStats.bus.publishErrors,
        busDropped: bStats.bus.retries.dropped,
        gaps: bStats.bus.gaps,
      })
      expect(stale).toEqual([])
      expect(bStats.bus.retries.dropped).toBe(0)
      expect(bStats.process).toMatchObject({ unhandledRejections: 0, uncaughtExceptions: 0 })
      expect(await a.exitAfter('disconnectAll')).toBe(0)
      expect(await b.exitAfter('disconnectAll')).toBe(0)
    } finally {
      await proxy.stop()
    }
  })
})
