import { describe, expect, it } from 'vitest'
import { memoryDriver } from '../src/drivers/memory.js'
import { createCache, eventually, rejectionOf, sleep } from './helpers.js'

/** The slot table of a `serialize: false` store (white-box: not part of the public API). */
function slotsOf(bento: ReturnType<typeof createCache>): { values: unknown[] } {
  return (bento.use() as any).l1.slots
}

describe('memoryDriver()', () => {
  it('returns { options, factory } as bentocache does', () => {
    const driver = memoryDriver({ maxItems: 2 })
    expect(driver.options).toEqual({ maxItems: 2 })
    expect(typeof driver.factory).toBe('function')
    expect(JSON.stringify(driver)).toBe('{"options":{"maxItems":2}}')
  })
})

describe('limits', () => {
  it('maxItems: after many sets the store holds at most maxItems entries and counts evictions', async () => {
    const bento = createCache({ driver: { maxItems: 10 } })
    for (let i = 0; i < 500; i++) await bento.set({ key: `k${i}`, value: i })
    const { l1 } = bento.getStats()
    expect(l1.entries).toBeGreaterThan(0)
    expect(l1.entries).toBeLessThanOrEqual(10)
    expect(l1.evictions).toBeGreaterThan(0)
    expect(l1.writes).toBe(500)
    expect(l1.entries + l1.evictions).toBe(500)
  })

  it('maxItems defaults to 1000', async () => {
    const bento = createCache()
    for (let i = 0; i < 3000; i++) await bento.set({ key: `k${i}`, value: i })
    const { l1 } = bento.getStats()
    expect(l1.entries).toBeLessThanOrEqual(1000)
    expect(l1.entries).toBeGreaterThan(500)
    expect(l1.evictions).toBeGreaterThanOrEqual(2000)
  })

  it('after evictions, at most maxItems keys are readable and each holds its own value', async () => {
    const bento = createCache({ driver: { maxItems: 20 } })
    for (let i = 0; i < 1000; i++) await bento.set({ key: `k${i}`, value: { i } })
    let found = 0
    for (let i = 0; i < 1000; i++) {
      const value = await bento.get({ key: `k${i}` })
      if (value !== undefined) {
        found++
        expect(value).toEqual({ i })
      }
    }
    expect(found).toBeGreaterThan(0)
    expect(found).toBeLessThanOrEqual(20)
  })

  it('TinyLFU: frequently read keys survive a scan of one-off keys', async () => {
    const bento = createCache({ driver: { maxItems: 100 } })
    for (let i = 0; i < 10; i++) await bento.set({ key: `hot${i}`, value: i })
    for (let round = 0; round < 30; round++) for (let i = 0; i < 10; i++) await bento.get({ key: `hot${i}` })
    bento.getStats() // applies the recorded reads to the policy
    for (let i = 0; i < 2000; i++) await bento.set({ key: `cold${i}`, value: i })
    let survivors = 0
    for (let i = 0; i < 10; i++) if ((await bento.get({ key: `hot${i}` })) === i) survivors++
    // A plain LRU would have evicted all ten.
    expect(survivors).toBeGreaterThanOrEqual(8)
    expect(bento.getStats().l1.entries).toBeLessThanOrEqual(100)
  })

  it('maxSize in bytes: bytes held stay within the limit', async () => {
    const bento = createCache({ driver: { maxSize: 2048 } })
    for (let i = 0; i < 300; i++) await bento.set({ key: `k${i}`, value: 'x'.repeat(100) })
    const { l1 } = bento.getStats()
    expect(l1.bytes).toBeGreaterThan(0)
    expect(l1.bytes).toBeLessThanOrEqual(2048)
    expect(l1.evictions).toBeGreaterThan(0)
  })

  it.each([
    ['1kb', 1024],
    ['1KB', 1024],
    ['1.5kb', 1536],
    ['2048', 2048],
    ['2 kb', 2048],
  ])('maxSize %j: bytes held stay within %i', async (maxSize, limit) => {
    const bento = createCache({ driver: { maxSize } })
    for (let i = 0; i < 200; i++) await bento.set({ key: `k${i}`, value: 'y'.repeat(50) })
    const { l1 } = bento.getStats()
    expect(l1.bytes).toBeGreaterThan(0)
    expect(l1.bytes).toBeLessThanOrEqual(limit)
    expect(l1.evictions).toBeGreaterThan(0)
  })

  it('maxItems and maxSize hold together', async () => {
    const bento = createCache({ driver: { maxItems: 5, maxSize: '1mb' } })
    for (let i = 0; i < 100; i++) await bento.set({ key: `k${i}`, value: 'small' })
    expect(bento.getStats().l1.entries).toBeLessThanOrEqual(5)
  })

  it('maxEntrySize (without maxSize): an oversized set leaves the key holding nothing and is counted as rejected', async () => {
    const bento = createCache({ driver: { maxEntrySize: 64 } })
    await bento.set({ key: 'k', value: 'small' })
    expect(await bento.get({ key: 'k' })).toBe('small')
    // set still resolves true, as bentocache's.
    expect(await bento.set({ key: 'k', value: 'x'.repeat(200) })).toBe(true)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    expect(await bento.has({ key: 'k' })).toBe(false)
    await bento.set({ key: 'other', value: 'z'.repeat(500) })
    expect(await bento.has({ key: 'other' })).toBe(false)
    const { l1 } = bento.getStats()
    expect(l1.rejected).toBe(2)
    expect(l1.entries).toBe(0)
    expect(l1.writes).toBe(1)
  })

  it('a key past 16 MiB is not stored, counted as rejected, and loses nothing else', async () => {
    const bento = createCache({ driver: { maxItems: 10 } })
    const longest = 'k'.repeat(16 * 2 ** 20 - 'bentocache:'.length - 1)
    const tooLong = longest + 'kk'
    await bento.set({ key: 'small', value: 1 })
    expect(await bento.set({ key: tooLong, value: 2 })).toBe(true)
    expect(await bento.get({ key: tooLong })).toBeUndefined()
    await bento.set({ key: longest, value: 3 })
    expect(await bento.get({ key: longest })).toBe(3)
    expect(await bento.get({ key: 'small' })).toBe(1)
    const { l1 } = bento.getStats()
    expect([l1.rejected, l1.writes, l1.entries]).toEqual([1, 2, 2])
  })

  it('maxEntrySize as a string ("1kb")', async () => {
    const bento = createCache({ driver: { maxEntrySize: '1kb' } })
    await bento.set({ key: 'fits', value: 'a'.repeat(900) })
    await bento.set({ key: 'too-big', value: 'a'.repeat(1100) })
    expect(await bento.has({ key: 'fits' })).toBe(true)
    expect(await bento.has({ key: 'too-big' })).toBe(false)
    expect(bento.getStats().l1.rejected).toBe(1)
  })

  it('maxEntrySize with getOrSet: the caller gets the value, but it is not cached', async () => {
    const bento = createCache({ driver: { maxEntrySize: 64 } })
    let calls = 0
    const factory = () => (calls++, 'x'.repeat(200))
    expect(await bento.getOrSet({ key: 'k', factory })).toBe('x'.repeat(200))
    expect(await bento.getOrSet({ key: 'k', factory })).toBe('x'.repeat(200))
    expect(calls).toBe(2)
    expect(bento.getStats().l1.rejected).toBe(2)
  })
})

