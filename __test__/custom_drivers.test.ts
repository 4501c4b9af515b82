/**
 * bentocache's extension contracts: an L2 driver written in JavaScript (`L2CacheDriver`) and
 * a bus transport written in JavaScript (`@boringnode/bus`'s `Transport`), plugged in with
 * `useL2Layer`/`useBus` — drivers written here, and bentocache's own Redis driver and Redis
 * bus transport on a real redis-server.
 */
import { describe, expect, it } from 'vitest'
import { redisDriver as bentoRedisDriver } from 'bentocache/drivers/redis'
import { RedisTransport } from '@boringnode/bus/transports/redis'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { sleep } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'

const redis = redisForSuite()

/** One storage shared by several drivers (as one database is by several processes). */
type Storage = Map<string, { value: string; dropAt: number | null }>

/** A bentocache-style L2 driver over a Map: keys under `<prefix>:`, namespaces nested. */
class MapDriver {
  readonly type = 'l2'
  calls = 0

  constructor(
    readonly storage: Storage,
    readonly prefix: string,
  ) {}

  #key(key: string) {
    return `${this.prefix}:${key}`
  }

  namespace(namespace: string) {
    return new MapDriver(this.storage, `${this.prefix}:${namespace}`)
  }

  async get(key: string) {
    this.calls++
    const item = this.storage.get(this.#key(key))
    if (!item || (item.dropAt !== null && item.dropAt <= Date.now())) return undefined
    return item.value
  }

  async set(key: string, value: string, ttl?: number) {
    this.calls++
    this.storage.set(this.#key(key), { value, dropAt: ttl === undefined ? null : Date.now() + ttl })
    return true
  }

  async delete(key: string) {
    return this.storage.delete(this.#key(key))
  }

  async deleteMany(keys: string[]) {
    for (const key of keys) this.storage.delete(this.#key(key))
    return true
  }

  async clear() {
    for (const key of [...this.storage.keys()]) if (key.startsWith(`${this.prefix}:`)) this.storage.delete(key)
  }

  async disconnect() {}

  async prune() {
    for (const [key, item] of this.storage) if (item.dropAt !== null && item.dropAt <= Date.now()) this.storage.delete(key)
  }
}

/** `useL2Layer()`'s argument for a {@link MapDriver} over `storage`, as a user writes one. */
function mapDriver(storage: Storage, options: Record<string, unknown> = {}) {
  return { options, factory: (config: { prefix: string }) => new MapDriver(storage, config.prefix) }
}

function cacheOver(l2: ReturnType<typeof mapDriver> | object, options: { l1?: boolean; global?: Record<string, unknown> } = {}) {
  let store = bentostore()
  if (options.l1 !== false) store = store.useL1Layer(memoryDriver())
  store = store.useL2Layer(l2 as never)
  return new BentoCache({ default: 'main', stores: { main: store }, ...options.global })
}

describe('an L2 driver written in JavaScript', () => {
  it('serves as the L2: another cache reads it, backfills its L1, and L2-only stores work', async () => {
    const storage: Storage = new Map()
    const writer = cacheOver(mapDriver(storage))
    await writer.set({ key: 'user:1', value: { name: 'Ada' }, ttl: '1m', grace: '1h' })
    // bentocache's key scheme: the driver files it under its prefix.
    expect([...storage.keys()]).toEqual(['bentocache:user:1'])
    expect(storage.get('bentocache:user:1')!.dropAt! - Date.now()).toBeGreaterThan(3_600_000)

    const reader = cacheOver(mapDriver(storage))
    expect(await reader.get({ key: 'user:1' })).toEqual({ name: 'Ada' })
    expect(await reader.get({ key: 'user:1' })).toEqual({ name: 'Ada' })
    expect(reader.getStats().l2.hits).toBe(1) // the second read was an L1 hit
    expect(await cacheOver(mapDriver(storage), { l1: false }).get({ key: 'user:1' })).toEqual({ name: 'Ada' })
  })

  it('getOrSet, setMany, getMany, deleteMany and expire go through the driver', async () => {
    const storage: Storage = new Map()
    const cache = cacheOver(mapDriver(storage), { l1: false })
    let runs = 0
    expect(await cache.getOrSet({ key: 'k', factory: () => ++runs })).toBe(1)
    expect(await cacheOver(mapDriver(storage)).getOrSet({ key: 'k', factory: () => ++runs })).toBe(1)
    await cache.setMany({ items: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }] })
    expect(await cache.getMany({ keys: ['a', 'b', 'none'] })).toEqual([1, 2, undefined])
    await cache.deleteMany({ keys: ['a'] })
    expect(await cache.getMany({ keys: ['a', 'b'] })).toEqual([undefined, 2])
    await cache.set({ key: 'e', value: 'old', grace: '1h' })
    await cache.expire({ key: 'e' })
    expect(await cache.get({ key: 'e', grace: false })).toBeUndefined()
    expect(await cache.get({ key: 'e', grace: '1h' })).toBe('old') // stale, kept for its grace
  })

  it("namespaces are the driver's own namespaces, and clear reaches only its own", async () => {
    const storage: Storage = new Map()
    const cache = cacheOver(mapDriver(storage))
    await cache.set({ key: 'k', value: 'root' })
    await cache.namespace('users').set({ key: 'k', value: 'user' })
    expect([...storage.keys()].sort()).toEqual(['bentocache:k', 'bentocache:users:k'])
    await cache.namespace('users').clear()
    expect([...storage.keys()]).toEqual(['bentocache:k'])
    expect(await cacheOver(mapDriver(storage), { l1: false }).get({ key: 'k' })).toBe('root')
  })

  it('deleteByTag removes what another cache wrote; expireByTag leaves it for grace', async () => {
    const storage: Storage = new Map()
    const writer = cacheOver(mapDriver(storage))
    await writer.set({ key: 'p1', value: 1, tags: ['products'] })
    await writer.set({ key: 'p2', value: 2, tags: ['products', 'sale'], grace: '1h' })
    await writer.set({ key: 'other', value: 3 })
    const other = cacheOver(mapDriver(storage))
    await other.deleteByTag({ tags: ['products'] })
    const reader = cacheOver(mapDriver(storage), { l1: false })
    expect(await reader.getMany({ keys: ['p1', 'p2', 'other'] })).toEqual([undefined, undefined, 3])
    expect(await writer.get({ key: 'p1' })).toBe(1) // writer's L1: no bus here, as in bentocache

    await writer.set({ key: 's', value: 'on sale', tags: ['sale'], grace: '1h' })
    await other.expireByTag({ tags: ['sale'] })
    const late = cacheOver(mapDriver(storage))
    expect(await late.get({ key: 's', grace: false })).toBeUndefined()
    expect(await late.get({ key: 's', grace: '1h' })).toBe('on sale')
  })

  it('a value the driver holds that is not an entry is a reported miss', async () => {
    const storage: Storage = new Map([['bentocache:bad', { value: '{"some":"json"}', dropAt: null }]])
    const cache = cacheOver(mapDriver(storage))
    const reports: Array<{ reason: string }> = []
    cache.on('l2:unreadable', (event) => reports.push(event))
    expect(await cache.get({ key: 'bad' })).toBeUndefined()
    expect(reports).toEqual([expect.objectContaining({ key: 'bad', reason: expect.stringContaining('not a rustocache entry') })])
    expect(cache.getStats().l2.unreadable).toBe(1)
  })

  it('prune() reaches the driver', async () => {
    const storage: Storage = new Map([['bentocache:gone', { value: 'x', dropAt: Date.now() - 1 }]])
    await cacheOver(mapDriver(storage)).prune()
    expect(storage.size).toBe(0)
  })

  it('a driver that always throws: with an L1 nothing rejects and writes wait for retry; without, E_L2_CACHE_ERROR', async () => {
    const failing = {
      options: {},
      factory: (config: { prefix: string }) =>
        Object.assign(new MapDriver(new Map(), config.prefix), {
          get: () => Promise.reject(new Error('disk on fire')),
          set: () => Promise.reject(new Error('disk on fire')),
          deleteMany: () => {
            throw new Error('thrown, not rejected')
          },
        }),
    }
    const cache = cacheOver(failing, { global: { l2CircuitBreakerDuration: '1h' } })
    await cache.set({ key: 'k', value: 'v' })
    expect(await cache.get({ key: 'k' })).toBe('v')
    expect(await cache.getOrSet({ key: 'new', factory: () => 'computed' })).toBe('computed')
    await cache.deleteMany({ keys: ['k'] })
    const stats = cache.getStats().l2
    expect(stats.errors).toBe(1) // the first failure opened the breaker
    expect(stats.skipped).toBeGreaterThan(0)
    expect(stats.retries.pending).toBe(2) // 'new' and the delete of 'k'; 'k' superseded

    const l2Only = cacheOver(failing, { l1: false })
    await expect(l2Only.get({ key: 'k' })).rejects.toMatchObject({ code: 'E_L2_CACHE_ERROR' })
  })

  it("a driver that never answers costs its timeout: reads are misses, the L1 still serves", async () => {
    const hanging = {
      options: { timeout: '50ms' },
      factory: (config: { prefix: string }) =>
        Object.assign(new MapDriver(new Map(), config.prefix), {
          get: () => new Promise(() => {}),
          set: () => new Promise(() => {}),
        }),
    }
    const cache = cacheOver(hanging)
    await cache.set({ key: 'k', value: 'v' })
    expect(await cache.get({ key: 'k' })).toBe('v')
    expect(await cache.get({ key: 'absent' })).toBeUndefined()
    expect(cache.getStats().l2.errors).toBe(2)
  })

  it('what is not a driver is refused when the store is built', () => {
    expect(() => cacheOver({ options: {}, factory: () => ({ get() {} }) })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'useL2Layer' }),
    )
  })

  it("bentocache's own Redis driver works as a JS driver, on a real redis-server", async () => {
    const driver = () => bentoRedisDriver({ connection: { host: '127.0.0.1', port: redis.port } })
    const writer = cacheOver(driver())
    await writer.set({ key: 'user:1', value: { name: 'Ada' }, tags: ['users'] })
    expect(await redis.command('EXISTS', 'bentocache:user:1')).toBe(1)
    const reader = cacheOver(driver(), { l1: false })
    expect(await reader.get({ key: 'user:1' })).toEqual({ name: 'Ada' })
    await reader.deleteByTag({ tags: ['users'] })
    expect(await redis.command('EXISTS', 'bentocache:user:1')).toBe(0)
    await Promise.all([writer.disconnect(), reader.disconnect()])
  })
})

