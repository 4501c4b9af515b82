import { describe, expect, it } from 'vitest'
import { errors } from '../src/index.js'
import { createCache, deferred, rejectionOf, sleep } from './helpers.js'

describe('getOrSet basics', () => {
  it('runs the factory on a miss, caches the value, and serves it on the next call', async () => {
    const bento = createCache()
    let calls = 0
    const factory = () => {
      calls++
      return { n: calls }
    }
    expect(await bento.getOrSet({ key: 'k', factory })).toEqual({ n: 1 })
    expect(await bento.getOrSet({ key: 'k', factory })).toEqual({ n: 1 })
    expect(calls).toBe(1)
    expect(await bento.get({ key: 'k' })).toEqual({ n: 1 })
  })

  it('awaits an async factory', async () => {
    const bento = createCache()
    const value = await bento.getOrSet({
      key: 'k',
      factory: async () => {
        await sleep(20)
        return 'async'
      },
    })
    expect(value).toBe('async')
    expect(await bento.get({ key: 'k' })).toBe('async')
  })

  it('caches falsy values (null, 0, false, empty string)', async () => {
    const bento = createCache()
    for (const [key, value] of [['null', null], ['zero', 0], ['false', false], ['empty', '']] as const) {
      let calls = 0
      const factory = () => {
        calls++
        return value
      }
      expect(await bento.getOrSet({ key, factory })).toBe(value)
      expect(await bento.getOrSet({ key, factory })).toBe(value)
      expect(calls, key).toBe(1)
    }
  })

  it('does not call the factory when a value is already set', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'set' })
    let calls = 0
    expect(await bento.getOrSet({ key: 'k', factory: () => (calls++, 'factory') })).toBe('set')
    expect(calls).toBe(0)
  })

  it('uses the ttl given to it', async () => {
    const bento = createCache()
    let calls = 0
    const factory = () => ++calls
    expect(await bento.getOrSet({ key: 'k', factory, ttl: 80 })).toBe(1)
    expect(await bento.getOrSet({ key: 'k', factory, ttl: 80 })).toBe(1)
    await sleep(250)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    expect(await bento.getOrSet({ key: 'k', factory, ttl: 80 })).toBe(2)
  })

  it('getOrSetForever caches with no expiry; an explicit ttl given to it wins', async () => {
    const bento = createCache({ ttl: 50 })
    let calls = 0
    expect(await bento.getOrSetForever({ key: 'forever', factory: () => ++calls })).toBe(1)
    expect(await bento.getOrSetForever({ key: 'bounded', factory: () => 'b', ttl: 50 })).toBe('b')
    await sleep(200)
    expect(await bento.getOrSetForever({ key: 'forever', factory: () => ++calls })).toBe(1)
    expect(calls).toBe(1)
    expect(await bento.get({ key: 'bounded' })).toBeUndefined()
  })

  it('forceFresh runs the factory despite a cached value, and caches the new value', async () => {
    const bento = createCache()
    await bento.set({ key: 'k', value: 'old' })
    let calls = 0
    const value = await bento.getOrSet({ key: 'k', factory: () => (calls++, 'new'), forceFresh: true })
    expect(value).toBe('new')
    expect(calls).toBe(1)
    expect(await bento.get({ key: 'k' })).toBe('new')
  })

  it('forceFresh does not fall back to a graced value when the factory fails', async () => {
    const bento = createCache({ grace: '1s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'old', ttl: 50 })
    await sleep(120)
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'k',
        forceFresh: true,
        factory: () => {
          throw new Error('boom')
        },
      }),
    )
    expect(error.code).toBe('E_FACTORY_ERROR')
  })
})

