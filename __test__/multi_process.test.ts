/**
 * Three cache processes — each its own Node.js process with an L1, the L2 and the bus on
 * one real redis-server — keep each other's L1 coherent, and a process whose subscription
 * was cut does not serve what it missed once it is back.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from './helpers.js'
import { ChildCache } from './support/child_cache.js'
import { startRedis, type RedisServer } from './support/redis_server.js'

const SCRIPT = fileURLToPath(new URL('./support/cache_node.mjs', import.meta.url))

/** A cache process, called like a cache: `await node.call('get', { key })`. */
class Node {
  private constructor(private readonly cache: ChildCache) {}

  get child() {
    return this.cache.child
  }

  static async start(url: string): Promise<Node> {
    return new Node(await ChildCache.start(SCRIPT, [url]))
  }

  call(op: string, ...args: unknown[]): Promise<any> {
    return this.cache.call(op, ...args)
  }

  stats(): Promise<any> {
    return this.cache.stats()
  }

  async stop() {
    // The process must exit by itself once disconnected: nothing may keep it alive.
    await this.cache.exitAfter('disconnect', 60_000)
  }
}

/** How long until `check` holds (polled), or a failure after `ms`. */
async function timeUntil(check: () => Promise<boolean>, ms = 2000): Promise<number> {
  const start = performance.now()
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error('condition not met in time')
  }
  return performance.now() - start
}

let redis: RedisServer
let nodes: Node[] = []

beforeAll(async () => {
  redis = await startRedis()
})

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await redis?.stop()
})

/** The ids of the pub/sub connections the server holds. */
async function subscriberIds(): Promise<string[]> {
  const list = String(await redis.command('CLIENT', 'LIST', 'TYPE', 'pubsub'))
  return [...list.matchAll(/\bid=(\d+)/g)].map((match) => match[1])
}

/** Waits until a message from every node reaches every other (all subscribed). */
async function allSubscribed(all: Node[]) {
  for (const [i, node] of all.entries()) {
    const before = await Promise.all(all.map(async (n) => (await n.stats()).bus.received))
    await node.call('delete', { key: `__probe${i}` })
    await timeUntil(async () => {
      const now = await Promise.all(all.map(async (n) => (await n.stats()).bus.received))
      return now.every((received, j) => j === i || received > before[j])
    })
  }
}

describe('three processes on one redis-server', () => {
  let subscriberOfC: string

  it('start, each subscribed to the bus', async () => {
    const a = await Node.start(redis.url)
    const b = await Node.start(redis.url)
    await timeUntil(async () => (await subscriberIds()).length === 2)
    const before = await subscriberIds()
    const c = await Node.start(redis.url)
    await timeUntil(async () => (await subscriberIds()).length === 3)
    subscriberOfC = (await subscriberIds()).find((id) => !before.includes(id))!
    nodes = [a, b, c]
    await allSubscribed(nodes)
  })

  it('a set, a delete and a deleteByTag on one process are seen by the other two within 100 ms', async () => {
    const [a, b, c] = nodes
    await a.call('set', { key: 'user', value: 'v1', tags: ['users'] })
    for (const other of [b, c]) expect(await other.call('get', { key: 'user' })).toBe('v1') // now in their L1

    await a.call('set', { key: 'user', value: 'v2', tags: ['users'] })
    const seenSet = await timeUntil(async () => (await b.call('get', { key: 'user' })) === 'v2' && (await c.call('get', { key: 'user' })) === 'v2')

    await b.call('delete', { key: 'user' })
    const seenDelete = await timeUntil(async () => (await a.call('get', { key: 'user' })) === undefined && (await c.call('get', { key: 'user' })) === undefined)

    await a.call('set', { key: 'tagged', value: 't', tags: ['group'] })
    for (const other of [b, c]) expect(await other.call('get', { key: 'tagged' })).toBe('t')
    await c.call('deleteByTag', { tags: ['group'] })
    // Gone from every L1 and from Redis: not even grace (1h on every node) serves it.
    const seenTag = await timeUntil(async () => (await a.call('get', { key: 'tagged' })) === undefined && (await b.call('get', { key: 'tagged' })) === undefined)

    expect({ seenSet, seenDelete, seenTag }).toEqual({
      seenSet: expect.any(Number),
      seenDelete: expect.any(Number),
      seenTag: expect.any(Number),
    })
    for (const elapsed of [seenSet, seenDelete, seenTag]) expect(elapsed).toBeLessThan(100)
  })

  it('an expireByTag on one process leaves the others only a stale copy, served within grace', async () => {
    const [a, b, c] = nodes
    await a.call('set', { key: 'report', value: 'r1', tags: ['reports'] })
    for (const other of [b, c]) expect(await other.call('get', { key: 'report' })).toBe('r1')
    await c.call('expireByTag', { tags: ['reports'] })
    await timeUntil(async () => (await a.call('get', { key: 'report', grace: false })) === undefined && (await b.call('get', { key: 'report', grace: false })) === undefined)
    // Grace (1h on every node) still serves it.
    expect(await a.call('get', { key: 'report' })).toBe('r1')
    expect(await b.call('get', { key: 'report' })).toBe('r1')
  })

  it('a process whose subscription was killed serves none of the values written meanwhile', async () => {
    const [a, b, c] = nodes
    const keys = ['p1', 'p2', 'p3']
    for (const key of keys) await a.call('set', { key, value: `${key}-old` })
    for (const key of keys) expect(await c.call('get', { key })).toBe(`${key}-old`) // in C's L1
    const resubscribedBefore = (await c.stats()).bus.resubscriptions

    // Freeze C so that it cannot resubscribe before the writes, then cut its subscription.
    c.child.kill('SIGSTOP')
    await redis.command('CLIENT', 'KILL', 'ID', subscriberOfC)
    for (const key of keys) await (key === 'p3' ? b : a).call('set', { key, value: `${key}-new` })
    await a.call('delete', { key: 'p2' })
    c.child.kill('SIGCONT')

    await timeUntil(async () => (await c.stats()).bus.resubscriptions > resubscribedBefore, 5000)
    expect(await c.call('get', { key: 'p1' })).toBe('p1-new')
    expect(await c.call('get', { key: 'p2' })).toBeUndefined()
    expect(await c.call('get', { key: 'p3' })).toBe('p3-new')
    // And the bus works for it again.
    await sleep(20)
    await a.call('set', { key: 'p1', value: 'p1-newer' })
    await timeUntil(async () => (await c.call('get', { key: 'p1' })) === 'p1-newer')
  })

  it('stop by themselves once disconnected', async () => {
    await Promise.all(nodes.map((node) => node.stop()))
    for (const node of nodes) expect(node.child.exitCode).toBe(0)
  })
})