/** A bus transport written in JS (`@boringnode/bus`'s contract): one process, in memory. */
class LoopbackTransport {
  static readonly subscribers = new Map<string, Set<LoopbackTransport>>()
  id = ''
  handler: ((message: unknown) => void) | undefined
  reconnect: (() => void) | undefined

  setId(id: string) {
    this.id = id
    return this
  }

  async publish(channel: string, message: unknown) {
    const copy = JSON.parse(JSON.stringify(message)) // what crosses a wire is a copy
    for (const peer of LoopbackTransport.subscribers.get(channel) ?? []) if (peer !== this) queueMicrotask(() => peer.handler?.(copy))
  }

  async subscribe(channel: string, handler: (message: unknown) => void) {
    this.handler = handler
    const peers = LoopbackTransport.subscribers.get(channel) ?? new Set()
    LoopbackTransport.subscribers.set(channel, peers.add(this))
  }

  async unsubscribe(channel: string) {
    LoopbackTransport.subscribers.get(channel)?.delete(this)
  }

  async disconnect() {
    this.handler = undefined
  }

  onReconnect(callback: () => void) {
    this.reconnect = callback
  }
}

describe('a bus transport written in JavaScript', () => {
  function node(storage: Storage, transports: LoopbackTransport[]) {
    const store = bentostore()
      .useL1Layer(memoryDriver())
      .useL2Layer(mapDriver(storage))
      .useBus({ options: { retryQueue: { enabled: true } }, factory: () => transports[transports.push(new LoopbackTransport()) - 1] })
    return new BentoCache({ default: 'main', stores: { main: store } })
  }

  it('connects two caches of one process: set, delete and clear reach the other L1', async () => {
    const storage: Storage = new Map()
    const transports: LoopbackTransport[] = []
    const [a, b] = [node(storage, transports), node(storage, transports)]
    await a.set({ key: 'k', value: 1 })
    expect(await b.get({ key: 'k' })).toBe(1) // now in b's L1
    await a.set({ key: 'k', value: 2 })
    await sleep(10)
    expect(await b.get({ key: 'k' })).toBe(2)
    await a.delete({ key: 'k' })
    await sleep(10)
    expect(await b.get({ key: 'k' })).toBeUndefined()
    await b.set({ key: 'x', value: 'b' })
    expect(await a.get({ key: 'x' })).toBe('b')
    await b.clear()
    await sleep(10)
    expect(await a.get({ key: 'x' })).toBeUndefined()
    expect(a.getStats().bus?.received).toBeGreaterThan(0)
    await Promise.all([a.disconnect(), b.disconnect()])
  })

  it("a skipped sequence number or a reconnection clears the receiver's L1 (bus:gap)", async () => {
    const storage: Storage = new Map()
    const transports: LoopbackTransport[] = []
    const [a, b] = [node(storage, transports), node(storage, transports)]
    const gaps: unknown[] = []
    b.on('bus:gap', (event) => gaps.push(event))
    await a.set({ key: 'first', value: 1 }) // b learns a's sequence
    await b.set({ key: 'mine', value: 'kept?' })
    await sleep(10)
    // A message of a's numbered 5 when b saw 1: three were lost.
    const [transportA, transportB] = transports
    transportB.handler!({ rustocache: 1, sender: transportA.id, seq: 5, kind: 'delete', store: 'main', namespace: '', keys: ['none'], at: Date.now() })
    expect(gaps).toEqual([expect.objectContaining({ reason: 'gap' })])
    storage.clear() // so a read can only come from b's L1
    expect(await b.get({ key: 'mine' })).toBeUndefined()
    await b.set({ key: 'again', value: 1 })
    storage.clear()
    transportB.reconnect!()
    expect(gaps).toHaveLength(2)
    expect(await b.get({ key: 'again' })).toBeUndefined()
    await Promise.all([a.disconnect(), b.disconnect()])
  })

  // (bentocache's own redisBusDriver wraps this transport in an encoder of bentocache's
  // messages only, which cannot carry ours: see the README.)
  it("@boringnode/bus's Redis transport connects two caches through a real redis-server", async () => {
    const storage: Storage = new Map()
    const connection = { host: '127.0.0.1', port: redis.port }
    const transport = { options: {}, factory: () => new RedisTransport(connection) }
    const make = () =>
      new BentoCache({
        default: 'main',
        stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(mapDriver(storage)).useBus(transport) },
      })
    const [a, b] = [make(), make()]
    await sleep(200) // both subscribed
    await a.set({ key: 'k', value: 1 })
    expect(await b.get({ key: 'k' })).toBe(1)
    await a.set({ key: 'k', value: 2 })
    await expect.poll(() => b.get({ key: 'k' }), { timeout: 2000 }).toBe(2)
    await Promise.all([a.disconnect(), b.disconnect()])
  })
})
