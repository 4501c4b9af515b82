import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore, errors } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { createCache, rejectionOf, sleep, thrownBy } from './helpers.js'

/** Asserts that `fn` throws an InvalidOptionError (code E_INVALID_OPTION) naming `option`. */
function expectInvalidOption(fn: () => unknown, option: string) {
  const error = thrownBy(fn)
  expect(error).toBeInstanceOf(errors.E_INVALID_OPTION)
  expect(error.code).toBe('E_INVALID_OPTION')
  expect(error.option).toBe(option)
  expect(error.message).toContain(option)
  return error
}

describe('option precedence: call > store > global', () => {
  it('ttl: the store overrides the global ttl', async () => {
    const bento = createCache({ ttl: 50, store: { ttl: '10m' } })
    await bento.set({ key: 'k', value: 1 })
    await sleep(200)
    expect(await bento.get({ key: 'k' })).toBe(1)
  })

  it('ttl: the global ttl applies when the store sets none', async () => {
    const bento = createCache({ ttl: 50 })
    await bento.set({ key: 'k', value: 1 })
    await sleep(200)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it('ttl: the call overrides the store, both ways', async () => {
    const shortStore = createCache({ ttl: '10m', store: { ttl: 50 } })
    await shortStore.set({ key: 'call-long', value: 1, ttl: '10m' })
    await shortStore.set({ key: 'store-short', value: 2 })
    const longStore = createCache({ ttl: 50, store: { ttl: '10m' } })
    await longStore.set({ key: 'call-short', value: 3, ttl: 50 })
    await sleep(200)
    expect(await shortStore.get({ key: 'call-long' })).toBe(1)
    expect(await shortStore.get({ key: 'store-short' })).toBeUndefined()
    expect(await longStore.get({ key: 'call-short' })).toBeUndefined()
  })

  it('ttl: an explicitly undefined call ttl overrides nothing', async () => {
    const bento = createCache({ store: { ttl: 50 } })
    await bento.set({ key: 'k', value: 1, ttl: undefined })
    await sleep(200)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it('grace: a call can turn off the store grace', async () => {
    const bento = createCache({ store: { grace: '2s' } })
    await bento.set({ key: 'k', value: 'v', ttl: 50 })
    await sleep(120)
    expect(await bento.get({ key: 'k' })).toBe('v')
    expect(await bento.get({ key: 'k', grace: false })).toBeUndefined()
    expect(await bento.get({ key: 'k', grace: 0 })).toBeUndefined()
    expect(await bento.get({ key: 'k', grace: null })).toBeUndefined()
  })

  it('grace: the store can turn off the global grace', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s', store: { grace: false } })
    await bento.set({ key: 'k', value: 'v', ttl: 50 })
    await sleep(120)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it('onFactoryError: the call handler wins over the store, the store over the global', async () => {
    const calls: string[] = []
    const fail = () => {
      throw new Error('x')
    }
    const bento = new BentoCache({
      default: 'withStore',
      onFactoryError: () => calls.push('global'),
      stores: {
        withStore: bentostore({ onFactoryError: () => calls.push('store') }).useL1Layer(memoryDriver()),
        plain: bentostore().useL1Layer(memoryDriver()),
      },
    })
    await rejectionOf(() => bento.getOrSet({ key: 'a', factory: fail, onFactoryError: () => calls.push('call') }))
    expect(calls).toEqual(['call'])
    await rejectionOf(() => bento.getOrSet({ key: 'b', factory: fail }))
    expect(calls).toEqual(['call', 'store'])
    await rejectionOf(() => bento.use('plain').getOrSet({ key: 'c', factory: fail }))
    expect(calls).toEqual(['call', 'store', 'global'])
  })

  it('timeout / grace from the store configure stale-while-revalidate', async () => {
    const bento = createCache({ store: { grace: '2s', timeout: 0 } })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const value = await bento.getOrSet({ key: 'k', factory: async () => (await sleep(100), 'fresh') })
    expect(value).toBe('stale')
  })

  it('hardTimeout from the global options applies, and a call can lift it', async () => {
    const bento = createCache({ hardTimeout: 30 })
    const slow = async () => (await sleep(120), 'slow')
    const error = await rejectionOf(() => bento.getOrSet({ key: 'a', factory: slow }))
    expect(error.code).toBe('E_FACTORY_HARD_TIMEOUT')
    expect(await bento.getOrSet({ key: 'b', factory: slow, hardTimeout: null })).toBe('slow')
  })

  it('lockTimeout from the store applies to waiting callers', async () => {
    const bento = createCache({ store: { lockTimeout: 40 } })
    const first = bento.getOrSet({ key: 'k', factory: async () => (await sleep(200), 'first') })
    const error = await rejectionOf(() => bento.getOrSet({ key: 'k', factory: () => 'second' }))
    expect(error.code).toBe('E_LOCK_TIMEOUT')
    expect(await first).toBe('first')
  })
})

describe('durations', () => {
  const hundredMs: Array<string | number> = ['100ms', '0.1s', '100 milliseconds', '0.1 seconds', '.1s', ' 100ms ', '100', 100]
  it.each(hundredMs)('a ttl of %j expires after about 100 ms', async (ttl) => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 1, ttl })
    expect(await bento.get({ key: 'k' })).toBe(1)
    await sleep(300)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  it.each(['10m', '1h', '2 days', '1 week', '1y', '10 minutes', '1.5h', '1H', '30 Seconds'])(
    'a ttl of %j keeps the entry well past 100 ms',
    async (ttl) => {
      const bento = createCache()
      await bento.set({ key: 'k', value: 1, ttl })
      await sleep(150)
      expect(await bento.get({ key: 'k' })).toBe(1)
    },
  )

  it('duration strings are accepted for every duration option', () => {
    expect(() =>
      createCache({
        ttl: '1h',
        grace: '6h',
        graceBackoff: '30s',
        timeout: '200ms',
        hardTimeout: '2s',
        lockTimeout: '1.5s',
        store: { ttl: '10 minutes', grace: '1 day' },
      }),
    ).not.toThrow()
  })

  it('a null ttl at the global level means forever', async () => {
    const bento = createCache({ ttl: null })
    await bento.set({ key: 'k', value: 1 })
    await sleep(150)
    expect(await bento.get({ key: 'k' })).toBe(1)
  })

  it('a ttl of 0 at the store level means forever', async () => {
    const bento = createCache({ ttl: 50, store: { ttl: 0 } })
    await bento.set({ key: 'k', value: 1 })
    await sleep(150)
    expect(await bento.get({ key: 'k' })).toBe(1)
  })

  it('the default ttl is 30 minutes: entries outlive a short wait', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 1 })
    await sleep(150)
    expect(await bento.get({ key: 'k' })).toBe(1)
  })
})

describe('prefix', () => {
  // l1 bytes weigh each entry as its stored key (prefix included) plus its serialized value.
  async function bytesOfOneEntry(bento: BentoCache<any>) {
    await bento.set({ key: 'k', value: 'v' })
    return bento.getStats().l1.bytes
  }

  it('the default prefix is "bentocache": keys are stored as bentocache:<key>', async () => {
    expect(await bytesOfOneEntry(createCache())).toBe('bentocache:k'.length + '"v"'.length)
  })

  it('the global prefix, the store prefix and the driver prefix apply, most specific first', async () => {
    expect(await bytesOfOneEntry(createCache({ prefix: 'g' }))).toBe('g:k'.length + 3)
    expect(await bytesOfOneEntry(createCache({ prefix: 'g', store: { prefix: 'store' } }))).toBe('store:k'.length + 3)
    expect(
      await bytesOfOneEntry(createCache({ prefix: 'g', store: { prefix: 'store' }, driver: { prefix: 'drv123' } })),
    ).toBe('drv123:k'.length + 3)
  })

  it('an empty prefix stores the bare key; trailing colons are dropped', async () => {
    expect(await bytesOfOneEntry(createCache({ prefix: '' }))).toBe('k'.length + 3)
    expect(await bytesOfOneEntry(createCache({ prefix: 'app:::' }))).toBe('app:k'.length + 3)
  })

  it('a namespace and a root key with the same stored form share the entry', async () => {
    const bento = createCache({ prefix: 'app' })
    await bento.set({ key: 'users:1', value: 'ada' })
    expect(await bento.namespace('users').get({ key: '1' })).toBe('ada')
  })
})

describe('serializer', () => {
  it('a custom serializer is used for the stored values', async () => {
    const calls: string[] = []
    const bento = createCache({
      serializer: {
        serialize: (value) => (calls.push('serialize'), JSON.stringify({ wrapped: value })),
        deserialize: (text) => (calls.push('deserialize'), { ...JSON.parse(text), seen: true }),
      },
    })
    await bento.set({ key: 'k', value: 1 })
    expect(await bento.get({ key: 'k' })).toEqual({ wrapped: 1, seen: true })
    expect(calls).toEqual(['serialize', 'deserialize'])
    expect(bento.getStats().l1.bytes).toBe('bentocache:k'.length + '{"wrapped":1}'.length)
  })

  it('the serializer is not used with serialize: false', async () => {
    let used = false
    const bento = createCache({
      driver: { serialize: false },
      serializer: { serialize: (v) => ((used = true), JSON.stringify(v)), deserialize: (t) => ((used = true), JSON.parse(t)) },
    })
    const value = { a: 1 }
    await bento.set({ key: 'k', value })
    expect(await bento.get({ key: 'k' })).toBe(value)
    expect(used).toBe(false)
  })
})

describe('bad input', () => {
  it.each(['banana', '10 parsecs', '', 'm10', '1.2.3s', '--5s'])('an unparseable global ttl %j throws at construction', (ttl) => {
    expectInvalidOption(() => createCache({ ttl }), 'ttl')
  })

  it('NaN as a duration throws at construction', () => {
    expectInvalidOption(() => createCache({ ttl: Number.NaN }), 'ttl')
  })

  it.each(['grace', 'graceBackoff', 'timeout', 'hardTimeout', 'lockTimeout'] as const)(
    'an unparseable %s throws at construction, globally or per store',
    (option) => {
      expectInvalidOption(() => createCache({ [option]: 'soon' }), option)
      expectInvalidOption(() => createCache({ store: { [option]: 'soon' } }), option)
    },
  )

  it('an unparseable store ttl throws at construction', () => {
    expectInvalidOption(() => createCache({ store: { ttl: 'forever' } }), 'ttl')
  })

  it.each([0, -1, 1.5, Number.NaN, '10' as any])('maxItems %j throws E_INVALID_OPTION', (maxItems) => {
    expectInvalidOption(() => createCache({ driver: { maxItems } }), 'maxItems')
  })

  it.each(['lots', '', '10 parsecs', '-1kb', 0, -5, Number.NaN, Number.POSITIVE_INFINITY])(
    'maxSize %j throws E_INVALID_OPTION',
    (maxSize) => {
      expectInvalidOption(() => createCache({ driver: { maxSize } }), 'maxSize')
    },
  )

  it('maxEntrySize "huge" throws E_INVALID_OPTION', () => {
    expectInvalidOption(() => createCache({ driver: { maxEntrySize: 'huge' } }), 'maxEntrySize')
  })

  it('serialize: false with maxSize or maxEntrySize throws E_INVALID_OPTION', () => {
    expectInvalidOption(() => createCache({ driver: { serialize: false, maxSize: '1mb' } }), 'serialize')
    expectInvalidOption(() => createCache({ driver: { serialize: false, maxEntrySize: 100 } }), 'serialize')
    expect(() => createCache({ driver: { serialize: false, maxItems: 10 } })).not.toThrow()
  })

  it.each([-1, 1.5, '10', NaN, Infinity])('maxDecoded %s throws E_INVALID_OPTION', (maxDecoded) => {
    expectInvalidOption(() => createCache({ driver: { maxDecoded: maxDecoded as any } }), 'maxDecoded')
  })

  it('a positive maxDecoded where values are not decoded ahead (serialize: false, shared, custom serializer) throws E_INVALID_OPTION', () => {
    expectInvalidOption(() => createCache({ driver: { serialize: false, maxDecoded: 10 } }), 'maxDecoded')
    expectInvalidOption(() => createCache({ driver: { shared: 'options-max-decoded', maxDecoded: 10 } }), 'maxDecoded')
    const serializer = { serialize: (v: unknown) => JSON.stringify(v), deserialize: (t: string) => JSON.parse(t) }
    expectInvalidOption(() => createCache({ serializer, driver: { maxDecoded: 10 } }), 'maxDecoded')
    expect(() => createCache({ serializer, driver: { maxDecoded: 0 } })).not.toThrow()
    expect(() => createCache({ serializer, driver: {} })).not.toThrow()
  })

  it('a default naming no store throws E_INVALID_OPTION', () => {
    expectInvalidOption(
      () => new BentoCache({ default: 'nope' as any, stores: { m: bentostore().useL1Layer(memoryDriver()) } }),
      'default',
    )
  })

  it('a store without an L1 layer throws E_INVALID_OPTION', () => {
    expectInvalidOption(() => new BentoCache({ default: 'm', stores: { m: bentostore() } }), 'stores')
  })

  const badCallOptions: Array<[string, (bento: ReturnType<typeof createCache>) => Promise<unknown>]> = [
    ['set({ ttl })', (b) => b.set({ key: 'k', value: 1, ttl: 'whenever' })],
    ['setForever({ grace })', (b) => b.setForever({ key: 'k', value: 1, grace: 'whenever' })],
    ['getOrSet({ ttl })', (b) => b.getOrSet({ key: 'k', factory: () => 1, ttl: 'whenever' })],
    ['getOrSet({ timeout })', (b) => b.getOrSet({ key: 'k', factory: () => 1, timeout: 'whenever' })],
    ['getOrSetForever({ hardTimeout })', (b) => b.getOrSetForever({ key: 'k', factory: () => 1, hardTimeout: 'whenever' })],
    ['get({ grace })', (b) => b.get({ key: 'k', grace: 'whenever' })],
  ]
  it.each(badCallOptions)('%s with an unparseable duration rejects with E_INVALID_OPTION (no synchronous throw)', async (_, call) => {
    const bento = createCache()
    const error = await rejectionOf(() => call(bento))
    expect(error.code).toBe('E_INVALID_OPTION')
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('an invalid call option gives an E_INVALID_OPTION error and stores nothing', async () => {
    const bento = createCache()
    let error: any
    try {
      await bento.set({ key: 'k', value: 1, ttl: 'whenever' })
    } catch (e) {
      error = e
    }
    expect(error?.code).toBe('E_INVALID_OPTION')
    expect(error?.option).toBe('ttl')
    expect(await bento.has({ key: 'k' })).toBe(false)
  })
})

describe('unknown and bentocache-only options', () => {
  it('a misspelt option is refused with E_INVALID_OPTION, wherever it is given', () => {
    expect(() => createCache({ tll: '1m' } as any)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'tll' }))
    expect(() => createCache({ store: { gracee: '1h' } as any })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'gracee' }))
    expect(() => createCache({ driver: { maxItem: 10 } as any })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'maxItem' }))
  })

  it('plugins are registered with the cache, as bentocache does', () => {
    const registered: unknown[] = []
    const bento = createCache({ plugins: [{ register: (cache: unknown) => registered.push(cache) }] } as any)
    expect(registered).toEqual([bento])
  })

  it('a logger hears of factory failures at warn', async () => {
    const warnings: Array<[any, string]> = []
    const bento = createCache({ logger: { warn: (context: object, message: string) => warnings.push([context, message]) } } as any)
    await expect(bento.getOrSet({ key: 'k', factory: () => { throw new Error('db down') } })).rejects.toMatchObject({ code: 'E_FACTORY_ERROR' })
    expect(warnings).toHaveLength(1)
    expect(warnings[0][1]).toBe('factory failed')
    expect(warnings[0][0]).toMatchObject({ key: 'k', error: expect.objectContaining({ message: 'db down' }) })
  })

  it('l2CircuitBreakerDuration is validated even without an L2', () => {
    expect(() => createCache({ l2CircuitBreakerDuration: 'soon' } as any)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
    expect(() => createCache({ l2CircuitBreakerDuration: '10s' } as any)).not.toThrow()
  })
})
