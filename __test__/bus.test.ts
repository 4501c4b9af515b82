/**
 * The bus between caches: in one process over the memory bus, and over Redis pub/sub run
 * by the engine (a real redis-server). A write, delete, clear or tag invalidation on one
 * node reaches the others' L1; a node that may have missed messages clears its L1.
 */
import { describe, expect, it } from 'vitest'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryBusDriver, memoryDriver } from '../src/drivers/memory.js'
import { redisBusDriver, redisDriver } from '../src/drivers/redis.js'
import { busConnected, eventually, sleep } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'
import { TcpProxy } from './support/tcp_proxy.js'

// With serialize: false the L1's fresh hits are answered in JavaScript: what the bus tells a
// node must reach that index too.
describe.each([true, false])('memory bus (one process, L1 only), serialize: %s', (serialize) => {
  function node(options: { grace?: string } = {}) {
    return new BentoCache({
      default: 'main',
      grace: options.grace ?? false,
      stores: { main: bentostore().useL1Layer(memoryDriver({ serialize })).useBus(memoryBusDriver()) },
    })
  }

  it('delete, deleteMany, set, expire and clear on one node reach the other nodes, not the sender', async () => {
    const [a, b, c] = [node(), node(), node()]
    // Quietly: each node's writes would otherwise expire the others' copies.
    for (const n of [a, b, c]) await n.setMany({ items: ['k1', 'k2', 'k3', 'k4'].map((key) => ({ key, value: key })), skipBusNotify: true })
    await a.delete({ key: 'k1' })
    await a.deleteMany({ keys: ['k2'] })
    await a.set({ key: 'k3', value: 'new' })
    await sleep(5)
    for (const n of [b, c]) {
      // Without an L2 the expired copy is all there is: gone without grace.
      expect(await n.getMany({ keys: ['k1', 'k2', 'k3', 'k4'] })).toEqual([undefined, undefined, undefined, 'k4'])
    }
    expect(await a.get({ key: 'k3' })).toBe('new')
    expect(a.getStats().bus).toMatchObject({ published: 3, received: 0 })
    expect(b.getStats().bus).toMatchObject({ published: 0, received: 3 })
    await b.clear()
    await sleep(5)
    expect(await c.get({ key: 'k4' })).toBeUndefined()
    expect(await a.get({ key: 'k4' })).toBeUndefined()
    // The bus counters, as a Prometheus scraper reads them.
    const families = parsePrometheusTextFormat(c.metrics()) as Array<{ name: string; metrics: Array<{ value: string }> }>
    const value = (name: string) => Number(families.find((f) => f.name === name)?.metrics[0].value)
    const bus = c.getStats().bus!
    expect(value('bentocache_bus_received_total')).toBe(bus.received)
    expect(bus.received).toBe(4)
    expect(value('bentocache_bus_published_total')).toBe(0)
    expect(value('bentocache_bus_retry_pending')).toBe(0)
  })

  it('an expire keeps the copies for grace; skipBusNotify keeps the others untouched', async () => {
    const [a, b] = [node({ grace: '1h' }), node({ grace: '1h' })]
    await b.set({ key: 'k', value: 'v' })
    await a.expire({ key: 'k' })
    await sleep(5)
    expect(await b.get({ key: 'k' })).toBe('v')
    expect(await b.get({ key: 'k', grace: false })).toBeUndefined()
    await b.set({ key: 'quiet', value: 1 })
    await a.set({ key: 'quiet', value: 2, skipBusNotify: true })
    await a.getOrSet({ key: 'quiet2', factory: (ctx) => { ctx.setOptions({ skipBusNotify: true }); return 2 } })
    await sleep(5)
    expect(await b.get({ key: 'quiet', grace: false })).toBe(1)
    expect(a.getStats().bus!.published).toBe(1)
  })

  it('messages stay in their namespace; tag invalidations reach every node', async () => {
    const [a, b] = [node(), node()]
    await b.namespace('users').set({ key: '1', value: 'u', tags: ['t'] })
    await b.namespace('posts').set({ key: '1', value: 'p', tags: ['t'] })
    await a.namespace('users').delete({ key: '1' })
    await sleep(5)
    expect(await b.namespace('users').get({ key: '1' })).toBeUndefined()
    expect(await b.namespace('posts').get({ key: '1' })).toBe('p')
    await b.namespace('users').set({ key: '2', value: 'u2', tags: ['t'] })
    await a.namespace('users').deleteByTag({ tags: ['t'] })
    await sleep(5)
    expect(await b.namespace('users').get({ key: '2' })).toBeUndefined()
    expect(await b.namespace('posts').get({ key: '1' })).toBe('p')
    await b.namespace('posts').set({ key: '3', value: 'p3', tags: ['t'] })
    await a.namespace('posts').clear()
    await sleep(5)
    expect(await b.namespace('posts').get({ key: '3' })).toBeUndefined()
  })

  it('rejects invalid bus options', () => {
    const build = (bus: any) => () =>
      new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver()).useBus(bus) } })
    expect(build(memoryBusDriver({ retryQueue: { maxSize: -1 } }))).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
    expect(build(memoryBusDriver({ retryQueue: { retryInterval: 'soon' as any } }))).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
    expect(build(memoryBusDriver({ retry: true } as any))).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
    expect(build(redisBusDriver({ connection: 'http://nope' }))).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })
})

