/**
 * Bad input: each gets a typed error or a documented behaviour (README, "Bad input"), loses
 * nothing already cached, and leaves the cache working. The L2 and bus cases plant their
 * bad data in a real redis-server.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { BentoCache, bentostore, errors } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisBusDriver, redisDriver } from '../src/drivers/redis.js'
import { createCache, deferred, eventually, rejectionOf, sleep, thrownBy } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'

/** The cache still serves what it held, and takes new writes. */
async function stillWorks(bento: BentoCache<any>, key = 'canary') {
  expect(await bento.get({ key })).toBe('alive')
  await bento.set({ key: 'after', value: { ok: 1 } })
  expect(await bento.get({ key: 'after' })).toEqual({ ok: 1 })
}

async function withCanary(bento: BentoCache<any>) {
  await bento.set({ key: 'canary', value: 'alive' })
  return bento
}

describe('keys', () => {
  it('the empty key is a key like any other', async () => {
    const bento = await withCanary(createCache())
    await bento.set({ key: '', value: 'empty' })
    expect(await bento.get({ key: '' })).toBe('empty')
    expect(await bento.has({ key: '' })).toBe(true)
    expect(await bento.delete({ key: '' })).toBe(true)
    expect(await bento.get({ key: '' })).toBeUndefined()
    await stillWorks(bento)
  })

  it('a 1 MB key is stored and read (no key length limit), and counts against maxSize', async () => {
    const bento = await withCanary(createCache({ driver: { maxSize: '10mb' } }))
    const huge = 'k'.repeat(1 << 20)
    await bento.set({ key: huge, value: 'big key' })
    expect(await bento.get({ key: huge })).toBe('big key')
    expect(await bento.get({ key: huge.slice(1) })).toBeUndefined()
    expect(bento.getStats().l1!.bytes).toBeGreaterThan(1 << 20)
    await stillWorks(bento)
  })

  it('numbers become their text; every other non-string key rejects with E_INVALID_OPTION', async () => {
    const bento = await withCanary(createCache())
    await bento.set({ key: 42 as any, value: 'n' })
    expect(await bento.get({ key: '42' })).toBe('n')
    const bad: unknown[] = [undefined, null, {}, [], ['a'], () => 'k', Symbol('k'), true, new Date(0)]
    for (const key of bad) {
      for (const call of [
        () => bento.get({ key: key as any }),
        () => bento.set({ key: key as any, value: 1 }),
        () => bento.getOrSet({ key: key as any, factory: () => 1 }),
        () => bento.has({ key: key as any }),
        () => bento.delete({ key: key as any }),
      ]) {
        const error = await rejectionOf(call)
        expect(error, String(typeof key)).toBeInstanceOf(errors.E_INVALID_OPTION)
        expect(error.option).toBe('key')
      }
    }
    await stillWorks(bento)
  })
})

describe('values', () => {
  const circular: any = { name: 'loop' }
  circular.self = circular
  const cases: Array<[string, unknown]> = [
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a BigInt', 10n],
    ['a circular object', circular],
  ]

  it('undefined rejects with E_UNDEFINED_VALUE, from set and from a factory, and leaves the old value', async () => {
    const bento = await withCanary(createCache())
    await bento.set({ key: 'k', value: 'old' })
    expect(await rejectionOf(() => bento.set({ key: 'k', value: undefined }))).toBeInstanceOf(errors.E_UNDEFINED_VALUE)
    expect(await bento.get({ key: 'k' })).toBe('old')
    expect(await rejectionOf(() => bento.getOrSet({ key: 'u', factory: () => undefined }))).toBeInstanceOf(errors.E_UNDEFINED_VALUE)
    expect(await bento.has({ key: 'u' })).toBe(false)
    await stillWorks(bento)
  })

  it.each(cases)('%s rejects with E_SERIALIZATION from set and getOrSet, and the old value stays', async (_, value) => {
    const bento = await withCanary(createCache())
    await bento.set({ key: 'k', value: 'old' })
    expect(await rejectionOf(() => bento.set({ key: 'k', value }))).toBeInstanceOf(errors.E_SERIALIZATION)
    expect(await bento.get({ key: 'k' })).toBe('old')
    expect(await rejectionOf(() => bento.getOrSet({ key: 'g', factory: () => value }))).toBeInstanceOf(errors.E_SERIALIZATION)
    expect(await bento.has({ key: 'g' })).toBe(false)
    await stillWorks(bento)
  })

  it.each(cases)('%s is kept by reference with serialize: false', async (_, value) => {
    const bento = createCache({ driver: { serialize: false } })
    await bento.set({ key: 'k', value })
    expect(await bento.get({ key: 'k' })).toBe(value)
  })
})

