import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore, errors } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { createCache, rejectionOf, sleep } from './helpers.js'

describe('set and get', () => {
  it('set resolves true and get returns the value', async () => {
    const bento = createCache()
    expect(await bento.set({ key: 'a', value: 'hello' })).toBe(true)
    expect(await bento.get({ key: 'a' })).toBe('hello')
  })

  it('get of a missing key resolves undefined', async () => {
    const bento = createCache()
    expect(await bento.get({ key: 'nothing' })).toBeUndefined()
  })

  it('set replaces the previous value', async () => {
    const bento = createCache()
    await bento.set({ key: 'a', value: 1 })
    await bento.set({ key: 'a', value: 2 })
    expect(await bento.get({ key: 'a' })).toBe(2)
  })

  it('keys are distinct', async () => {
    const bento = createCache()
    await bento.set({ key: 'a', value: 'A' })
    await bento.set({ key: 'b', value: 'B' })
    expect(await bento.get({ key: 'a' })).toBe('A')
    expect(await bento.get({ key: 'b' })).toBe('B')
  })

  it.each([
    ['null', null],
    ['zero', 0],
    ['false', false],
    ['an empty string', ''],
    ['a negative float', -1.5],
    ['an array', [1, 'two', { three: 3 }]],
    ['a nested object', { a: { b: { c: [true, null] } } }],
    ['a unicode string', 'héllo wörld ✓ 🎉'],
  ])('stores and returns %s', async (_, value) => {
    const bento = createCache()
    await bento.set({ key: 'k', value })
    expect(await bento.get({ key: 'k' })).toEqual(value)
    expect(await bento.has({ key: 'k' })).toBe(true)
  })

  it('set with an undefined value rejects with E_UNDEFINED_VALUE and keeps the old value', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'old' })
    const error = await rejectionOf(() => bento.set({ key: 'k', value: undefined }))
    expect(error).toBeInstanceOf(errors.E_UNDEFINED_VALUE)
    expect(error.code).toBe('E_UNDEFINED_VALUE')
    expect(error.message).toBe('Cannot set undefined value in the cache, key: k')
    expect(await bento.get({ key: 'k' })).toBe('old')
  })

  it('setForever with an undefined value rejects too', async () => {
    const bento = createCache()
    const error = await rejectionOf(() => bento.setForever({ key: 'k', value: undefined }))
    expect(error.code).toBe('E_UNDEFINED_VALUE')
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('an empty key is a key like any other', async () => {
    const bento = createCache()
    await bento.set({ key: '', value: 'empty' })
    await bento.set({ key: ' ', value: 'space' })
    expect(await bento.get({ key: '' })).toBe('empty')
    expect(await bento.get({ key: ' ' })).toBe('space')
  })

  it('round-trips a large value (2 MB)', async () => {
    const bento = createCache()
    const big = { text: 'x'.repeat(2 * 1024 * 1024), list: Array.from({ length: 1000 }, (_, i) => i) }
    await bento.set({ key: 'big', value: big })
    expect(await bento.get({ key: 'big' })).toEqual(big)
  })

  it('works with long keys and multi-byte characters around the 256-byte boundary', async () => {
    const bento = createCache()
    const keys: string[] = []
    for (let n = 240; n <= 270; n++) {
      keys.push('k'.repeat(n))
      keys.push('é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2))
      keys.push('🎉'.repeat(Math.floor(n / 4)) + 'y'.repeat(n % 4))
      keys.push('a'.repeat(n - 1) + 'é')
      keys.push('a'.repeat(n - 3) + '🎉')
    }
    const unique = [...new Set(keys)]
    for (const [i, key] of unique.entries()) await bento.set({ key, value: i })
    for (const [i, key] of unique.entries()) expect(await bento.get({ key }), key).toBe(i)
    // A key must not match a truncated version of itself.
    expect(await bento.get({ key: 'a'.repeat(269) })).toBeUndefined()
    expect(await bento.get({ key: 'k'.repeat(1000) })).toBeUndefined()
  })

  it('a non-string key gives a clear error and the cache keeps working', async () => {
    const bento = createCache()
    await bento.set({ key: 'ok', value: 1 })
    const attempts: Array<() => Promise<unknown>> = [
      () => bento.get({ key: { id: 42 } as any }),
      () => bento.get({ key: null as any }),
      () => bento.get({ key: ['a'] as any }),
      () => bento.set({ key: { id: 42 } as any, value: 1 }),
      () => bento.getOrSet({ key: { id: 1 } as any, factory: () => 1 }),
      () => bento.has({ key: { id: 42 } as any }),
      () => bento.delete({ key: { id: 42 } as any }),
      () => bento.deleteMany({ keys: [{ id: 42 } as any] }),
    ]
    for (const attempt of attempts) {
      // Accepts a synchronous throw or a rejection here; the next test demands a rejection.
      let error: any
      try {
        await attempt()
      } catch (e) {
        error = e
      }
      expect(error, String(attempt)).toBeInstanceOf(Error)
      expect(String(error.message)).toMatch(/string/i)
    }
    expect(await bento.get({ key: 'ok' })).toBe(1)
  })

  const nonStringKeyCalls: Array<[string, (bento: ReturnType<typeof createCache>) => Promise<unknown>]> = [
    ['get', (b) => b.get({ key: { id: 42 } as any })],
    ['set', (b) => b.set({ key: { id: 42 } as any, value: 1 })],
    ['setForever', (b) => b.setForever({ key: { id: 42 } as any, value: 1 })],
    ['getOrSet', (b) => b.getOrSet({ key: { id: 42 } as any, factory: () => 1 })],
    ['getOrSetForever', (b) => b.getOrSetForever({ key: { id: 42 } as any, factory: () => 1 })],
    ['has', (b) => b.has({ key: { id: 42 } as any })],
    ['missing', (b) => b.missing({ key: { id: 42 } as any })],
    ['pull', (b) => b.pull({ id: 42 } as any)],
    ['delete', (b) => b.delete({ key: { id: 42 } as any })],
    ['deleteMany', (b) => b.deleteMany({ keys: [{ id: 42 } as any] })],
    ['expire', (b) => b.expire({ key: { id: 42 } as any })],
  ]
  it.each(nonStringKeyCalls)('%s with a non-string key returns a rejected promise (no synchronous throw)', async (_, call) => {
    const bento = createCache()
    const error = await rejectionOf(() => call(bento))
    expect(String(error.message)).toMatch(/string/i)
  })
})

describe('numeric keys', () => {
  it('a number key is its decimal text, as bentocache templates it', async () => {
    const bento = createCache()
    await bento.set({ key: 42 as any, value: 'answer' })
    expect(await bento.get({ key: '42' })).toBe('answer')
    expect(await bento.getOrSet({ key: 42 as any, factory: () => 'other' })).toBe('answer')
    expect(await bento.has({ key: 42 as any })).toBe(true)
    await bento.delete({ key: 42 as any })
    expect(await bento.has({ key: '42' })).toBe(false)
  })
})

describe('get defaultValue', () => {
  it('is returned on a miss', async () => {
    const bento = createCache()
    expect(await bento.get({ key: 'x', defaultValue: 'dflt' })).toBe('dflt')
    expect(await bento.get({ key: 'x', defaultValue: 0 })).toBe(0)
  })

  it('is ignored on a hit', async () => {
    const bento = createCache()
    await bento.set({ key: 'x', value: 'real' })
    expect(await bento.get({ key: 'x', defaultValue: 'dflt' })).toBe('real')
  })

  it('a function is called only on a miss, and awaited when async', async () => {
    const bento = createCache()
    let calls = 0
    const fallback = async () => {
      calls++
      return 'computed'
    }
    await bento.set({ key: 'hit', value: 'real' })
    expect(await bento.get({ key: 'hit', defaultValue: fallback })).toBe('real')
    expect(calls).toBe(0)
    expect(await bento.get({ key: 'miss', defaultValue: fallback })).toBe('computed')
    expect(calls).toBe(1)
  })

  it('the fallback is not stored', async () => {
    const bento = createCache()
    await bento.get({ key: 'x', defaultValue: 'dflt' })
    expect(await bento.has({ key: 'x' })).toBe(false)
    expect(await bento.get({ key: 'x' })).toBeUndefined()
  })
})

describe('ttl', () => {
  it('an entry is fresh within its ttl and gone after it', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'v', ttl: 100 })
    expect(await bento.get({ key: 'k' })).toBe('v')
    await sleep(300)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('a duration string ttl is honoured', async () => {
    const bento = createCache()
    await bento.set({ key: 'short', value: 1, ttl: '100ms' })
    await bento.set({ key: 'long', value: 2, ttl: '10m' })
    await sleep(300)
    expect(await bento.get({ key: 'short' })).toBeUndefined()
    expect(await bento.get({ key: 'long' })).toBe(2)
  })

  it('ttl null and ttl 0 mean forever', async () => {
    const bento = createCache({ ttl: 50 })
    await bento.set({ key: 'null', value: 1, ttl: null })
    await bento.set({ key: 'zero', value: 2, ttl: 0 })
    await bento.set({ key: 'default', value: 3 })
    await sleep(200)
    expect(await bento.get({ key: 'null' })).toBe(1)
    expect(await bento.get({ key: 'zero' })).toBe(2)
    expect(await bento.get({ key: 'default' })).toBeUndefined()
  })

  it('a negative ttl removes the key', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'v' })
    expect(await bento.set({ key: 'k', value: 'w', ttl: -1 })).toBe(true)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it('setForever outlives the store ttl; an explicit ttl given to it wins', async () => {
    const bento = createCache({ ttl: 50 })
    await bento.setForever({ key: 'forever', value: 'f' })
    await bento.setForever({ key: 'bounded', value: 'b', ttl: 50 })
    await sleep(200)
    expect(await bento.get({ key: 'forever' })).toBe('f')
    expect(await bento.get({ key: 'bounded' })).toBeUndefined()
  })
})