describe('getOrSet errors', () => {
  it('a throwing factory rejects with E_FACTORY_ERROR carrying key, cause and isBackgroundFactory', async () => {
    const bento = createCache()
    const cause = new Error('db down')
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'user:1',
        factory: () => {
          throw cause
        },
      }),
    )
    expect(error).toBeInstanceOf(errors.E_FACTORY_ERROR)
    expect(error.code).toBe('E_FACTORY_ERROR')
    expect(error.key).toBe('user:1')
    expect(error.cause).toBe(cause)
    expect(error.isBackgroundFactory).toBe(false)
    expect(error.message).toBe('Factory has thrown an error')
    expect(error.status).toBe(500)
    expect(await bento.has({ key: 'user:1' })).toBe(false)
  })

  it('an async rejecting factory rejects with E_FACTORY_ERROR too', async () => {
    const bento = createCache()
    const error = await rejectionOf(() => bento.getOrSet({ key: 'k', factory: async () => Promise.reject(new Error('nope')) }))
    expect(error.code).toBe('E_FACTORY_ERROR')
    expect(error.cause.message).toBe('nope')
  })

  it('a non-function factory rejects with E_FACTORY_ERROR whose cause is a TypeError', async () => {
    const bento = createCache()
    const error = await rejectionOf(() => bento.getOrSet({ key: 'k', factory: 'not a function' as any }))
    expect(error.code).toBe('E_FACTORY_ERROR')
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  it('a factory returning undefined rejects with E_UNDEFINED_VALUE, without calling onFactoryError', async () => {
    const bento = createCache()
    const seen: unknown[] = []
    const error = await rejectionOf(() =>
      bento.getOrSet({ key: 'k', factory: () => undefined, onFactoryError: (e) => seen.push(e) }),
    )
    expect(error).toBeInstanceOf(errors.E_UNDEFINED_VALUE)
    expect(error.code).toBe('E_UNDEFINED_VALUE')
    expect(error.message).toContain('key: k')
    expect(seen).toHaveLength(0)
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('onFactoryError receives the E_FACTORY_ERROR of a failing factory', async () => {
    const bento = createCache()
    const seen: any[] = []
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'k',
        factory: () => {
          throw new Error('x')
        },
        onFactoryError: (e) => seen.push(e),
      }),
    )
    expect(seen).toEqual([error])
    expect(seen[0].isBackgroundFactory).toBe(false)
  })

  it('the error classes exist with their codes', () => {
    expect(errors.E_FACTORY_SOFT_TIMEOUT.code).toBe('E_FACTORY_SOFT_TIMEOUT')
    const soft = new errors.E_FACTORY_SOFT_TIMEOUT('k')
    expect(soft.code).toBe('E_FACTORY_SOFT_TIMEOUT')
    expect(soft.key).toBe('k')
    expect(soft.message).toBe('Factory has timed out after waiting for soft timeout')

    const cause = new Error('redis')
    const l2 = new errors.E_L2_CACHE_ERROR(cause)
    expect(errors.E_L2_CACHE_ERROR.code).toBe('E_L2_CACHE_ERROR')
    expect(l2.code).toBe('E_L2_CACHE_ERROR')
    expect(l2.cause).toBe(cause)
    expect(l2).toBeInstanceOf(Error)
    expect(l2.toString()).toBe(`${l2.name} [E_L2_CACHE_ERROR]: An error occurred while interacting with the L2 cache`)

    expect(errors.E_FACTORY_HARD_TIMEOUT.code).toBe('E_FACTORY_HARD_TIMEOUT')
    expect(errors.E_FACTORY_ERROR.code).toBe('E_FACTORY_ERROR')
    expect(errors.E_UNDEFINED_VALUE.code).toBe('E_UNDEFINED_VALUE')
    expect(errors.E_LOCK_TIMEOUT.code).toBe('E_LOCK_TIMEOUT')
    expect(errors.E_INVALID_OPTION.code).toBe('E_INVALID_OPTION')
  })
})

