import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { createCache, deferred, recordEvents, rejectionOf, sleep } from './helpers.js'

describe('on / once / off', () => {
  it('return the cache, for chaining', () => {
    const bento = createCache()
    const listener = () => {}
    expect(bento.on('cache:hit', listener)).toBe(bento)
    expect(bento.once('cache:miss', listener)).toBe(bento)
    expect(bento.off('cache:hit', listener)).toBe(bento)
  })

  it('on listens until off; once fires a single time', async () => {
    const bento = createCache()
    const onCalls: string[] = []
    const onceCalls: string[] = []
    const listener = (e: { key: string }) => onCalls.push(e.key)
    bento.on('cache:miss', listener)
    bento.once('cache:miss', (e) => onceCalls.push(e.key))
    await bento.get({ key: 'a' })
    await bento.get({ key: 'b' })
    bento.off('cache:miss', listener)
    await bento.get({ key: 'c' })
    expect(onCalls).toEqual(['a', 'b'])
    expect(onceCalls).toEqual(['a'])
  })

  it('events go to a custom emitter given in the options', async () => {
    const emitter = new EventEmitter()
    const seen: unknown[] = []
    emitter.on('cache:written', (e) => seen.push(e))
    const bento = createCache({ emitter })
    await bento.set({ key: 'k', value: 1 })
    expect(seen).toEqual([{ key: 'k', value: 1, store: 'memory' }])
    // on() on the cache registers on that emitter.
    const viaBento: unknown[] = []
    bento.on('cache:deleted', (e) => viaBento.push(e))
    emitter.emit('cache:deleted', { key: 'manual', store: 'x' })
    expect(viaBento).toEqual([{ key: 'manual', store: 'x' }])
  })

  // An unobserved event is skipped without asking the emitter: these check that the gate
  // opens and closes with the listeners, on hits served by every L1 path.
  for (const serialize of [true, false]) {
    it(`listeners added, removed and re-added between hits hear exactly the hits they span (serialize: ${serialize})`, async () => {
      const bento = createCache({ driver: { serialize } })
      await bento.set({ key: 'k', value: 1 })
      await bento.get({ key: 'k' })
      const first: string[] = []
      const second: string[] = []
      const hearFirst = (e: { key: string }) => first.push(e.key)
      const hearSecond = (e: { key: string }) => second.push(e.key)
      bento.on('cache:hit', hearFirst).on('cache:hit', hearSecond)
      await bento.get({ key: 'k' })
      bento.off('cache:hit', hearFirst)
      await bento.get({ key: 'k' })
      bento.off('cache:hit', hearSecond)
      await bento.get({ key: 'k' })
      bento.once('cache:hit', hearFirst)
      await bento.get({ key: 'k' })
      await bento.get({ key: 'k' })
      bento.on('cache:hit', hearSecond)
      await bento.getOrSet({ key: 'k', factory: () => 2 })
      expect(first).toEqual(['k', 'k'])
      expect(second).toEqual(['k', 'k', 'k'])
    })

    it(`a custom emitter subscribed directly, after hits, hears the next ones (serialize: ${serialize})`, async () => {
      const emitter = new EventEmitter()
      const bento = createCache({ emitter, driver: { serialize } })
      await bento.set({ key: 'k', value: 1 })
      await bento.get({ key: 'k' })
      const seen: unknown[] = []
      emitter.on('cache:hit', (e) => seen.push(e))
      await bento.get({ key: 'k' })
      expect(seen).toEqual([{ key: 'k', value: 1, store: 'memory', layer: 'l1', graced: false }])
    })
  }
})