describe('has and missing', () => {
  it('tell whether a fresh value exists', async () => {
    const bento = createCache()
    expect(await bento.has({ key: 'k' })).toBe(false)
    expect(await bento.missing({ key: 'k' })).toBe(true)
    await bento.set({ key: 'k', value: null })
    expect(await bento.has({ key: 'k' })).toBe(true)
    expect(await bento.missing({ key: 'k' })).toBe(false)
  })

  it('a stale entry kept by grace does not count', async () => {
    const bento = createCache({ grace: '1s' })
    await bento.set({ key: 'k', value: 'v', ttl: 50 })
    await sleep(150)
    expect(await bento.get({ key: 'k' })).toBe('v')
    expect(await bento.has({ key: 'k' })).toBe(false)
    expect(await bento.missing({ key: 'k' })).toBe(true)
  })
})

describe('pull', () => {
  it('returns the value and removes the key', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: { n: 1 } })
    expect(await bento.pull('k')).toEqual({ n: 1 })
    expect(await bento.has({ key: 'k' })).toBe(false)
    expect(await bento.pull('k')).toBeUndefined()
  })

  it('returns a stale value when grace allows, and removes it', async () => {
    const bento = createCache({ grace: '1s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(150)
    expect(await bento.pull('k')).toBe('stale')
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })
})