describe('stampede protection', () => {
  it('100 concurrent calls on one key run the factory once and all get its value', async () => {
    const bento = createCache()
    const gate = deferred()
    let calls = 0
    const factory = async () => {
      calls++
      await gate.promise
      return { answer: 42 }
    }
    const pending = Array.from({ length: 100 }, () => bento.getOrSet({ key: 'hot', factory }))
    await sleep(20)
    gate.resolve()
    const values = await Promise.all(pending)
    expect(calls).toBe(1)
    expect(values).toHaveLength(100)
    for (const value of values) expect(value).toEqual({ answer: 42 })
    expect(bento.getStats().factory.runs).toBe(1)
  })

  it('concurrent calls on different keys each run their own factory', async () => {
    const bento = createCache()
    const calls: string[] = []
    const values = await Promise.all(
      ['a', 'b', 'c', 'a', 'b', 'c'].map((key) =>
        bento.getOrSet({
          key,
          factory: async () => {
            calls.push(key)
            await sleep(20)
            return key.toUpperCase()
          },
        }),
      ),
    )
    expect(values).toEqual(['A', 'B', 'C', 'A', 'B', 'C'])
    expect(calls.sort()).toEqual(['a', 'b', 'c'])
  })

  it('a failing factory with waiters: each waiter retries in turn (observed: one run per caller)', async () => {
    const bento = createCache()
    let calls = 0
    const factory = async () => {
      calls++
      await sleep(10)
      throw new Error(`fail ${calls}`)
    }
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => bento.getOrSet({ key: 'k', factory })))
    // The first caller's run fails; each waiter then finds no value and no run, and runs the
    // factory itself (one at a time), as bentocache's per-key mutex does.
    expect(calls).toBe(5)
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason.code).toBe('E_FACTORY_ERROR')
    }
  })

  it('a factory that fails once: the first caller rejects, one waiter reruns it, the rest share the value', async () => {
    const bento = createCache()
    let calls = 0
    let concurrent = 0
    let maxConcurrent = 0
    const factory = async () => {
      calls++
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      await sleep(10)
      concurrent--
      if (calls === 1) throw new Error('first run fails')
      return 'ok'
    }
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => bento.getOrSet({ key: 'k', factory })))
    expect(calls).toBe(2)
    expect(maxConcurrent).toBe(1)
    expect(results[0].status).toBe('rejected')
    expect(results.slice(1).map((r) => (r as PromiseFulfilledResult<string>).value)).toEqual(Array(9).fill('ok'))
  })
})

describe('waiters of one factory run', () => {
  /** `count` concurrent getOrSet on one key whose factory returns `make()` once the gate opens. */
  async function herd(bento: ReturnType<typeof createCache>, count: number, make: () => unknown) {
    const gate = deferred()
    const factory = async () => {
      await gate.promise
      return make()
    }
    const pending = Array.from({ length: count }, () => bento.getOrSet({ key: 'hot', factory }))
    await sleep(10)
    gate.resolve()
    return Promise.all(pending)
  }

  it('serialize: true hands each waiter its own copy, equal to what JSON gives back', async () => {
    const bento = createCache()
    const text = '{"__proto__":{"x":1},"list":[1,{"deep":[true,null,"s"]}],"n":2.5}'
    const values = await herd(bento, 20, () => JSON.parse(text))
    const waiters = values.slice(1) as any[]
    for (const value of waiters) {
      expect(value).toEqual(JSON.parse(text))
      // An own `__proto__` key stays a property; the prototype stays Object.prototype.
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(Object.hasOwn(value, '__proto__')).toBe(true)
    }
    waiters[0].list[1].deep.push('mutated')
    waiters[0].n = 0
    for (const value of waiters.slice(1)) {
      expect(value.list[1].deep).toEqual([true, null, 's'])
      expect(value.n).toBe(2.5)
    }
    expect(new Set(waiters).size).toBe(waiters.length)
    const stats = bento.getStats()
    expect(stats.factory.runs).toBe(1)
    expect(stats.hits).toBe(19)
  })

  it('serialize: false hands every waiter the value the factory returned', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const produced = { big: 'object' }
    const values = await herd(bento, 20, () => produced)
    for (const value of values) expect(value).toBe(produced)
  })

  it('a custom serializer deserializes once per waiter', async () => {
    let decoded = 0
    const bento = createCache({
      serializer: {
        serialize: (value: unknown) => JSON.stringify(value),
        deserialize: (text: string) => {
          decoded++
          return { ...JSON.parse(text), decoded: true }
        },
      },
    })
    const values = await herd(bento, 10, () => ({ a: 1 }))
    expect(values[0]).toEqual({ a: 1 })
    for (const value of values.slice(1)) expect(value).toEqual({ a: 1, decoded: true })
    expect(decoded).toBe(9)
  })

  it('each waiter gets a cache:hit event', async () => {
    const bento = createCache()
    const hits: string[] = []
    bento.on('cache:hit', ({ key }: { key: string }) => hits.push(key))
    await herd(bento, 5, () => 'v')
    expect(hits).toEqual(['hot', 'hot', 'hot', 'hot'])
  })
})