describe('l1 bytes and entries', () => {
  it('weighs an entry as its stored key plus its serialized value, and drops it on delete', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'v' })
    expect(bento.getStats().l1).toMatchObject({ entries: 1, bytes: 'bentocache:k'.length + '"v"'.length })
    await bento.set({ key: 'obj', value: { a: 1 } })
    expect(bento.getStats().l1).toMatchObject({
      entries: 2,
      bytes: 15 + 'bentocache:obj'.length + JSON.stringify({ a: 1 }).length,
    })
    await bento.delete({ key: 'k' })
    expect(bento.getStats().l1.bytes).toBe('bentocache:obj'.length + JSON.stringify({ a: 1 }).length)
    await bento.clear()
    expect(bento.getStats().l1).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('tags given to set are weighed', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'v', tags: ['tag-one', 'two'] })
    expect(bento.getStats().l1.bytes).toBe('bentocache:k'.length + 3 + 'tag-one'.length + 'two'.length)
  })

  it('multi-byte text is weighed in UTF-8 bytes', async () => {
    const bento = createCache({ prefix: '' })
    await bento.set({ key: 'é', value: '🎉' })
    expect(bento.getStats().l1.bytes).toBe(Buffer.byteLength('é') + Buffer.byteLength('"🎉"'))
  })

  it('expired entries are no longer counted in entries or bytes', async () => {
    const bento = createCache()
    for (let i = 0; i < 5; i++) await bento.set({ key: `k${i}`, value: i, ttl: 50 })
    await bento.set({ key: 'live', value: 'x' })
    await sleep(200)
    for (let i = 0; i < 5; i++) expect(await bento.get({ key: `k${i}` })).toBeUndefined()
    const { l1 } = bento.getStats()
    expect(l1.bytes).toBe('bentocache:live'.length + 3)
    expect(l1.entries).toBe(1)
  })

  it('expired entries are eventually dropped and counted as expirations', async () => {
    const bento = createCache()
    for (let i = 0; i < 5; i++) await bento.set({ key: `k${i}`, value: i, ttl: 50 })
    await sleep(1800)
    const { l1 } = bento.getStats()
    expect(l1.entries).toBe(0)
    expect(l1.bytes).toBe(0)
    expect(l1.expirations).toBe(5)
  })
})