describe('delete and deleteMany', () => {
  it('delete removes the key and resolves true, even for a missing key', async () => {
    const bento = createCache()
    await bento.set({ key: 'a', value: 1 })
    await bento.set({ key: 'b', value: 2 })
    expect(await bento.delete({ key: 'a' })).toBe(true)
    expect(await bento.get({ key: 'a' })).toBeUndefined()
    expect(await bento.get({ key: 'b' })).toBe(2)
    expect(await bento.delete({ key: 'never-there' })).toBe(true)
  })

  it('delete also removes a stale entry', async () => {
    const bento = createCache({ grace: '1s' })
    await bento.set({ key: 'k', value: 'v', ttl: 50 })
    await sleep(150)
    await bento.delete({ key: 'k' })
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it('deleteMany removes exactly the given keys and resolves true', async () => {
    const bento = createCache()
    for (const key of ['a', 'b', 'c', 'd']) await bento.set({ key, value: key })
    expect(await bento.deleteMany({ keys: ['a', 'c', 'missing'] })).toBe(true)
    expect(await bento.get({ key: 'a' })).toBeUndefined()
    expect(await bento.get({ key: 'c' })).toBeUndefined()
    expect(await bento.get({ key: 'b' })).toBe('b')
    expect(await bento.get({ key: 'd' })).toBe('d')
    expect(await bento.deleteMany({ keys: [] })).toBe(true)
  })
})

describe('expire', () => {
  it('without grace the key reads as missing afterwards', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'v' })
    expect(await bento.expire({ key: 'k' })).toBe(true)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('with grace the value is served stale, but has() is false', async () => {
    const bento = createCache({ grace: '1s' })
    await bento.set({ key: 'k', value: 'v' })
    await bento.expire({ key: 'k' })
    expect(await bento.has({ key: 'k' })).toBe(false)
    expect(await bento.get({ key: 'k' })).toBe('v')
    expect(await bento.get({ key: 'k', grace: false })).toBeUndefined()
  })

  it('resolves true for a missing key and creates nothing', async () => {
    const bento = createCache({ grace: '1s' })
    expect(await bento.expire({ key: 'nothing' })).toBe(true)
    expect(await bento.get({ key: 'nothing' })).toBeUndefined()
  })

  it('a getOrSet after expire runs the factory', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'old' })
    await bento.expire({ key: 'k' })
    expect(await bento.getOrSet({ key: 'k', factory: () => 'new' })).toBe('new')
    expect(await bento.get({ key: 'k' })).toBe('new')
  })
})