describe('grace', () => {
  it('a stale value is served when the factory fails', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.getOrSet({ key: 'k', factory: () => 'v1', ttl: 50 })
    await sleep(120)
    const seen: any[] = []
    const value = await bento.getOrSet({
      key: 'k',
      ttl: 50,
      factory: () => {
        throw new Error('down')
      },
      onFactoryError: (e) => seen.push(e),
    })
    expect(value).toBe('v1')
    expect(seen).toHaveLength(1)
    expect(seen[0].code).toBe('E_FACTORY_ERROR')
    expect(seen[0].isBackgroundFactory).toBe(false)
  })

  it('ctx.fail() also falls back to the stale value', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'v1', ttl: 50 })
    await sleep(120)
    expect(await bento.getOrSet({ key: 'k', factory: (ctx) => ctx.fail('nope') })).toBe('v1')
  })

  it('without grace an expired value is not served when the factory fails', async () => {
    const bento = createCache({ timeout: '1s' })
    await bento.set({ key: 'k', value: 'v1', ttl: 50 })
    await sleep(120)
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'k',
        factory: () => {
          throw new Error('down')
        },
      }),
    )
    expect(error.code).toBe('E_FACTORY_ERROR')
  })

  it('the stale value is gone after ttl + grace', async () => {
    const bento = createCache({ grace: 150, timeout: '1s' })
    await bento.set({ key: 'k', value: 'v1', ttl: 50 })
    await sleep(120)
    expect(await bento.get({ key: 'k' })).toBe('v1')
    await sleep(250)
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    let graced: unknown = 'not called'
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'k',
        factory: (ctx) => {
          graced = ctx.gracedEntry
          throw new Error('down')
        },
      }),
    )
    expect(graced).toBeUndefined()
    expect(error.code).toBe('E_FACTORY_ERROR')
  })

  it('graceBackoff: after a failure served from grace, the factory is left alone for graceBackoff', async () => {
    const bento = createCache({ grace: '5s', timeout: '1s', graceBackoff: 300 })
    await bento.set({ key: 'k', value: 'v1', ttl: 50 })
    await sleep(120)
    let calls = 0
    const failing = () => {
      calls++
      throw new Error('down')
    }
    const working = () => {
      calls++
      return 'v2'
    }
    expect(await bento.getOrSet({ key: 'k', factory: failing })).toBe('v1')
    expect(calls).toBe(1)
    // Within the backoff, the stale value counts as fresh: no factory call.
    expect(await bento.getOrSet({ key: 'k', factory: working })).toBe('v1')
    expect(await bento.get({ key: 'k' })).toBe('v1')
    expect(calls).toBe(1)
    await sleep(500)
    expect(await bento.getOrSet({ key: 'k', factory: working })).toBe('v2')
    expect(calls).toBe(2)
  })

  it('stale-while-revalidate (timeout 0): callers get the stale value at once, the factory runs once in the background', async () => {
    const bento = createCache({ grace: '2s', timeout: 0 })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const gate = deferred()
    let calls = 0
    let graced: unknown = 'not called'
    const factory = async (ctx: any) => {
      calls++
      graced = ctx.gracedEntry
      await gate.promise
      return 'fresh'
    }
    const values = await Promise.all(Array.from({ length: 5 }, () => bento.getOrSet({ key: 'k', factory, ttl: '1m' })))
    expect(values).toEqual(Array(5).fill('stale'))
    expect(calls).toBe(1)
    // As bentocache, the background run is not shown the value it replaces.
    expect(graced).toBeUndefined()
    gate.resolve()
    await sleep(50)
    expect(await bento.get({ key: 'k' })).toBe('fresh')
    expect(await bento.getOrSet({ key: 'k', factory })).toBe('fresh')
    expect(calls).toBe(1)
  })

  it('the default timeout is 0: stale-while-revalidate with grace on', async () => {
    const bento = createCache({ grace: '2s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const gate = deferred()
    const value = await bento.getOrSet({
      key: 'k',
      factory: async () => {
        await gate.promise
        return 'fresh'
      },
    })
    expect(value).toBe('stale')
    gate.resolve()
    await sleep(50)
    expect(await bento.get({ key: 'k' })).toBe('fresh')
  })

  it('a background refresh that fails goes to onFactoryError with isBackgroundFactory, and nothing rejects', async () => {
    const seen: any[] = []
    const bento = createCache({ grace: '2s', onFactoryError: (e) => seen.push(e) })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const value = await bento.getOrSet({
      key: 'k',
      factory: async () => {
        await sleep(20)
        throw new Error('bg failure')
      },
    })
    expect(value).toBe('stale')
    await sleep(100)
    expect(seen).toHaveLength(1)
    expect(seen[0].code).toBe('E_FACTORY_ERROR')
    expect(seen[0].isBackgroundFactory).toBe(true)
    expect(seen[0].key).toBe('k')
    expect(seen[0].cause.message).toBe('bg failure')
    expect(await bento.get({ key: 'k' })).toBe('stale')
    expect(bento.getStats().factory.errors).toBe(1)
  })
})