describe('serialize: true (default)', () => {
  it('get returns a copy: mutating it does not change the cache', async () => {
    const bento = createCache()
    const original = { list: [1, 2], nested: { a: 1 } }
    await bento.set({ key: 'k', value: original })
    original.list.push(99) // mutating what was set does not change the cache either
    const first = await bento.get({ key: 'k' })
    expect(first).toEqual({ list: [1, 2], nested: { a: 1 } })
    first.nested.a = 42
    const second = await bento.get({ key: 'k' })
    expect(second).toEqual({ list: [1, 2], nested: { a: 1 } })
    expect(second).not.toBe(first)
  })

  it('values go through JSON: a Date becomes its ISO string, undefined props vanish, NaN becomes null', async () => {
    const bento = createCache()
    const date = new Date('2024-01-02T03:04:05.000Z')
    await bento.set({ key: 'k', value: { date, gone: undefined, nan: Number.NaN } })
    const value = await bento.get({ key: 'k' })
    expect(value).toEqual({ date: '2024-01-02T03:04:05.000Z', nan: null })
    expect('gone' in value).toBe(false)
  })

  it('a class instance comes back as a plain object', async () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    const bento = createCache()
    await bento.set({ key: 'p', value: new Point(1, 2) })
    const value = await bento.get({ key: 'p' })
    expect(value).not.toBeInstanceOf(Point)
    expect(value).toEqual({ x: 1, y: 2 })
  })

  it('getOrSet: the miss returns the factory value; later hits return copies', async () => {
    const bento = createCache()
    const produced = { n: 1 }
    const miss = await bento.getOrSet({ key: 'k', factory: () => produced })
    expect(miss).toBe(produced)
    produced.n = 2
    const hit = await bento.getOrSet({ key: 'k', factory: () => ({ n: 3 }) })
    expect(hit).toEqual({ n: 1 })
    hit.n = 4
    expect(await bento.getOrSet({ key: 'k', factory: () => ({ n: 3 }) })).toEqual({ n: 1 })
    const forever = await bento.getOrSetForever({ key: 'f', factory: () => ({ d: new Date(0) }) })
    expect(forever.d).toBeInstanceOf(Date)
    expect(await bento.get({ key: 'f' })).toEqual({ d: new Date(0).toISOString() })
  })

  it('setForever, pull, stale values and namespaces all return copies', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    const value = { n: 1 }
    await bento.setForever({ key: 'forever', value })
    expect(await bento.pull('forever')).not.toBe(value)

    await bento.set({ key: 'stale', value, ttl: 50 })
    await sleep(120)
    const stale1 = await bento.get({ key: 'stale' })
    stale1.n = 100
    expect(await bento.get({ key: 'stale' })).toEqual({ n: 1 })
    const staleFromFactoryError = await bento.getOrSet({ key: 'stale', factory: (ctx) => ctx.fail() })
    expect(staleFromFactoryError).toEqual({ n: 1 })
    expect(staleFromFactoryError).not.toBe(value)

    const ns = bento.namespace('ns')
    await ns.set({ key: 'k', value })
    const fromNs = await ns.get({ key: 'k' })
    expect(fromNs).toEqual({ n: 1 })
    expect(fromNs).not.toBe(value)
  })

  it('a value JSON cannot encode (circular, BigInt) rejects and leaves the key unchanged', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'before' })
    const circular: any = { a: 1 }
    circular.self = circular
    const circularError = await rejectionOf(() => bento.set({ key: 'k', value: circular }))
    expect(circularError).toBeInstanceOf(Error)
    expect(circularError.message).toMatch(/circular|serialize/i)
    const bigintError = await rejectionOf(() => bento.set({ key: 'k', value: 10n }))
    expect(bigintError).toBeInstanceOf(Error)
    expect(bigintError.message).toMatch(/bigint|serialize/i)
    expect(await bento.get({ key: 'k' })).toBe('before')
  })

  it('a function value is not cached as a function, and set does not throw synchronously', async () => {
    const bento = createCache()
    let promise: Promise<unknown> | undefined
    expect(() => {
      promise = bento.set({ key: 'fn', value: () => 1 })
    }).not.toThrow()
    await promise!.catch(() => {})
    expect(typeof (await bento.get({ key: 'fn' }))).not.toBe('function')
  })
})

