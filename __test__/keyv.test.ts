/**
 * rustocache/keyv under Keyv and cache-manager 7, as their users would set them up:
 * `createCache({ stores: [new Keyv({ store: new KeyvRustoCache(bento) })] })`.
 */
import { createCache as createCacheManager } from 'cache-manager'
import Keyv from 'keyv'
import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisDriver } from '../src/drivers/redis.js'
import { KeyvRustoCache } from '../src/keyv.js'
import { createCache, sleep } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'

function managerOver(bento: ConstructorParameters<typeof KeyvRustoCache>[0], namespace?: string) {
  const keyv = new Keyv({ store: new KeyvRustoCache(bento), namespace })
  return { keyv, manager: createCacheManager({ stores: [keyv] }) }
}

describe('cache-manager over KeyvRustoCache', () => {
  it('set, get, del and wrap go through the engine', async () => {
    const bento = createCache()
    const { manager } = managerOver(bento, 'app')
    await manager.set('user:1', { name: 'ada' })
    expect(await manager.get('user:1')).toEqual({ name: 'ada' })
    // What Keyv stored (its serialized entry) is in the engine, in the namespace named as Keyv's.
    const stored = await bento.namespace('app').get({ key: 'user:1' })
    expect(JSON.parse(stored)).toMatchObject({ value: { name: 'ada' } })
    expect(bento.getStats().l1?.entries).toBe(1)

    let runs = 0
    const compute = async () => (++runs, 42)
    expect(await manager.wrap('answer', compute)).toBe(42)
    expect(await manager.wrap('answer', compute)).toBe(42)
    expect(runs).toBe(1)

    expect(await manager.del('user:1')).toBe(true)
    expect(await manager.get('user:1')).toBeUndefined()
    await bento.disconnectAll()
  })

  it('mset, mget and mdel use the batch operations', async () => {
    const bento = createCache()
    const { manager } = managerOver(bento)
    await manager.mset([{ key: 'a', value: 1 }, { key: 'b', value: { two: 2 } }])
    expect(await manager.mget(['a', 'missing', 'b'])).toEqual([1, undefined, { two: 2 }])
    await manager.mdel(['a', 'b'])
    expect(await manager.mget(['a', 'b'])).toEqual([undefined, undefined])
    await bento.disconnectAll()
  })

  it('a ttl given to cache-manager expires the entry', async () => {
    const bento = createCache()
    const { manager } = managerOver(bento)
    await manager.set('short', 'value', 150)
    await manager.set('long', 'value')
    expect(await manager.get('short')).toBe('value')
    await sleep(400)
    expect(await manager.get('short')).toBeUndefined()
    expect(await bento.has({ key: 'short' })).toBe(false)
    expect(await manager.get('long')).toBe('value')
    await bento.disconnectAll()
  })

  it('clear() clears its Keyv namespace only', async () => {
    const bento = createCache()
    const first = managerOver(bento, 'first')
    const second = managerOver(bento, 'second')
    await first.manager.set('k', 1)
    await second.manager.set('k', 2)
    await bento.set({ key: 'own', value: 'untouched' })
    await first.manager.clear()
    expect(await first.manager.get('k')).toBeUndefined()
    expect(await second.manager.get('k')).toBe(2)
    expect(await bento.get({ key: 'own' })).toBe('untouched')
    await bento.disconnectAll()
  })

  it('Keyv has, delete (whether it existed) and its own namespace prefix', async () => {
    const bento = createCache()
    const { keyv } = managerOver(bento, 'sessions')
    await keyv.set('s1', { user: 1 })
    expect(await keyv.has('s1')).toBe(true)
    expect(await keyv.delete('s1')).toBe(true)
    expect(await keyv.delete('s1')).toBe(false)
    expect(await keyv.has('s1')).toBe(false)
    await bento.disconnectAll()
  })
})

describe('cache-manager over KeyvRustoCache with Redis as L2', () => {
  const redis = redisForSuite()
  const twoTier = () =>
    new BentoCache({ default: 'main', stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: redis.url })) } })

  it("another cache-manager (an empty L1) reads a value written by the first from Redis", async () => {
    const [a, b] = [twoTier(), twoTier()]
    await managerOver(a).manager.set('shared', { from: 'a' }, 60_000)
    expect(await managerOver(b).manager.get('shared')).toEqual({ from: 'a' })
    expect(b.getStats().l2.hits).toBe(1)
    await Promise.all([a.disconnectAll(), b.disconnectAll()])
  })
})