describe('timeouts', () => {
  it('soft timeout: with a stale value, a slow factory yields the stale value, then its result is cached', async () => {
    const bento = createCache({ grace: '2s', timeout: 50 })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    let graced: any
    const value = await bento.getOrSet({
      key: 'k',
      ttl: '1m',
      factory: async (ctx) => {
        graced = ctx.gracedEntry
        await sleep(250)
        return 'late'
      },
    })
    expect(value).toBe('stale')
    expect(graced).toEqual({ value: 'stale' })
    expect(bento.getStats().factory.timeouts).toBe(1)
    await sleep(400)
    expect(await bento.get({ key: 'k' })).toBe('late')
  })

  it('soft timeout is ignored when there is no stale value', async () => {
    const bento = createCache({ grace: '2s', timeout: 20 })
    const value = await bento.getOrSet({
      key: 'k',
      factory: async () => {
        await sleep(150)
        return 'slow'
      },
    })
    expect(value).toBe('slow')
  })

  it('hardTimeout: rejects with E_FACTORY_HARD_TIMEOUT, and the late result is still cached', async () => {
    const bento = createCache()
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'k',
        hardTimeout: 50,
        factory: async () => {
          await sleep(250)
          return 'late'
        },
      }),
    )
    expect(error).toBeInstanceOf(errors.E_FACTORY_HARD_TIMEOUT)
    expect(error.code).toBe('E_FACTORY_HARD_TIMEOUT')
    expect(error.key).toBe('k')
    expect(error.message).toBe('Factory has timed out after waiting for hard timeout')
    expect(await bento.get({ key: 'k' })).toBeUndefined()
    await sleep(400)
    expect(await bento.get({ key: 'k' })).toBe('late')
    expect(bento.getStats().factory.timeouts).toBe(1)
  })

  it('hardTimeout does not trigger for a factory that finishes in time', async () => {
    const bento = createCache({ hardTimeout: '1s' })
    expect(await bento.getOrSet({ key: 'k', factory: async () => (await sleep(20), 'quick') })).toBe('quick')
  })

  it('a factory failing after its hard timeout causes no unhandled rejection', async () => {
    const seen: any[] = []
    const bento = createCache({ onFactoryError: (e) => seen.push(e) })
    const error = await rejectionOf(() =>
      bento.getOrSet({
        key: 'k',
        hardTimeout: 30,
        factory: async () => {
          await sleep(100)
          throw new Error('late failure')
        },
      }),
    )
    expect(error.code).toBe('E_FACTORY_HARD_TIMEOUT')
    await sleep(250)
    expect(seen).toHaveLength(1)
    expect(await bento.has({ key: 'k' })).toBe(false)
  })

  it('lockTimeout without a stale value: the waiting caller rejects with E_LOCK_TIMEOUT', async () => {
    const bento = createCache()
    const gate = deferred()
    const first = bento.getOrSet({
      key: 'k',
      factory: async () => {
        await gate.promise
        return 'first'
      },
    })
    let secondCalls = 0
    const error = await rejectionOf(() =>
      bento.getOrSet({ key: 'k', lockTimeout: 50, factory: () => (secondCalls++, 'second') }),
    )
    expect(error).toBeInstanceOf(errors.E_LOCK_TIMEOUT)
    expect(error.code).toBe('E_LOCK_TIMEOUT')
    expect(error.message).toBe('timeout while waiting for mutex to become available')
    expect(secondCalls).toBe(0)
    gate.resolve()
    expect(await first).toBe('first')
    expect(await bento.get({ key: 'k' })).toBe('first')
  })

  it('lockTimeout with a stale value: the waiting caller gets the stale value', async () => {
    const bento = createCache({ grace: '2s', timeout: '2s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const gate = deferred()
    const first = bento.getOrSet({
      key: 'k',
      factory: async () => {
        await gate.promise
        return 'fresh'
      },
    })
    expect(await bento.getOrSet({ key: 'k', lockTimeout: 50, factory: () => 'second' })).toBe('stale')
    gate.resolve()
    expect(await first).toBe('fresh')
    expect(await bento.get({ key: 'k' })).toBe('fresh')
  })

  it('a waiter without lockTimeout waits for the running factory and gets its value', async () => {
    const bento = createCache()
    const gate = deferred()
    let calls = 0
    const first = bento.getOrSet({ key: 'k', factory: async () => (calls++, await gate.promise, 'v') })
    const second = bento.getOrSet({ key: 'k', factory: () => (calls++, 'other') })
    await sleep(100)
    gate.resolve()
    expect(await Promise.all([first, second])).toEqual(['v', 'v'])
    expect(calls).toBe(1)
  })
})