describe('payloads', () => {
  it('set emits cache:written with the raw (unserialized) value', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    const value = { a: 1, d: new Date(0) }
    await bento.set({ key: 'k', value })
    expect(events).toEqual([['cache:written', { key: 'k', value, store: 'memory' }]])
    expect(events[0][1].value).toBe(value)
  })

  it('setForever emits cache:written', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await bento.setForever({ key: 'k', value: 'v' })
    expect(events).toEqual([['cache:written', { key: 'k', value: 'v', store: 'memory' }]])
  })

  it('get emits cache:hit { key, value, store, layer: l1, graced: false } on a hit', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: { n: 1 } })
    const events = recordEvents(bento)
    await bento.get({ key: 'k' })
    expect(events).toEqual([['cache:hit', { key: 'k', value: { n: 1 }, store: 'memory', layer: 'l1', graced: false }]])
  })

  it('get emits cache:miss { key, store } on a miss', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await bento.get({ key: 'nope', defaultValue: 'd' })
    expect(events).toEqual([['cache:miss', { key: 'nope', store: 'memory' }]])
  })

  it('a graced get emits cache:hit with the plain value, layer l1, graced true', async () => {
    const bento = createCache({ grace: '2s' })
    await bento.set({ key: 'k', value: { n: 1 }, ttl: 50 })
    await sleep(120)
    const events = recordEvents(bento)
    expect(await bento.get({ key: 'k' })).toEqual({ n: 1 })
    expect(events).toEqual([['cache:hit', { key: 'k', value: { n: 1 }, store: 'memory', layer: 'l1', graced: true }]])
  })

  it('a stale entry with grace turned off for the call emits cache:miss', async () => {
    const bento = createCache({ grace: '2s' })
    await bento.set({ key: 'k', value: 1, ttl: 50 })
    await sleep(120)
    const events = recordEvents(bento)
    await bento.get({ key: 'k', grace: false })
    expect(events).toEqual([['cache:miss', { key: 'k', store: 'memory' }]])
  })

  it('getOrSet on a miss emits cache:written, then cache:miss; on a hit, cache:hit', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await bento.getOrSet({ key: 'k', factory: () => 'v' })
    expect(events).toEqual([
      ['cache:written', { key: 'k', value: 'v', store: 'memory' }],
      ['cache:miss', { key: 'k', store: 'memory' }],
    ])
    events.length = 0
    await bento.getOrSet({ key: 'k', factory: () => 'other' })
    expect(events).toEqual([['cache:hit', { key: 'k', value: 'v', store: 'memory', layer: 'l1', graced: false }]])
  })

  it('getOrSet with a skipped factory emits only cache:miss', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await bento.getOrSet({ key: 'k', factory: (ctx) => ctx.skip() })
    expect(events).toEqual([['cache:miss', { key: 'k', store: 'memory' }]])
  })

  it('getOrSet with a failing factory emits nothing', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await rejectionOf(() => bento.getOrSet({ key: 'k', factory: (ctx) => ctx.fail() }))
    expect(events).toEqual([])
  })

  it('getOrSet serving a stale value on failure emits cache:hit graced', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const events = recordEvents(bento)
    await bento.getOrSet({ key: 'k', factory: (ctx) => ctx.fail() })
    const hits = events.filter(([name]) => name === 'cache:hit')
    expect(hits).toEqual([['cache:hit', { key: 'k', value: 'stale', store: 'memory', layer: 'l1', graced: true }]])
    expect(events.some(([name]) => name === 'cache:miss')).toBe(false)
  })

  it('stale-while-revalidate emits a graced hit now and cache:written when the refresh lands', async () => {
    const bento = createCache({ grace: '2s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const events = recordEvents(bento)
    const gate = deferred()
    await bento.getOrSet({ key: 'k', factory: async () => (await gate.promise, 'fresh') })
    expect(events).toEqual([['cache:hit', { key: 'k', value: 'stale', store: 'memory', layer: 'l1', graced: true }]])
    gate.resolve()
    await sleep(30)
    expect(events[1]).toEqual(['cache:written', { key: 'k', value: 'fresh', store: 'memory' }])
  })

  it('delete emits cache:deleted, even for a missing key', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 1 })
    const events = recordEvents(bento)
    await bento.delete({ key: 'k' })
    await bento.delete({ key: 'missing' })
    expect(events).toEqual([
      ['cache:deleted', { key: 'k', store: 'memory' }],
      ['cache:deleted', { key: 'missing', store: 'memory' }],
    ])
  })

  it('deleteMany emits one cache:deleted per key, in order', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await bento.deleteMany({ keys: ['c', 'a', 'b'] })
    expect(events.map(([name, e]) => [name, e.key])).toEqual([
      ['cache:deleted', 'c'],
      ['cache:deleted', 'a'],
      ['cache:deleted', 'b'],
    ])
  })

  it('pull emits the hit then cache:deleted', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 1 })
    const events = recordEvents(bento)
    await bento.pull('k')
    expect(events).toEqual([
      ['cache:hit', { key: 'k', value: 1, store: 'memory', layer: 'l1', graced: false }],
      ['cache:deleted', { key: 'k', store: 'memory' }],
    ])
  })

  it('clear emits cache:cleared { store }', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    await bento.clear()
    expect(events).toEqual([['cache:cleared', { store: 'memory' }]])
  })

  it('expire emits cache:expire { key, store }, even for a missing key', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 1 })
    const events = recordEvents(bento)
    await bento.expire({ key: 'k' })
    await bento.expire({ key: 'missing' })
    expect(events).toEqual([
      ['cache:expire', { key: 'k', store: 'memory' }],
      ['cache:expire', { key: 'missing', store: 'memory' }],
    ])
  })

  it('has and missing emit nothing', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 1 })
    const events = recordEvents(bento)
    await bento.has({ key: 'k' })
    await bento.missing({ key: 'k' })
    await bento.has({ key: 'nope' })
    expect(events).toEqual([])
  })

  it('the store field names the store the operation ran on', async () => {
    const bento = new BentoCache({
      default: 'first',
      stores: {
        first: bentostore().useL1Layer(memoryDriver()),
        second: bentostore().useL1Layer(memoryDriver()),
      },
    })
    const events = recordEvents(bento)
    await bento.set({ key: 'a', value: 1 })
    await bento.use('second').set({ key: 'b', value: 2 })
    await bento.use('second').clear()
    expect(events).toEqual([
      ['cache:written', { key: 'a', value: 1, store: 'first' }],
      ['cache:written', { key: 'b', value: 2, store: 'second' }],
      ['cache:cleared', { store: 'second' }],
    ])
  })

  it('events from a namespace carry the un-prefixed key', async () => {
    const bento = createCache()
    const events = recordEvents(bento)
    const ns = bento.namespace('users').namespace('admins')
    await ns.set({ key: '1', value: 'ada' })
    await ns.get({ key: '1' })
    await ns.delete({ key: '1' })
    await ns.clear()
    expect(events).toEqual([
      ['cache:written', { key: '1', value: 'ada', store: 'memory' }],
      ['cache:hit', { key: '1', value: 'ada', store: 'memory', layer: 'l1', graced: false }],
      ['cache:deleted', { key: '1', store: 'memory' }],
      ['cache:cleared', { store: 'memory' }],
    ])
  })

  it('a listener that throws does not corrupt the cache state', async () => {
    const bento = createCache()
    bento.on('cache:written', () => {
      throw new Error('listener failure')
    })
    // Node's EventEmitter rethrows listener errors to the emitter; the write happened first.
    try {
      await bento.set({ key: 'k', value: 1 })
    } catch {}
    expect(await bento.has({ key: 'k' })).toBe(true)
  })
})

