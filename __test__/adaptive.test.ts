/**
 * Adaptive caching: `ctx.setOptions()` inside a factory, and `skipL2Write` / `skipBusNotify`
 * on every write path, checked against a real redis-server with a second cache on the bus:
 * the L2 key is looked up in Redis itself, and what the second cache received is read from
 * its `bus:message:received` events, after a probe message that follows the write (one
 * sender's messages arrive in order, so once the probe is in, the write's message would be).
 */
import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisBusDriver, redisDriver } from '../src/drivers/redis.js'
import { busConnected, createCache, deferred, eventually, rejectionOf, sleep } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'

describe('ctx.setOptions (L1)', () => {
  it('a ttl replaces the call\'s; 0 and null mean forever, as in setTtl', async () => {
    const bento = createCache()
    await bento.getOrSet({ key: 'short', ttl: '1h', factory: (ctx) => (ctx.setOptions({ ttl: 60 }), 's') })
    await bento.getOrSet({ key: 'zero', ttl: 60, factory: (ctx) => (ctx.setOptions({ ttl: 0 }), 'z') })
    await bento.getOrSet({ key: 'null', ttl: 60, factory: (ctx) => (ctx.setOptions({ ttl: null }), 'n') })
    await bento.getOrSet({ key: 'kept', ttl: 60, factory: (ctx) => (ctx.setOptions({ ttl: undefined }), 'k') })
    await sleep(200)
    expect(await bento.getMany({ keys: ['short', 'zero', 'null', 'kept'] })).toEqual([undefined, 'z', 'n', undefined])
  })

  it('tags are added to the call\'s and setTags\'s; deleteByTag of any of them removes the entry', async () => {
    const bento = createCache()
    const tagged = (key: string) =>
      bento.getOrSet({
        key,
        tags: ['call'],
        factory: (ctx) => {
          ctx.setTags(['set-tags'])
          ctx.setOptions({ tags: ['adaptive'] })
          return key
        },
      })
    for (const tag of ['call', 'set-tags', 'adaptive']) {
      await tagged(tag)
      await bento.set({ key: 'other', value: 'o', tags: ['unrelated'] })
      await bento.deleteByTag({ tags: [tag] })
      expect(await bento.get({ key: tag }), tag).toBeUndefined()
      expect(await bento.get({ key: 'other' })).toBe('o')
    }
  })

  it('grace set from the factory keeps the entry past its ttl', async () => {
    const bento = createCache({ timeout: '1s' })
    await bento.getOrSet({ key: 'k', ttl: 50, factory: (ctx) => (ctx.setOptions({ grace: '1h' }), 'v') })
    await sleep(150)
    expect(await bento.get({ key: 'k' })).toBeUndefined() // the call has no grace
    expect(await bento.get({ key: 'k', grace: '1h' })).toBe('v')
  })

  it('an unknown or invalid option fails the factory with E_INVALID_OPTION as its cause', async () => {
    const bento = createCache()
    const misspelt = await rejectionOf(() => bento.getOrSet({ key: 'a', factory: (ctx) => (ctx.setOptions({ tll: 5 } as any), 1) }))
    expect(misspelt.code).toBe('E_FACTORY_ERROR')
    expect(misspelt.cause).toMatchObject({ code: 'E_INVALID_OPTION', option: 'tll' })
    const badTtl = await rejectionOf(() => bento.getOrSet({ key: 'b', factory: (ctx) => (ctx.setOptions({ ttl: 'soon' }), 1) }))
    expect(badTtl.cause).toMatchObject({ code: 'E_INVALID_OPTION', option: 'ttl' })
    const badTags = await rejectionOf(() => bento.getOrSet({ key: 'c', factory: (ctx) => (ctx.setOptions({ tags: 'one' as any }), 1) }))
    expect(badTags.cause).toMatchObject({ code: 'E_INVALID_OPTION', option: 'tags' })
    expect(await bento.getMany({ keys: ['a', 'b', 'c'] })).toEqual([undefined, undefined, undefined])
  })
})