describe('more getOrSet edge cases', () => {
  it('forceFresh while another run is in progress waits for it, then runs its own factory', async () => {
    const bento = createCache()
    const gate = deferred()
    const first = bento.getOrSet({ key: 'k', factory: async () => (await gate.promise, 'first') })
    let forcedCalls = 0
    const forced = bento.getOrSet({ key: 'k', forceFresh: true, factory: () => (forcedCalls++, 'forced') })
    await sleep(30)
    expect(forcedCalls).toBe(0)
    gate.resolve()
    expect(await first).toBe('first')
    expect(await forced).toBe('forced')
    expect(forcedCalls).toBe(1)
    expect(await bento.get({ key: 'k' })).toBe('forced')
  })

  it('lockTimeout 0 means no lock timeout: the waiter waits for the running factory', async () => {
    const bento = createCache()
    const first = bento.getOrSet({ key: 'k', factory: async () => (await sleep(100), 'v') })
    expect(await bento.getOrSet({ key: 'k', lockTimeout: 0, factory: () => 'other' })).toBe('v')
    expect(await first).toBe('v')
  })

  it('a factory returning undefined with a stale value available serves the stale value', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    expect(await bento.getOrSet({ key: 'k', factory: () => undefined })).toBe('stale')
  })

  it('a factory failing after a soft timeout goes to onFactoryError (not background) and rejects nothing', async () => {
    const seen: any[] = []
    const bento = createCache({ grace: '2s', timeout: 30, onFactoryError: (e) => seen.push(e) })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    const value = await bento.getOrSet({
      key: 'k',
      factory: async () => {
        await sleep(100)
        throw new Error('late')
      },
    })
    expect(value).toBe('stale')
    await sleep(250)
    expect(seen).toHaveLength(1)
    expect(seen[0].isBackgroundFactory).toBe(false)
    expect(await bento.get({ key: 'k' })).toBe('stale')
  })

  it('a waiter arriving during a soft-timed-out run gets the stale value after the timeout', async () => {
    const bento = createCache({ grace: '2s', timeout: 50 })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    let calls = 0
    const factory = async () => (calls++, await sleep(300), 'fresh')
    const [a, b] = await Promise.all([bento.getOrSet({ key: 'k', factory }), bento.getOrSet({ key: 'k', factory })])
    expect([a, b]).toEqual(['stale', 'stale'])
    expect(calls).toBe(1)
    await sleep(400)
    expect(await bento.get({ key: 'k' })).toBe('fresh')
  })
})