describe('cache:evicted', () => {
  it('reports each key evicted over maxItems, once, with its store; evicted keys are gone', async () => {
    const bento = createCache({ driver: { maxItems: 10 } })
    // Evictions before anyone listens are not kept.
    for (let i = 0; i < 50; i++) await bento.set({ key: `early${i}`, value: i })
    bento.getStats()
    // The early keys still held may be evicted (and reported) later; the others never are.
    const heldEarly = new Set<string>()
    for (let i = 0; i < 50; i++) if (await bento.has({ key: `early${i}` })) heldEarly.add(`early${i}`)
    const events: Array<{ key: string; store: string; reason: string }> = []
    bento.on('cache:evicted', (event) => events.push(event))
    for (let i = 0; i < 100; i++) await bento.set({ key: `k${i}`, value: i })
    bento.getStats() // runs the engine's pending evictions now
    await sleep(250)
    const keys = events.map((e) => e.key)
    expect(keys.filter((key) => key.startsWith('early') && !heldEarly.has(key))).toEqual([])
    expect(new Set(keys).size).toBe(keys.length)
    expect(events.length).toBeGreaterThanOrEqual(90)
    expect(events.every((e) => e.reason === 'size' && e.store === 'memory')).toBe(true)
    for (const key of keys) expect(await bento.has({ key })).toBe(false)
    expect(bento.getStats().l1!.evictions).toBeGreaterThanOrEqual(events.length)
  })

  it('reports entries dropped past their ttl and grace as expired, with namespaced keys as stored', async () => {
    const bento = createCache()
    const events: Array<{ key: string; reason: string }> = []
    bento.on('cache:evicted', (event) => events.push(event))
    await bento.namespace('users').set({ key: '1', value: 'a', ttl: 30 })
    await bento.set({ key: 'kept', value: 'b' })
    // Physical expiry is applied by the policy's timer wheel, about a second late.
    await sleep(1500)
    bento.getStats()
    await sleep(250)
    expect(events).toEqual([{ key: 'users:1', store: 'memory', reason: 'expired' }])
  })
})