describe('clear', () => {
  it('removes every key and resolves undefined', async () => {
    const bento = createCache()
    for (let i = 0; i < 20; i++) await bento.set({ key: `k${i}`, value: i })
    expect(await bento.clear()).toBeUndefined()
    for (let i = 0; i < 20; i++) expect(await bento.get({ key: `k${i}` })).toBeUndefined()
    expect(bento.getStats().l1.entries).toBe(0)
    await bento.set({ key: 'after', value: 1 })
    expect(await bento.get({ key: 'after' })).toBe(1)
  })
})

describe('stores, use(), disconnect', () => {
  function twoStores() {
    return new BentoCache({
      default: 'one',
      stores: {
        one: bentostore().useL1Layer(memoryDriver()),
        two: bentostore().useL1Layer(memoryDriver()),
      },
    })
  }

  it('use() without a name is the default store; use(name) is stable', () => {
    const bento = twoStores()
    expect(bento.defaultStoreName).toBe('one')
    expect(bento.use()).toBe(bento.use('one'))
    expect(bento.use('two')).toBe(bento.use('two'))
    expect(bento.use('two')).not.toBe(bento.use('one'))
    expect(bento.use('two').name).toBe('two')
  })

  it('stores are isolated from each other', async () => {
    const bento = twoStores()
    await bento.set({ key: 'k', value: 'default' })
    await bento.use('two').set({ key: 'k', value: 'two' })
    expect(await bento.get({ key: 'k' })).toBe('default')
    expect(await bento.use('one').get({ key: 'k' })).toBe('default')
    expect(await bento.use('two').get({ key: 'k' })).toBe('two')
    await bento.use('two').clear()
    expect(await bento.get({ key: 'k' })).toBe('default')
  })

  it('clearAll clears every store', async () => {
    const bento = twoStores()
    await bento.set({ key: 'k', value: 1 })
    await bento.use('two').set({ key: 'k', value: 2 })
    await bento.clearAll()
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    expect(await bento.use('two').get({ key: 'k' })).toBeUndefined()
  })

  it('an unknown store name in use() throws InvalidOptionError', () => {
    const bento = twoStores()
    let error: any
    try {
      bento.use('three' as any)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(errors.E_INVALID_OPTION)
    expect(error.code).toBe('E_INVALID_OPTION')
    expect(error.message).toContain('three')
  })

  it('disconnect and disconnectAll resolve undefined', async () => {
    const bento = twoStores()
    expect(await bento.disconnect()).toBeUndefined()
    expect(await bento.use('two').disconnect()).toBeUndefined()
    expect(await bento.disconnectAll()).toBeUndefined()
  })

  it('prune resolves undefined and keeps the entries', async () => {
    const bento = twoStores()
    await bento.set({ key: 'k', value: 1 })
    expect(await bento.prune()).toBeUndefined()
    expect(await bento.get({ key: 'k' })).toBe(1)
  })
})