describe('factory ctx', () => {
  it('exposes skip, fail, setTtl, setOptions, setTags and gracedEntry', async () => {
    const bento = createCache()
    let ctx: any
    await bento.getOrSet({ key: 'k', factory: (c) => ((ctx = c), 1) })
    for (const fn of ['skip', 'fail', 'setTtl', 'setOptions', 'setTags']) expect(typeof ctx[fn], fn).toBe('function')
    expect(ctx.gracedEntry).toBeUndefined()
  })

  it('skip(): resolves undefined, caches nothing, and the next call runs the factory again', async () => {
    const bento = createCache()
    let calls = 0
    const value = await bento.getOrSet({ key: 'k', factory: (ctx) => (calls++, ctx.skip()) })
    expect(value).toBeUndefined()
    expect(await bento.has({ key: 'k' })).toBe(false)
    expect(await bento.getOrSet({ key: 'k', factory: () => (calls++, 'real') })).toBe('real')
    expect(calls).toBe(2)
  })

  it('skip() with a graced value still resolves undefined and leaves the stale entry', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'stale', ttl: 50 })
    await sleep(120)
    expect(await bento.getOrSet({ key: 'k', factory: (ctx) => ctx.skip() })).toBeUndefined()
    expect(await bento.get({ key: 'k' })).toBe('stale')
  })

  it('fail(message): rejects with E_FACTORY_ERROR whose cause has that message', async () => {
    const bento = createCache()
    const error = await rejectionOf(() => bento.getOrSet({ key: 'k', factory: (ctx) => ctx.fail('custom reason') }))
    expect(error.code).toBe('E_FACTORY_ERROR')
    expect(error.cause.message).toBe('custom reason')
    const error2 = await rejectionOf(() => bento.getOrSet({ key: 'k2', factory: (ctx) => ctx.fail() }))
    expect(error2.cause.message).toBe('Factory failed')
  })

  it('setTtl(ms) shortens the entry; setTtl(null) makes it forever', async () => {
    const bento = createCache({ ttl: 80 })
    await bento.getOrSet({ key: 'short', ttl: '10m', factory: (ctx) => (ctx.setTtl(80), 's') })
    await bento.getOrSet({ key: 'forever', factory: (ctx) => (ctx.setTtl(null), 'f') })
    await bento.getOrSet({ key: 'string', ttl: 80, factory: (ctx) => (ctx.setTtl('10m'), 'm') })
    await sleep(250)
    expect(await bento.get({ key: 'short' })).toBeUndefined()
    expect(await bento.get({ key: 'forever' })).toBe('f')
    expect(await bento.get({ key: 'string' })).toBe('m')
  })

  it('setOptions({ ttl }) changes the ttl; a ttl of 0 there means forever', async () => {
    const bento = createCache()
    await bento.getOrSet({ key: 'short', ttl: '10m', factory: (ctx) => (ctx.setOptions({ ttl: 80 }), 's') })
    await bento.getOrSet({ key: 'zero', ttl: 80, factory: (ctx) => (ctx.setOptions({ ttl: 0, skipL2Write: true }), 'z') })
    await sleep(250)
    expect(await bento.get({ key: 'short' })).toBeUndefined()
    expect(await bento.get({ key: 'zero' })).toBe('z')
  })

  it('setTags adds tags to the written entry (they are weighed in l1 bytes)', async () => {
    const bento = createCache()
    await bento.getOrSet({ key: 'a', factory: () => 'v' })
    const plain = bento.getStats().l1.bytes
    await bento.delete({ key: 'a' })
    await bento.getOrSet({ key: 'a', factory: (ctx) => (ctx.setTags(['abcdef', 'gh']), 'v') })
    expect(bento.getStats().l1.bytes).toBe(plain + 8)
    await bento.delete({ key: 'a' })
    await bento.getOrSet({ key: 'a', tags: ['xyz'], factory: (ctx) => (ctx.setTags(['q']), 'v') })
    expect(bento.getStats().l1.bytes).toBe(plain + 4)
  })

  it('gracedEntry holds the stale value when one exists (outside stale-while-revalidate)', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: { n: 1 }, ttl: 50 })
    await sleep(120)
    let graced: any
    const value = await bento.getOrSet({ key: 'k', factory: (ctx) => ((graced = ctx.gracedEntry), { n: graced.value.n + 1 }) })
    expect(graced).toEqual({ value: { n: 1 } })
    expect(value).toEqual({ n: 2 })
    expect(await bento.get({ key: 'k' })).toEqual({ n: 2 })
  })

  it('gracedEntry is undefined with forceFresh', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    await bento.set({ key: 'k', value: 'old', ttl: 50 })
    await sleep(120)
    let graced: unknown = 'not called'
    await bento.getOrSet({ key: 'k', forceFresh: true, factory: (ctx) => ((graced = ctx.gracedEntry), 'new') })
    expect(graced).toBeUndefined()
  })
})

describe('stats of concurrent getOrSet', () => {
  it('one caller runs the factory (a miss); those who waited for it find its value (hits)', async () => {
    const bento = createCache()
    const results = await Promise.all(
      Array.from({ length: 10 }, () => bento.getOrSet({ key: 'k', factory: async () => { await sleep(30); return 'v' } })),
    )
    expect(results).toEqual(Array(10).fill('v'))
    const stats = bento.getStats()
    expect(stats.factory.runs).toBe(1)
    expect(stats.misses).toBe(1)
    expect(stats.hits).toBe(9)
    expect(stats.hitRate).toBeCloseTo(0.9)
  })
})