describe('durations', () => {
  it('a negative ttl removes the key (as bentocache); an infinite one never expires', async () => {
    const bento = await withCanary(createCache())
    await bento.set({ key: 'k', value: 'v' })
    expect(await bento.set({ key: 'k', value: 'w', ttl: '-5s' })).toBe(true)
    expect(await bento.has({ key: 'k' })).toBe(false)
    await bento.set({ key: 'forever', value: 'f', ttl: Infinity })
    expect(await bento.get({ key: 'forever' })).toBe('f')
    await stillWorks(bento)
  })

  it('a negative grace is no grace', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'v', ttl: 30, grace: -1000 })
    await sleep(60)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
  })

  const invalid: Array<[string, unknown]> = [
    ['ttl', Number.NaN],
    ['ttl', 'soon'],
    ['ttl', '5 parsecs'],
    ['grace', Number.NaN],
    ['grace', Infinity],
    ['grace', 'later'],
    ['timeout', -1],
    ['timeout', Infinity],
    ['hardTimeout', -5],
    ['hardTimeout', Infinity],
    ['hardTimeout', 2 ** 31],
    ['lockTimeout', '-1s'],
    ['lockTimeout', Number.NaN],
    ['graceBackoff', -1],
    ['graceBackoff', '1e400 ms'],
  ]

  it.each(invalid)('%s: %s throws E_INVALID_OPTION at construction and rejects per call, even on an L1 hit', async (option, value) => {
    const error = thrownBy(() => createCache({ [option]: value }))
    expect(error).toBeInstanceOf(errors.E_INVALID_OPTION)
    expect(error.option).toBe(option)
    const bento = await withCanary(createCache())
    await bento.set({ key: 'hit', value: 'v' })
    for (const call of [
      () => bento.set({ key: 'k', value: 1, [option]: value }),
      () => bento.getOrSet({ key: 'miss', factory: () => 1, [option]: value }),
      () => bento.getOrSet({ key: 'hit', factory: () => 1, [option]: value }),
    ]) {
      const rejected = await rejectionOf(call)
      expect(rejected).toBeInstanceOf(errors.E_INVALID_OPTION)
      expect(rejected.option).toBe(option)
    }
    expect(await bento.get({ key: 'hit' })).toBe('v')
    await stillWorks(bento)
  })
})

describe('limits', () => {
  it.each([
    ['maxItems', 0],
    ['maxItems', -1],
    ['maxItems', 2.5],
    ['maxItems', Infinity],
    ['maxItems', '100'],
    ['maxSize', -1],
    ['maxSize', Number.NaN],
    ['maxSize', '10 bananas'],
    ['maxEntrySize', 0],
    ['maxEntrySize', Infinity],
    ['maxEntrySize', {}],
  ])('%s: %s throws E_INVALID_OPTION', (option, value) => {
    const error = thrownBy(() => createCache({ driver: { [option]: value } as any }))
    expect(error).toBeInstanceOf(errors.E_INVALID_OPTION)
    expect(error.option).toBe(option)
  })
})

describe('factories', () => {
  it.each([['a string', 'oops'], ['undefined', undefined], ['null', null], ['a number', 42], ['a plain object', { code: 'X' }]])(
    'one that throws %s rejects with E_FACTORY_ERROR whose cause is what was thrown',
    async (_, thrown) => {
      const bento = await withCanary(createCache())
      for (const factory of [
        () => {
          throw thrown
        },
        () => Promise.reject(thrown),
      ]) {
        const error = await rejectionOf(() => bento.getOrSet({ key: 'f', factory }))
        expect(error).toBeInstanceOf(errors.E_FACTORY_ERROR)
        expect(error.cause).toBe(thrown)
      }
      expect(await bento.has({ key: 'f' })).toBe(false)
      expect(await bento.getOrSet({ key: 'f', factory: () => 'recovered' })).toBe('recovered')
      await stillWorks(bento)
    },
  )

  it('one that never settles: hardTimeout rejects with E_FACTORY_HARD_TIMEOUT, and the key can be computed again', async () => {
    const bento = await withCanary(createCache())
    const error = await rejectionOf(() => bento.getOrSet({ key: 'n', hardTimeout: 50, factory: () => new Promise(() => {}) }))
    expect(error).toBeInstanceOf(errors.E_FACTORY_HARD_TIMEOUT)
    expect(await bento.getOrSet({ key: 'n', factory: () => 'second' })).toBe('second')
    await stillWorks(bento)
  })

  it('one that never settles, without hardTimeout: its callers wait (lockTimeout bounds the others), other keys and set() work', async () => {
    const bento = await withCanary(createCache())
    const never = deferred<string>()
    let settled = false
    const first = bento.getOrSet({ key: 'n', factory: () => never.promise }).finally(() => (settled = true))
    const waiter = await rejectionOf(() => bento.getOrSet({ key: 'n', lockTimeout: 50, factory: () => 'other' }))
    expect(waiter).toBeInstanceOf(errors.E_LOCK_TIMEOUT)
    expect(await bento.getOrSet({ key: 'other', factory: () => 'o' })).toBe('o')
    await bento.set({ key: 'n', value: 'set meanwhile' })
    expect(await bento.get({ key: 'n' })).toBe('set meanwhile')
    await sleep(50)
    expect(settled).toBe(false)
    // Documented: it is the caller's promise to settle; once it does, its callers get it.
    never.resolve('late')
    expect(await first).toBe('late')
    await stillWorks(bento)
  })
})