describe('serialize: false', () => {
  it('get and getOrSet return the very object stored; mutations are visible', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const value = { n: 1 }
    await bento.set({ key: 'k', value })
    expect(await bento.get({ key: 'k' })).toBe(value)
    expect(await bento.getOrSet({ key: 'k', factory: () => ({ n: 2 }) })).toBe(value)
    value.n = 5
    expect((await bento.get({ key: 'k' })).n).toBe(5)
  })

  it('Dates, class instances, Maps and functions are kept as they are', async () => {
    class Point {
      constructor(public x: number) {}
    }
    const bento = createCache({ driver: { serialize: false } })
    const date = new Date(0)
    const map = new Map([['a', 1]])
    const fn = () => 'hi'
    await bento.set({ key: 'date', value: date })
    await bento.set({ key: 'point', value: new Point(3) })
    await bento.set({ key: 'map', value: map })
    await bento.set({ key: 'fn', value: fn })
    expect(await bento.get({ key: 'date' })).toBe(date)
    expect(await bento.get({ key: 'point' })).toBeInstanceOf(Point)
    expect(await bento.get({ key: 'map' })).toBe(map)
    expect(await bento.get({ key: 'fn' })).toBe(fn)
  })

  it('every method keeps references: getOrSet miss, getOrSetForever, setForever, pull, namespaces', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const a = { a: 1 }
    expect(await bento.getOrSet({ key: 'a', factory: () => a })).toBe(a)
    expect(await bento.get({ key: 'a' })).toBe(a)
    const b = { b: 1 }
    expect(await bento.getOrSetForever({ key: 'b', factory: () => b })).toBe(b)
    expect(await bento.getOrSetForever({ key: 'b', factory: () => ({}) })).toBe(b)
    const c = { c: 1 }
    await bento.setForever({ key: 'c', value: c })
    expect(await bento.pull('c')).toBe(c)
    expect(await bento.has({ key: 'c' })).toBe(false)
    // Unlike bentocache 1.6.1, serialize: false holds inside namespaces too.
    const d = { d: 1 }
    const ns = bento.namespace('ns').namespace('inner')
    await ns.set({ key: 'd', value: d })
    expect(await ns.get({ key: 'd' })).toBe(d)
    expect(await ns.getOrSet({ key: 'd', factory: () => ({}) })).toBe(d)
  })

  it('stale values served by grace keep their reference (get, failing factory, soft timeout)', async () => {
    const bento = createCache({ grace: '2s', timeout: 30, driver: { serialize: false } })
    const value = { stale: true }
    await bento.set({ key: 'k', value, ttl: 50 })
    await sleep(120)
    expect(await bento.get({ key: 'k' })).toBe(value)
    expect(await bento.getOrSet({ key: 'k', factory: (ctx) => ctx.fail() })).toBe(value)
    // The failure above started the backoff: the value is served as fresh meanwhile.
    expect(await bento.get({ key: 'k' })).toBe(value)
  })

  it('an expired (stale) entry keeps its own value while other keys are written', async () => {
    const bento = createCache({ grace: '2s', driver: { serialize: false } })
    const a = { name: 'a' }
    const b = { name: 'b' }
    await bento.set({ key: 'a', value: a })
    await bento.expire({ key: 'a' })
    await bento.set({ key: 'b', value: b })
    expect(await bento.get({ key: 'b' })).toBe(b)
    expect(await bento.get({ key: 'a' })).toBe(a)
  })

  it('expire then delete does not corrupt other keys', async () => {
    const bento = createCache({ grace: '2s', driver: { serialize: false } })
    await bento.set({ key: 'x', value: { name: 'x' } })
    await bento.expire({ key: 'x' })
    await bento.delete({ key: 'x' })
    const values = Array.from({ length: 4 }, (_, i) => ({ name: `v${i}` }))
    for (const [i, value] of values.entries()) await bento.set({ key: `v${i}`, value })
    for (const [i, value] of values.entries()) expect(await bento.get({ key: `v${i}` })).toBe(value)
  })

  it('slots are reused: rewriting one key or setting and deleting keys does not grow the table', async () => {
    // Freed slots are taken from the store once every 64 writes: the table holds at most
    // that many replaced values beside the live ones.
    const bento = createCache({ driver: { serialize: false } })
    for (let i = 0; i < 2000; i++) await bento.set({ key: 'same', value: { i } })
    expect(slotsOf(bento).values.length).toBeLessThanOrEqual(66)
    expect(slotsOf(bento).values.filter((value) => value !== undefined).length).toBeLessThanOrEqual(65)
    for (let i = 0; i < 2000; i++) {
      await bento.set({ key: `d${i}`, value: { i } })
      await bento.delete({ key: `d${i}` })
    }
    expect(slotsOf(bento).values.length).toBeLessThanOrEqual(66)
    expect(await bento.get({ key: 'same' })).toEqual({ i: 1999 })
  })

  it('slots of evicted entries are reused; at most maxItems keys are readable, each with its own value', async () => {
    const bento = createCache({ driver: { serialize: false, maxItems: 10 } })
    const values = Array.from({ length: 3000 }, (_, i) => ({ i }))
    for (const [i, value] of values.entries()) await bento.set({ key: `k${i}`, value })
    expect(slotsOf(bento).values.length).toBeLessThan(500)
    let found = 0
    for (const [i, value] of values.entries()) {
      const got = await bento.get({ key: `k${i}` })
      if (got !== undefined) {
        found++
        expect(got).toBe(value)
      }
    }
    expect(found).toBeGreaterThan(0)
    expect(found).toBeLessThanOrEqual(10)
  })

  it('slots of cleared and expired entries are released', async () => {
    const bento = createCache({ driver: { serialize: false } })
    for (let i = 0; i < 100; i++) await bento.set({ key: `c${i}`, value: { i } })
    await bento.clear()
    for (let i = 0; i < 100; i++) await bento.set({ key: `e${i}`, value: { i }, ttl: 30 })
    // Physical expiry is applied by the eviction policy's timer, at about 1 s granularity.
    await sleep(1800)
    expect(bento.getStats().l1.expirations).toBe(100)
    for (let i = 0; i < 100; i++) await bento.set({ key: `n${i}`, value: { i } })
    // 300 values written, at most 100 alive at once: freed slots were reused.
    expect(slotsOf(bento).values.length).toBeLessThanOrEqual(210)
    for (let i = 0; i < 100; i++) expect(await bento.get({ key: `n${i}` })).toEqual({ i })
    // Steady state: once pending maintenance has run, replacing the 100 values grows nothing.
    await bento.clear()
    bento.getStats()
    const before = slotsOf(bento).values.length
    for (let i = 0; i < 100; i++) await bento.set({ key: `m${i}`, value: { i } })
    expect(slotsOf(bento).values.length).toBe(before)
  })

  it('a write that fails (a key that is no string) does not leak a slot', async () => {
    const bento = createCache({ driver: { serialize: false } })
    for (let i = 0; i < 100; i++) {
      try {
        await bento.set({ key: { i } as any, value: { i } })
      } catch {}
    }
    expect(slotsOf(bento).values.filter((v) => v !== undefined).length).toBe(0)
  })
})