describe('Redis bus (real redis-server)', () => {
  const redis = redisForSuite()

  function node(options: { retryInterval?: string } = {}) {
    return new BentoCache({
      default: 'main',
      stores: {
        main: bentostore()
          .useL1Layer(memoryDriver())
          .useL2Layer(redisDriver({ connection: redis.url, timeout: 300 }))
          .useBus(redisBusDriver({ connection: redis.url, timeout: 300, retryQueue: { retryInterval: options.retryInterval ?? '50ms' } })),
      },
    })
  }

  it('a write on one node replaces the value the others hold in their L1', async () => {
    const nodes = [node(), node(), node()]
    await busConnected(nodes)
    const [a, b, c] = nodes
    await a.set({ key: 'user', value: 'v1' })
    expect(await b.get({ key: 'user' })).toBe('v1')
    expect(await c.get({ key: 'user' })).toBe('v1')
    await a.set({ key: 'user', value: 'v2' })
    await eventually(async () => (await b.get({ key: 'user' })) === 'v2' && (await c.get({ key: 'user' })) === 'v2')
    await a.delete({ key: 'user' })
    await eventually(async () => (await b.get({ key: 'user' })) === undefined && (await c.get({ key: 'user' })) === undefined)
    await Promise.all(nodes.map((n) => n.disconnect()))
  })

  it('a skipped sequence number from another sender clears the L1 and reports the gap', async () => {
    const [a, b] = [node(), node()]
    await busConnected([a, b])
    await a.set({ key: 'k', value: 'v' })
    expect(await b.get({ key: 'k' })).toBe('v')
    const gaps: Array<{ reason: string; expected?: number; got?: number }> = []
    b.on('bus:gap', (event) => gaps.push(event))
    // A frame as another RustoCache process writes it: `RB`, version 1, then bincode varints
    // (all below 251 here, so one byte each): sender 7, sequence, kind 1 (delete), at 5,
    // store "main", namespace "", keys ["zzz"].
    const frame = (sequence: number) => String.fromCharCode(0x52, 0x42, 1, 7, sequence, 1, 5, 4) + 'main' + String.fromCharCode(0, 1, 3) + 'zzz'
    const received = b.getStats().bus!.received
    await redis.command('PUBLISH', 'rustocache.notifications:main', frame(1))
    await eventually(() => b.getStats().bus!.received === received + 1)
    expect(b.getStats().l1!.entries).toBeGreaterThan(0) // in order: nothing to distrust
    await redis.command('PUBLISH', 'rustocache.notifications:main', frame(3))
    await eventually(() => gaps.length === 1)
    expect(gaps[0]).toMatchObject({ reason: 'gap', expected: 2, got: 3 })
    expect(b.getStats().bus!.gaps).toBe(1)
    expect(b.getStats().l1!.entries).toBe(0)
    await Promise.all([a.disconnect(), b.disconnect()])
  })

  it('a killed subscription clears the L1, reports bus:gap, and comes back', async () => {
    const [a, b] = [node(), node()]
    await busConnected([a, b])
    await a.set({ key: 'k', value: 'v' })
    expect(await b.get({ key: 'k' })).toBe('v')
    const reasons: string[] = []
    b.on('bus:gap', ({ reason }) => reasons.push(reason))
    // While b's L1 holds `k`, Redis changes behind the bus's back (as during a partition).
    await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await eventually(() => reasons.includes('resubscribed'))
    expect(b.getStats().bus!.resubscriptions).toBeGreaterThanOrEqual(1)
    expect(b.getStats().l1!.entries).toBe(0)
    await busConnected([a, b])
    await a.set({ key: 'k', value: 'after' })
    await eventually(async () => (await b.get({ key: 'k' })) === 'after')
    await Promise.all([a.disconnect(), b.disconnect()])
  })

  it('a full retry queue drops the oldest messages and counts them', async () => {
    const a = new BentoCache({
      default: 'main',
      stores: {
        main: bentostore()
          .useL1Layer(memoryDriver())
          .useBus(redisBusDriver({ connection: redis.url, timeout: 200, retryQueue: { maxSize: 2, retryInterval: false } })),
      },
    })
    await redis.kill()
    for (let i = 0; i < 5; i++) await a.delete({ key: `k${i}` })
    expect(a.getStats().bus!.retries).toEqual({ pending: 2, dropped: 3 })
    await redis.restart()
    // retryInterval false: the queue goes out before the next publish.
    await eventually(async () => {
      await a.delete({ key: 'next' })
      return a.getStats().bus!.retries.pending === 0
    }, 5000)
    expect(a.getStats().bus!.retries.dropped).toBe(3)
    await a.disconnect()
  })

  it('a message dropped from a full retry queue shows the others a gap, so they drop what it would have told them', async () => {
    const proxy = await TcpProxy.start(redis.port)
    try {
      // A publishes through a proxy that the test cuts; B listens on Redis directly.
      const a = new BentoCache({
        default: 'main',
        stores: {
          main: bentostore()
            .useL1Layer(memoryDriver())
            .useL2Layer(redisDriver({ connection: redis.url, timeout: 300 }))
            .useBus(redisBusDriver({ connection: proxy.url, timeout: 200, retryQueue: { maxSize: 1, retryInterval: '50ms' } })),
        },
      })
      const b = node()
      await busConnected([a, b])
      await a.set({ key: 'lost', value: 'v1' })
      await a.set({ key: 'kept', value: 'v1' })
      expect(await b.get({ key: 'lost' })).toBe('v1') // now in B's L1
      expect(await b.get({ key: 'kept' })).toBe('v1')
      const gapsBefore = b.getStats().bus!.gaps

      proxy.cut()
      await a.set({ key: 'lost', value: 'v2' }) // its message is dropped by the next one
      await a.set({ key: 'kept', value: 'v2' })
      await eventually(() => a.getStats().bus!.retries.dropped === 1 && a.getStats().bus!.retries.pending === 1)
      proxy.heal()

      // The queued message goes out numbered past the dropped one: B sees the gap and
      // clears its L1, so neither key is served from B's old copies.
      await eventually(() => b.getStats().bus!.gaps > gapsBefore)
      expect(await b.get({ key: 'lost' })).toBe('v2')
      expect(await b.get({ key: 'kept' })).toBe('v2')
      await Promise.all([a.disconnect(), b.disconnect()])
    } finally {
      await proxy.stop()
    }
  })

  it('messages that cannot be sent while Redis is down are retried when it is back', async () => {
    const [a, b] = [node(), node()]
    await busConnected([a, b])
    await redis.kill()
    await a.delete({ key: 'x' })
    expect(a.getStats().bus!.publishErrors).toBeGreaterThanOrEqual(1)
    expect(a.getStats().bus!.retries.pending).toBe(1)
    await redis.restart()
    await eventually(() => a.getStats().bus!.retries.pending === 0)
    expect(a.getStats().bus!.retries.dropped).toBe(0)
    await Promise.all([a.disconnect(), b.disconnect()])
  })
})