describe('skipL2Write and skipBusNotify on every write path (real redis-server, two caches on the bus)', () => {
  const redis = redisForSuite()

  function node(options: { grace?: string; timeout?: number; eagerRefresh?: number } = {}) {
    return new BentoCache({
      default: 'main',
      ...options,
      stores: {
        main: bentostore()
          .useL1Layer(memoryDriver())
          .useL2Layer(redisDriver({ connection: redis.url, timeout: 500 }))
          .useBus(redisBusDriver({ connection: redis.url, timeout: 500, retryQueue: { retryInterval: '50ms' } })),
      },
    })
  }

  /** Two caches whose subscriptions are up, and the keys `b` is told about, in order. */
  async function pair(options: Parameters<typeof node>[0] = {}) {
    const [a, b] = [node(options), node(options)]
    await busConnected([a, b])
    const heard: string[] = []
    b.on('bus:message:received', ({ message }) => heard.push(...message.keys))
    /** Every key `b` heard of until a probe sent now by `a` arrived. */
    const heardBy = async () => {
      const probe = `__probe${heard.length}:${Date.now()}`
      await a.delete({ key: probe })
      await eventually(() => heard.includes(probe))
      return heard.filter((key) => !key.startsWith('__probe'))
    }
    const inL2 = async (key: string) => (await redis.command('EXISTS', `bentocache:${key}`)) === 1
    const close = () => Promise.all([a.disconnect(), b.disconnect()])
    return { a, b, heardBy, inL2, close }
  }

  /** A factory resolving `value`, counting its calls. */
  function counted<T>(value: T) {
    const factory = async () => (factory.calls++, value)
    factory.calls = 0
    return factory
  }

  it('set and setForever', async () => {
    const { a, heardBy, inL2, close } = await pair()
    await a.set({ key: 'plain', value: 1 })
    await a.set({ key: 'noL2', value: 1, skipL2Write: true })
    await a.set({ key: 'quiet', value: 1, skipBusNotify: true })
    await a.setForever({ key: 'foreverNoL2', value: 1, skipL2Write: true })
    await a.setForever({ key: 'foreverQuiet', value: 1, skipBusNotify: true })
    expect(await heardBy()).toEqual(['plain', 'noL2', 'foreverNoL2'])
    expect(await Promise.all(['plain', 'noL2', 'quiet', 'foreverNoL2', 'foreverQuiet'].map(inL2))).toEqual([true, false, true, false, true])
    // The L1 has every one of them.
    expect(await a.getMany({ keys: ['plain', 'noL2', 'quiet', 'foreverNoL2', 'foreverQuiet'] })).toEqual([1, 1, 1, 1, 1])
    await close()
  })

  it('setMany, for the whole batch or per item', async () => {
    const { a, heardBy, inL2, close } = await pair()
    await a.setMany({ items: [{ key: 'b1', value: 1 }, { key: 'b2', value: 2 }], skipL2Write: true })
    await a.setMany({ items: [{ key: 'q1', value: 1 }, { key: 'q2', value: 2 }], skipBusNotify: true })
    await a.setMany({
      items: [
        { key: 'i-plain', value: 1 },
        { key: 'i-noL2', value: 2, skipL2Write: true },
        { key: 'i-quiet', value: 3, skipBusNotify: true },
        { key: 'i-back', value: 4, skipL2Write: false },
      ],
      skipL2Write: false,
    })
    await a.setMany({ items: [{ key: 'o-override', value: 1, skipBusNotify: false }], skipBusNotify: true })
    expect(await heardBy()).toEqual(['b1', 'b2', 'i-plain', 'i-noL2', 'i-back', 'o-override'])
    const keys = ['b1', 'b2', 'q1', 'q2', 'i-plain', 'i-noL2', 'i-quiet', 'i-back', 'o-override']
    expect(await Promise.all(keys.map(inL2))).toEqual([false, false, true, true, true, false, true, true, true])
    await close()
  })

  it('getOrSet and getOrSetForever factory writes, from the call or from ctx.setOptions', async () => {
    const { a, heardBy, inL2, close } = await pair()
    await a.getOrSet({ key: 'plain', factory: () => 1 })
    await a.getOrSet({ key: 'callNoL2', skipL2Write: true, factory: () => 1 })
    await a.getOrSet({ key: 'callQuiet', skipBusNotify: true, factory: () => 1 })
    await a.getOrSet({ key: 'ctxNoL2', factory: (ctx) => (ctx.setOptions({ skipL2Write: true }), 1) })
    await a.getOrSet({ key: 'ctxQuiet', factory: (ctx) => (ctx.setOptions({ skipBusNotify: true }), 1) })
    await a.getOrSetForever({ key: 'foreverNoL2', skipL2Write: true, factory: () => 1 })
    await a.getOrSetForever({ key: 'foreverQuiet', factory: (ctx) => (ctx.setOptions({ skipBusNotify: true }), 1) })
    // As bentocache's code: setOptions sets both skips, an absent one to false.
    await a.getOrSet({ key: 'ctxReset', skipL2Write: true, skipBusNotify: true, factory: (ctx) => (ctx.setOptions({ ttl: '1h' }), 1) })
    expect(await heardBy()).toEqual(['plain', 'callNoL2', 'ctxNoL2', 'foreverNoL2', 'ctxReset'])
    const keys = ['plain', 'callNoL2', 'callQuiet', 'ctxNoL2', 'ctxQuiet', 'foreverNoL2', 'foreverQuiet', 'ctxReset']
    expect(await Promise.all(keys.map(inL2))).toEqual([true, false, true, false, true, false, true, true])
    await close()
  })

  it('the background write of stale-while-revalidate', async () => {
    const { a, heardBy, inL2, close } = await pair({ grace: '1h', timeout: 0 })
    for (const key of ['noL2', 'quiet', 'ctxNoL2']) await a.set({ key, value: 'stale', ttl: 50, skipBusNotify: true })
    await redis.command('DEL', 'bentocache:noL2', 'bentocache:quiet', 'bentocache:ctxNoL2')
    await sleep(150)
    const factory = counted('fresh')
    expect(await a.getOrSet({ key: 'noL2', factory, skipL2Write: true })).toBe('stale')
    expect(await a.getOrSet({ key: 'quiet', factory, skipBusNotify: true })).toBe('stale')
    expect(await a.getOrSet({ key: 'ctxNoL2', factory: (ctx) => (ctx.setOptions({ skipL2Write: true }), 'fresh') })).toBe('stale')
    await eventually(async () => (await a.getMany({ keys: ['noL2', 'quiet', 'ctxNoL2'], grace: false })).every((v) => v === 'fresh'))
    expect(factory.calls).toBe(2)
    expect(await heardBy()).toEqual(['noL2', 'ctxNoL2'])
    expect(await Promise.all(['noL2', 'quiet', 'ctxNoL2'].map(inL2))).toEqual([false, true, false])
    await close()
  })

  it('the write of a factory that outran its soft timeout', async () => {
    const { a, heardBy, inL2, close } = await pair({ grace: '1h', timeout: 20 })
    await a.set({ key: 'slow', value: 'stale', ttl: 50, skipBusNotify: true })
    await redis.command('DEL', 'bentocache:slow')
    await sleep(150)
    const gate = deferred()
    const value = await a.getOrSet({ key: 'slow', skipL2Write: true, skipBusNotify: true, factory: async () => (await gate.promise, 'fresh') })
    expect(value).toBe('stale')
    gate.resolve()
    await eventually(async () => (await a.get({ key: 'slow', grace: false })) === 'fresh')
    expect(await heardBy()).toEqual([])
    expect(await inL2('slow')).toBe(false)
    await close()
  })

  it('the write of an eager refresh', async () => {
    const { a, heardBy, inL2, close } = await pair({ eagerRefresh: 0.1 })
    for (const key of ['noL2', 'quiet']) await a.set({ key, value: 'old', ttl: 2000, skipBusNotify: true })
    await redis.command('DEL', 'bentocache:noL2', 'bentocache:quiet')
    await sleep(400)
    expect(await a.getOrSet({ key: 'noL2', factory: () => 'new', skipL2Write: true })).toBe('old')
    expect(await a.getOrSet({ key: 'quiet', factory: () => 'new', skipBusNotify: true })).toBe('old')
    await eventually(async () => (await a.getMany({ keys: ['noL2', 'quiet'] })).every((v) => v === 'new'))
    expect(await heardBy()).toEqual(['noL2'])
    expect(await Promise.all(['noL2', 'quiet'].map(inL2))).toEqual([false, true])
    await close()
  })
})