describe('getStats', () => {
  it('counts hits, misses, hitRate and factory runs', async () => {
    const bento = createCache()
    expect(bento.getStats()).toMatchObject({ hits: 0, misses: 0, staleHits: 0, hitRate: 0 })
    await bento.set({ key: 'a', value: 1 })
    await bento.get({ key: 'a' }) // hit
    await bento.get({ key: 'b' }) // miss
    await bento.getOrSet({ key: 'c', factory: () => 3 }) // miss + factory run
    await bento.getOrSet({ key: 'c', factory: () => 3 }) // hit
    const stats = bento.getStats()
    expect(stats).toMatchObject({ hits: 2, misses: 2, staleHits: 0, hitRate: 0.5 })
    expect(stats.factory).toEqual({ runs: 1, errors: 0, timeouts: 0 })
    expect(stats.l1).toMatchObject({ hits: 2, misses: 2, writes: 2, entries: 2 })
  })

  it('counts stale hits, factory errors and timeouts', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'v', ttl: 50 })
    await sleep(120)
    await bento.get({ key: 'k' }) // stale hit
    await bento.getOrSet({ key: 'k', factory: (ctx) => ctx.fail() }) // miss, run, error, stale hit
    await rejectionOf(() => bento.getOrSet({ key: 'x', factory: (ctx) => ctx.fail() })) // miss, run, error
    await rejectionOf(() => bento.getOrSet({ key: 'y', hardTimeout: 20, factory: () => sleep(100).then(() => 1) }))
    const stats = bento.getStats()
    expect(stats.staleHits).toBe(2)
    expect(stats.misses).toBe(3)
    expect(stats.factory).toEqual({ runs: 3, errors: 2, timeouts: 1 })
    expect(stats.hitRate).toBeCloseTo(2 / 5)
    expect(stats.l1.staleHits).toBeGreaterThanOrEqual(1)
    await sleep(200)
  })

  it('a store and its namespaces share counters; another store has its own', async () => {
    const bento = createCache()
    await bento.namespace('ns').set({ key: 'a', value: 1 })
    await bento.namespace('ns').get({ key: 'a' })
    await bento.get({ key: 'nothing' })
    expect(bento.getStats()).toMatchObject({ hits: 1, misses: 1 })
    expect(bento.namespace('other').getStats()).toMatchObject({ hits: 1, misses: 1 })
    expect(bento.getStats().l1.entries).toBe(1)
  })
})

// A `serialize: false` store answers fresh hits from its slot table's index, without a call
// into Rust: every change made through the cache must reach that index at once.
/**
 * Hits answered in JavaScript (slot values or decoded mirrors) are counted by the store, and
 * its policy hears of them: 10 keys read 30 times each survive a scan of 2,000 one-off keys.
 */
async function expectHitsCountedAndHeard(driver: { serialize?: boolean }) {
  const bento = createCache({ driver: { ...driver, maxItems: 100 } })
  for (let i = 0; i < 10; i++) await bento.set({ key: `hot${i}`, value: { i } })
  for (let round = 0; round < 30; round++) for (let i = 0; i < 10; i++) await bento.get({ key: `hot${i}` })
  await bento.get({ key: 'absent' })
  expect(bento.getStats().l1).toMatchObject({ hits: 300, misses: 1 })
  for (let i = 0; i < 2000; i++) await bento.set({ key: `cold${i}`, value: { i } })
  let survivors = 0
  for (let i = 0; i < 10; i++) if ((await bento.get({ key: `hot${i}` }))?.i === i) survivors++
  // Had the policy not heard of the 300 reads, the hot keys would be as cold as the scan's.
  expect(survivors).toBeGreaterThanOrEqual(8)
}