describe('bad data in a real Redis', () => {
  const redis = redisForSuite()
  const open: BentoCache<any>[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.disconnectAll()))
  })

  function cache(options: { bus?: boolean } = {}) {
    let store = bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: redis.url }))
    if (options.bus) store = store.useBus(redisBusDriver({ connection: redis.url, retryQueue: { retryInterval: '50ms' } }))
    const bento = new BentoCache({ default: 'main', stores: { main: store } })
    open.push(bento)
    return bento
  }

  /** Runs a Lua script on the entry stored under `key`: ARGV[1]'s script gets it as `v`. */
  async function rewrite(key: string, lua: string) {
    await redis.command('EVAL', `local v = redis.call('GET', KEYS[1]); ${lua}`, '1', `bentocache:${key}`)
  }

  it('foreign, truncated, bit-flipped and future-version entries read as reported misses, and getOrSet replaces them', async () => {
    const writer = cache()
    for (const key of ['truncated', 'flipped', 'future']) await writer.set({ key, value: { some: 'value', n: 12345 } })
    await redis.command('SET', 'bentocache:foreign', '{"value":"bentocache wrote me"}')
    await rewrite('truncated', "redis.call('SET', KEYS[1], string.sub(v, 1, #v - 4))")
    // The body's first byte (created_at's varint) made a 9-byte varint marker that the rest cannot fill.
    await rewrite('flipped', "redis.call('SET', KEYS[1], string.sub(v, 1, 3) .. string.char(255) .. string.sub(v, 5))")
    await rewrite('future', "redis.call('SET', KEYS[1], 'RC' .. string.char(9) .. string.sub(v, 4))")

    const reader = await withCanary(cache())
    const reports: Array<{ key: string; reason: string }> = []
    reader.on('l2:unreadable', ({ key, reason }) => reports.push({ key, reason }))
    for (const key of ['foreign', 'truncated', 'flipped', 'future']) expect(await reader.get({ key }), key).toBeUndefined()
    expect(reports.map((r) => r.key)).toEqual(['foreign', 'truncated', 'flipped', 'future'])
    expect(reports[0].reason).toMatch(/not a RustoCache entry/)
    expect(reports[1].reason).toMatch(/corrupted/)
    expect(reports[3].reason).toMatch(/version 9/)
    expect(reader.getStats().l2!.unreadable).toBe(4)
    expect(await reader.getOrSet({ key: 'truncated', factory: () => 'fresh' })).toBe('fresh')
    expect(await cache().get({ key: 'truncated' })).toBe('fresh')
    await stillWorks(reader)
  })

  it('a key of another Redis type (a list) reads as a miss, and getOrSet overwrites it', async () => {
    await redis.command('RPUSH', 'bentocache:list', 'a', 'b')
    const bento = await withCanary(cache())
    const missesBefore = bento.getStats().l2!.misses
    expect(await bento.get({ key: 'list' })).toBeUndefined()
    // MGET answers nil for a key that holds no string: a plain miss.
    expect(bento.getStats().l2!.misses).toBe(missesBefore + 1)
    expect(await bento.getOrSet({ key: 'list', factory: () => 'now a value' })).toBe('now a value')
    expect(await redis.command('TYPE', 'bentocache:list')).toBe('string')
    expect(await cache().get({ key: 'list' })).toBe('now a value')
    await stillWorks(bento)
  })

  it('malformed, foreign and oversized messages on the bus channel are counted as unreadable; the bus keeps working', async () => {
    const [a, b] = [cache({ bus: true }), await withCanary(cache({ bus: true }))]
    // Both subscribed: a message from each reaches the other.
    await eventually(async () => {
      await a.delete({ key: 'probe-a' })
      await b.delete({ key: 'probe-b' })
      return a.getStats().bus!.received > 0 && b.getStats().bus!.received > 0
    })
    const channel = 'rustocache.notifications:main'
    const bad = [
      'garbage',
      '{"busId":"x","payload":{"keys":["canary"],"type":"delete"}}',
      'RB\u0001',
      'RB\u0001\u0007\u0001\u0001\u0005\u00ff\u00ff',
      'RB\u0009rest',
      'RB\u0001' + 'x'.repeat(2 << 20),
    ]
    const unreadable = b.getStats().bus!.unreadable
    for (const message of bad) await redis.command('PUBLISH', channel, message)
    await eventually(() => b.getStats().bus!.unreadable === unreadable + bad.length)
    // Nothing was applied: the canary is still in b's L1, and nothing was cleared.
    expect(b.getStats().bus!.gaps).toBe(0)
    await stillWorks(b)
    // And real messages still flow.
    await b.set({ key: 'shared', value: 'v1' })
    expect(await a.get({ key: 'shared' })).toBe('v1')
    await b.set({ key: 'shared', value: 'v2' })
    await eventually(async () => (await a.get({ key: 'shared' })) === 'v2')
  })
})