describe('serialize: false: hits answered in JavaScript', () => {
  const tagged = () => createCache({ grace: '2s', driver: { serialize: false } })

  it('the store counts them exactly, and its policy hears of them (frequently read keys survive a scan)', async () => {
    await expectHitsCountedAndHeard({ serialize: false })
  })

  it('delete, deleteMany, pull and clear are seen by the next read', async () => {
    const bento = tagged()
    for (const key of ['a', 'b', 'c', 'd', 'e']) await bento.set({ key, value: { key } })
    await bento.delete({ key: 'a' })
    await bento.deleteMany({ keys: ['b', 'c'] })
    expect(await bento.pull('d')).toEqual({ key: 'd' })
    for (const key of ['a', 'b', 'c', 'd']) expect(await bento.get({ key })).toBeUndefined()
    expect(await bento.has({ key: 'e' })).toBe(true)
    await bento.clear()
    expect(await bento.get({ key: 'e' })).toBeUndefined()
    expect(await bento.has({ key: 'e' })).toBe(false)
  })

  it('expire and expireByTag turn the value stale at once; deleteByTag removes it', async () => {
    const bento = tagged()
    const values = { a: { a: 1 }, b: { b: 1 }, c: { c: 1 } }
    await bento.set({ key: 'a', value: values.a })
    await bento.set({ key: 'b', value: values.b, tags: ['t1'] })
    await bento.set({ key: 'c', value: values.c, tags: ['t2'] })
    await bento.set({ key: 'd', value: { d: 1 }, tags: ['t3'] })
    await bento.expire({ key: 'a' })
    await bento.expireByTag({ tags: ['t1'] })
    await bento.deleteByTag({ tags: ['t2'] })
    // White-box: only the tagged key left the index; the others are still answered in JS.
    const index = slotsOf(bento) as unknown as { isFresh(key: string): boolean }
    expect([index.isFresh('b'), index.isFresh('d')]).toEqual([false, true])
    // Stale values are served by grace only, never as fresh hits: getOrSet serves them
    // (soft timeout 0) and runs its factory, whose value the next read gets.
    expect(await bento.get({ key: 'a' })).toBe(values.a)
    expect(await bento.get({ key: 'b' })).toBe(values.b)
    let runs = 0
    const factory = (key: string) => () => ({ key, run: ++runs })
    expect(await bento.getOrSet({ key: 'a', factory: factory('a') })).toBe(values.a)
    expect(await bento.getOrSet({ key: 'b', factory: factory('b') })).toBe(values.b)
    await eventually(async () => runs === 2 && (await bento.get({ key: 'a' }))?.key === 'a' && (await bento.get({ key: 'b' }))?.key === 'b')
    expect(bento.getStats().l1.staleHits).toBeGreaterThanOrEqual(4)
    expect(await bento.get({ key: 'c' })).toBeUndefined()
  })

  it('a ttl ends the hits on time', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const value = { v: 1 }
    await bento.set({ key: 'k', value, ttl: 60 })
    expect(await bento.get({ key: 'k' })).toBe(value)
    await sleep(90)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('a key of a namespace and its full name under the root are one entry', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const users = bento.namespace('users')
    const first = { n: 1 }
    await users.set({ key: '1', value: first })
    expect(await bento.get({ key: 'users:1' })).toBe(first)
    const second = { n: 2 }
    await bento.set({ key: 'users:1', value: second })
    expect(await users.get({ key: '1' })).toBe(second)
    await bento.delete({ key: 'users:1' })
    expect(await users.get({ key: '1' })).toBeUndefined()
    await users.set({ key: '2', value: first })
    await users.clear()
    expect(await bento.get({ key: 'users:2' })).toBeUndefined()
    // The same key in the root and in a namespace: two entries.
    const root = { at: 'root' }
    const inUsers = { at: 'users' }
    await bento.set({ key: 'x', value: root })
    await users.set({ key: 'x', value: inUsers })
    expect(await bento.get({ key: 'x' })).toBe(root)
    expect(await users.get({ key: 'x' })).toBe(inUsers)
  })

  it('a namespace finds every key past the count of stored keys it remembers (65,536), nested too', async () => {
    const bento = createCache({ driver: { serialize: false, maxItems: 200_000 } })
    const users = bento.namespace('users')
    const admins = users.namespace('admins')
    const count = 70_000
    const values = Array.from({ length: count }, (_, i) => ({ i }))
    for (let i = 0; i < count; i++) await users.set({ key: `u${i}`, value: values[i] })
    await admins.set({ key: 'u1', value: values[2] })
    // Twice over: the first pass fills the memory past its bound, the second reads after it emptied.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < count; i++) {
        if ((await users.get({ key: `u${i}` })) !== values[i]) throw new Error(`pass ${pass}: u${i} not found`)
      }
    }
    expect(await bento.get({ key: 'users:u69999' })).toBe(values[69_999])
    expect(await admins.get({ key: 'u1' })).toBe(values[2])
    expect(await bento.get({ key: 'users:admins:u1' })).toBe(values[2])
    expect(await users.get({ key: 'admins:u1' })).toBe(values[2])
  })

  it('a hit hands back one settled promise per value: a new value, a delete or a reused slot is seen at once', async () => {
    const bento = createCache({ driver: { serialize: false, maxItems: 100 } })
    const first = { v: 1 }
    await bento.set({ key: 'k', value: first })
    // White-box: the promise is made at the first hit and reused (what saves a hit its allocation).
    const hit = bento.get({ key: 'k' })
    expect(bento.get({ key: 'k' })).toBe(hit)
    expect(bento.getOrSet({ key: 'k', factory: () => ({ v: 0 }) })).toBe(hit)
    expect(await hit).toBe(first)
    const second = { v: 2 }
    await bento.set({ key: 'k', value: second })
    expect(await bento.get({ key: 'k' })).toBe(second)
    expect(await bento.getOrSet({ key: 'k', factory: () => ({ v: 0 }) })).toBe(second)
    // Slots freed by deletes and rewrites are taken by other keys: each read sees its own value.
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
    for (let i = 0; i < 300; i++) {
      const key = keys[i % keys.length]
      await bento.set({ key, value: { i } })
      expect(await bento.get({ key })).toEqual({ i })
      if (i % 3 === 0) {
        await bento.delete({ key })
        expect(await bento.get({ key })).toBeUndefined()
      }
    }
    // A hit listener added after settled hits still hears each hit with its value.
    const heard: unknown[] = []
    bento.on('cache:hit', (event) => heard.push(event.value))
    expect(await bento.get({ key: 'k' })).toBe(second)
    expect(heard).toEqual([second])
  })

  it('a thenable value is adopted at every hit, as the return of an async function is', async () => {
    const bento = createCache({ driver: { serialize: false } })
    let calls = 0
    const thenable = { then: (resolve: (value: number) => void) => resolve(++calls) }
    await bento.set({ key: 't', value: thenable })
    expect(await bento.get({ key: 't' })).toBe(1)
    expect(await bento.get({ key: 't' })).toBe(2)
    expect(await bento.getOrSet({ key: 't', factory: () => 0 })).toBe(3)
  })

  it('a key evicted by a write is not answered from a value still held for its slot', async () => {
    const bento = createCache({ driver: { serialize: false, maxItems: 5 } })
    for (let i = 0; i < 200; i++) {
      await bento.set({ key: `k${i}`, value: { i } })
      let readable = 0
      for (let j = 0; j <= i; j++) if ((await bento.get({ key: `k${j}` })) !== undefined) readable++
      expect(readable).toBe(bento.getStats().l1.entries)
    }
  })
})

/** The decoded mirrors of a `serialize: true` store (white-box: not part of the public API). */
function mirrorsOf(bento: ReturnType<typeof createCache>): { values: unknown[]; isFresh(key: string): boolean } | null {
  return (bento.use() as any).l1.mirrors
}

describe('serialize: true: hits answered from decoded mirrors', () => {
  it('each hit is a fresh copy, equal to the value; mutating one changes nothing', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: { list: [1, { deep: 'x' }], n: null } })
    const first = await bento.get({ key: 'k' })
    const second = await bento.get({ key: 'k' })
    expect(mirrorsOf(bento)!.isFresh('k')).toBe(true)
    expect(second).toEqual({ list: [1, { deep: 'x' }], n: null })
    expect(second).not.toBe(first)
    ;(second as any).list[1].deep = 'changed'
    expect(await bento.get({ key: 'k' })).toEqual({ list: [1, { deep: 'x' }], n: null })
    expect(await bento.getOrSet({ key: 'k', factory: () => 'never' })).toEqual({ list: [1, { deep: 'x' }], n: null })
  })

  it('a value with an own __proto__ key comes back with it, as JSON.parse makes it', async () => {
    const bento = createCache()
    await bento.set({ key: 'p', value: JSON.parse('{"__proto__": {"x": 1}, "y": 2}') })
    for (let i = 0; i < 3; i++) {
      const value = (await bento.get({ key: 'p' })) as object
      expect(Object.keys(value)).toEqual(['__proto__', 'y'])
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    }
  })

  it('the store counts them exactly, and its policy hears of them (frequently read keys survive a scan)', async () => {
    await expectHitsCountedAndHeard({})
  })

  it('set, delete, deleteMany, pull, clear, expire and the tag operations are seen by the next read', async () => {
    const bento = createCache({ grace: '2s' })
    const read = async (key: string) => bento.get({ key })
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      await bento.set({ key, value: { key }, tags: [`t-${key}`] })
      expect(await read(key)).toEqual({ key })
    }
    await bento.set({ key: 'a', value: { key: 'a2' } })
    expect(await read('a')).toEqual({ key: 'a2' })
    await bento.delete({ key: 'b' })
    await bento.deleteMany({ keys: ['c'] })
    expect(await bento.pull('d')).toEqual({ key: 'd' })
    await bento.deleteByTag({ tags: ['t-e'] })
    for (const key of ['b', 'c', 'd', 'e']) expect(await read(key)).toBeUndefined()
    // Turned stale: no longer a fresh hit; grace serves the old value to getOrSet only.
    await bento.expire({ key: 'f' })
    await bento.expireByTag({ tags: ['t-g'] })
    expect([mirrorsOf(bento)!.isFresh('f'), mirrorsOf(bento)!.isFresh('g'), mirrorsOf(bento)!.isFresh('h')]).toEqual([false, false, true])
    expect(await bento.getOrSet({ key: 'f', factory: () => ({ key: 'f2' }) })).toEqual({ key: 'f' })
    await eventually(async () => (await read('f'))?.key === 'f2')
    await bento.clear()
    expect(await read('h')).toBeUndefined()
    expect(await bento.has({ key: 'h' })).toBe(false)
  })

  it('a ttl ends the hits on time', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: { v: 1 }, ttl: 60 })
    expect(await bento.get({ key: 'k' })).toEqual({ v: 1 })
    expect(await bento.get({ key: 'k' })).toEqual({ v: 1 })
    await sleep(90)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it('a key of a namespace and its full name under the root are one entry', async () => {
    const bento = createCache()
    const users = bento.namespace('users')
    await users.set({ key: '1', value: { n: 1 } })
    expect(await users.get({ key: '1' })).toEqual({ n: 1 })
    await bento.set({ key: 'users:1', value: { n: 2 } })
    expect(await users.get({ key: '1' })).toEqual({ n: 2 })
    expect(await users.get({ key: '1' })).toEqual({ n: 2 })
    await bento.delete({ key: 'users:1' })
    expect(await users.get({ key: '1' })).toBeUndefined()
  })

  it('a key evicted by a write is not answered from its decoded value', async () => {
    const bento = createCache({ driver: { maxItems: 5 } })
    for (let i = 0; i < 200; i++) {
      await bento.set({ key: `k${i}`, value: { i } })
      let readable = 0
      for (let j = 0; j <= i; j++) {
        const value = await bento.get({ key: `k${j}` })
        if (value !== undefined) {
          readable++
          expect(value).toEqual({ i: j })
        }
      }
      expect(readable).toBe(bento.getStats().l1.entries)
    }
  })

  it('keeps at most maxDecoded values, and every read past them is still right', async () => {
    const bento = createCache({ driver: { maxItems: 100, maxDecoded: 3 } })
    for (let i = 0; i < 10; i++) await bento.set({ key: `k${i}`, value: { i } })
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) expect(await bento.get({ key: `k${round % 2 ? i : 9 - i}` })).toEqual({ i: round % 2 ? i : 9 - i })
      expect(mirrorsOf(bento)!.values.length).toBeLessThanOrEqual(3)
    }
    expect(bento.getStats().l1).toMatchObject({ hits: 200, misses: 0 })
  })

  it('maxDecoded: 0 turns them off; the default is min(maxItems, 10,000)', async () => {
    expect(mirrorsOf(createCache({ driver: { maxDecoded: 0 } }))).toBeNull()
    expect((mirrorsOf(createCache({ driver: { maxItems: 7 } })) as any).capacity).toBe(7)
    expect((mirrorsOf(createCache({ driver: { maxItems: 1_000_000 } })) as any).capacity).toBe(10_000)
    expect(mirrorsOf(createCache({ driver: { serialize: false } }))).toBeNull()
  })
})

describe('decoded mirrors under reads that do not repeat', () => {
  it('are set aside while few reads find them, and consulted again later, the values right throughout', async () => {
    const bento = createCache({ driver: { maxItems: 50_000, maxDecoded: 100 } })
    for (let i = 0; i < 4000; i++) await bento.set({ key: `k${i}`, value: { i } })
    const mirrors = mirrorsOf(bento) as any
    // A scan over 40 times as many keys as slots: almost no read is answered by a mirror.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 4000; i++) expect(await bento.get({ key: `k${i}` })).toEqual({ i })
    expect(mirrors.consulted).toBe(false)
    // Then a hot set that fits: once the store has answered enough reads, the mirrors are back.
    for (let n = 0; n < 80_000; n++) expect(await bento.get({ key: `k${n % 50}` })).toEqual({ i: n % 50 })
    expect(mirrors.consulted).toBe(true)
    const before = bento.getStats().l1.hits
    for (let i = 0; i < 50; i++) await bento.get({ key: `k${i}` })
    expect(bento.getStats().l1.hits - before).toBe(50)
    expect(mirrors.isFresh('k0')).toBe(true)
  })
})

describe('decoded mirrors and large values', () => {
  it('keep no value longer than 128 Ki characters, and at most 8 Mi characters in all', async () => {
    const bento = createCache({ driver: { maxItems: 1000 } })
    const mirrors = mirrorsOf(bento) as any
    const huge = 'x'.repeat(200 * 1024)
    await bento.set({ key: 'huge', value: huge })
    for (let i = 0; i < 3; i++) expect(await bento.get({ key: 'huge' })).toBe(huge)
    expect(mirrors.isFresh('huge')).toBe(false)
    // 100 values of 100 Ki characters: 10 Mi in all, more than the budget.
    const big = (i: number) => `${i}`.padEnd(100 * 1024, '.')
    for (let i = 0; i < 100; i++) await bento.set({ key: `big${i}`, value: big(i) })
    for (let round = 0; round < 3; round++) for (let i = 0; i < 100; i++) expect(await bento.get({ key: `big${i}` })).toBe(big(i))
    const kept = mirrors.values.filter((value: unknown) => typeof value === 'string').length
    expect(kept).toBeGreaterThan(0)
    expect(kept * (100 * 1024 + 2)).toBeLessThanOrEqual(8 * 2 ** 20)
  })
})

describe('decoded mirrors with writes between the reads', () => {
  it('take back the slots of rewritten keys, so a full table keeps answering', async () => {
    const bento = createCache({ driver: { maxItems: 20, maxDecoded: 10 } })
    const mirrors = mirrorsOf(bento) as any
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) await bento.set({ key: `k${i}`, value: { i, round } })
      for (let i = 0; i < 10; i++) for (let read = 0; read < 2; read++) expect(await bento.get({ key: `k${i}` })).toEqual({ i, round })
      for (let i = 0; i < 10; i++) expect(mirrors.isFresh(`k${i}`)).toBe(true)
    }
    expect(mirrors.values.length).toBe(10)
  })
})
