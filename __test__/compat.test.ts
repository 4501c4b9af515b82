/**
 * Compatibility suite: every scenario runs once against bentocache 1.6.1 and once against
 * rustocache, and the two observations must be equal. A scenario builds its own cache,
 * drives it, and returns a plain observation: values returned, booleans, errors (code,
 * message, key, cause, instanceof), the ordered events with their payloads, factory calls.
 *
 * Scenarios stay clear of the documented, deliberate differences (grace shorter than ttl,
 * the payload of a graced `get()` hit, a `defaultValue` function on a hit, `maxEntrySize`
 * without `maxSize`, `serialize: false` in a namespace, an explicit `ttl: undefined`,
 * invalid durations/sizes, error `.name`, eviction order, graceBackoff arithmetic, the lock
 * timeout error class).
 *
 * Timing: ttls are short but every wait is about 3x what it waits for, and nothing asserts
 * on durations, so a loaded machine only slows the suite down.
 */
import { describe, expect, it } from 'vitest'
import * as bentoMain from 'bentocache'
import * as bentoMemory from 'bentocache/drivers/memory'
import * as rustoMain from '../src/index.js'
import * as rustoMemory from '../src/drivers/memory.js'

interface Lib {
  BentoCache: any
  bentostore: any
  memoryDriver: any
  errors: any
}

const bentocache: Lib = {
  BentoCache: bentoMain.BentoCache,
  bentostore: bentoMain.bentostore,
  memoryDriver: bentoMemory.memoryDriver,
  errors: bentoMain.errors,
}

const rustocache: Lib = {
  BentoCache: rustoMain.BentoCache,
  bentostore: rustoMain.bentostore,
  memoryDriver: rustoMemory.memoryDriver,
  errors: rustoMain.errors,
}

type Scenario = (lib: Lib) => Promise<unknown>

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface CreateOptions {
  /** Global options of `new BentoCache()` (besides default/stores). */
  global?: Record<string, unknown>
  /** Options of `bentostore()`. */
  store?: Record<string, unknown>
  /** Options of `memoryDriver()`. */
  driver?: Record<string, unknown>
}

/** A cache with one store, `main`, on the memory driver. */
function create(lib: Lib, options: CreateOptions = {}): any {
  return new lib.BentoCache({
    default: 'main',
    stores: { main: lib.bentostore(options.store ?? {}).useL1Layer(lib.memoryDriver(options.driver ?? {})) },
    ...options.global,
  })
}

const ALL_EVENTS = ['cache:hit', 'cache:miss', 'cache:written', 'cache:deleted', 'cache:cleared', 'cache:expire'] as const

/** A snapshot of a payload value, so later mutations of the object do not rewrite history. */
function snapshot(value: unknown): unknown {
  try {
    return structuredClone(value)
  } catch {
    return typeof value
  }
}

/** Records the given events, in order, as `{ event, ...payload }`. */
function record(cache: any, names: readonly string[] = ALL_EVENTS): any[] {
  const events: any[] = []
  for (const name of names) {
    cache.on(name, (payload: any) => events.push({ event: name, ...(snapshot(payload) as object) }))
  }
  return events
}

const ERROR_KEYS = [
  'E_FACTORY_ERROR',
  'E_FACTORY_SOFT_TIMEOUT',
  'E_FACTORY_HARD_TIMEOUT',
  'E_UNDEFINED_VALUE',
  'E_L2_CACHE_ERROR',
] as const

/** The observable parts of an error (never its `.name`, a documented difference). */
function describeError(lib: Lib, error: any): Record<string, unknown> {
  if (!(error instanceof Error)) return { nonError: String(error) }
  const err = error as any
  return {
    isError: true,
    code: err.code,
    message: err.message,
    status: err.status,
    hasKey: 'key' in err,
    key: err.key,
    isBackgroundFactory: err.isBackgroundFactory,
    cause:
      err.cause === undefined
        ? undefined
        : { isError: err.cause instanceof Error, message: err.cause?.message, code: err.cause?.code },
    instanceOf: Object.fromEntries(ERROR_KEYS.map((name) => [name, err instanceof lib.errors[name]])),
  }
}

/** `{ value }` when the promise resolves, `{ error }` when it rejects. */
async function outcome(lib: Lib, promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    return { value: await promise }
  } catch (error) {
    return { error: describeError(lib, error) }
  }
}

/** As {@link outcome}, also telling a synchronous throw from a rejected promise. */
async function callOutcome(lib: Lib, fn: () => Promise<unknown>): Promise<Record<string, unknown>> {
  let promise: Promise<unknown>
  try {
    promise = fn()
  } catch (error) {
    return { threwSynchronously: true, error: describeError(lib, error) }
  }
  return { threwSynchronously: false, ...(await outcome(lib, promise)) }
}

/** A factory that counts its calls and resolves `value` after `delay` ms. */
function counted<T>(value: T | ((n: number) => T), delay = 0) {
  const factory = async () => {
    factory.calls++
    if (delay > 0) await sleep(delay)
    return typeof value === 'function' ? (value as (n: number) => T)(factory.calls) : value
  }
  factory.calls = 0
  return factory
}

/** A factory that counts its calls and rejects with `Error(message)` after `delay` ms. */
function failing(message = 'factory failed', delay = 0) {
  const factory = async () => {
    factory.calls++
    if (delay > 0) await sleep(delay)
    throw new Error(message)
  }
  factory.calls = 0
  return factory
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

const scenarios: Record<string, Scenario> = {}
const scenario = (name: string, fn: Scenario) => {
  if (scenarios[name]) throw new Error(`duplicate scenario ${name}`)
  scenarios[name] = fn
}

// --- get ---------------------------------------------------------------------------------

scenario('get: miss returns undefined and emits cache:miss', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const value = await cache.get({ key: 'nope' })
  return { value, isUndefined: value === undefined, events }
})

scenario('get: miss with non-function defaultValues', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const object = { a: 1 }
  return {
    string: await cache.get({ key: 'k1', defaultValue: 'dflt' }),
    zero: await cache.get({ key: 'k2', defaultValue: 0 }),
    false: await cache.get({ key: 'k3', defaultValue: false }),
    empty: await cache.get({ key: 'k4', defaultValue: '' }),
    object: await cache.get({ key: 'k5', defaultValue: object }),
    objectIsSame: (await cache.get({ key: 'k5', defaultValue: object })) === object,
    array: await cache.get({ key: 'k6', defaultValue: [1, 2] }),
    cachedAfterwards: await cache.has({ key: 'k1' }),
    events,
  }
})

scenario('get: miss with a function defaultValue (sync and async)', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  let syncCalls = 0
  let asyncCalls = 0
  const sync = await cache.get({
    key: 'a',
    defaultValue: () => {
      syncCalls++
      return 'from-sync'
    },
  })
  const asyncValue = await cache.get({
    key: 'b',
    defaultValue: async () => {
      asyncCalls++
      await sleep(5)
      return { from: 'async' }
    },
  })
  return { sync, asyncValue, syncCalls, asyncCalls, cached: await cache.has({ key: 'a' }), events }
})

scenario('get: hit ignores a non-function defaultValue', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 'stored' })
  const events = record(cache)
  return { value: await cache.get({ key: 'a', defaultValue: 'dflt' }), events }
})

scenario('get: defaultValue null on a miss', async (lib) => {
  const cache = create(lib)
  const value = await cache.get({ key: 'a', defaultValue: null })
  return { isUndefined: value === undefined, isNull: value === null }
})

// --- set / get round trips -----------------------------------------------------------------

scenario('set/get: round trip of JSON values', async (lib) => {
  const cache = create(lib)
  const events = record(cache, ['cache:written'])
  const values: Record<string, unknown> = {
    object: { a: 1, nested: { b: [1, 'two', { c: null }] }, s: 'x' },
    array: [1, 'two', { three: 3 }, [4], null, true],
    emptyObject: {},
    emptyArray: [],
    string: 'hello',
    emptyString: '',
    unicode: 'héllo ✓ 日本',
    integer: 42,
    zero: 0,
    negative: -3.5,
    float: 0.1 + 0.2,
    null: null,
    true: true,
    false: false,
  }
  const setResults: Record<string, unknown> = {}
  const got: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(values)) setResults[key] = await cache.set({ key, value })
  for (const key of Object.keys(values)) got[key] = await cache.get({ key, defaultValue: 'MISSING' })
  const has: Record<string, unknown> = {}
  for (const key of Object.keys(values)) has[key] = await cache.has({ key })
  return { setResults, got, has, events }
})

scenario('set/get: serialized by default, reads are copies', async (lib) => {
  const cache = create(lib)
  const original = { list: [1, 2], name: 'a' }
  let writtenValue: unknown
  cache.on('cache:written', (e: any) => (writtenValue = e.value))
  await cache.set({ key: 'obj', value: original })
  original.list.push(3)
  original.name = 'mutated-after-set'
  const first = await cache.get({ key: 'obj' })
  first.name = 'mutated-read'
  const second = await cache.get({ key: 'obj' })
  let hitValue: unknown
  cache.on('cache:hit', (e: any) => (hitValue = e.value))
  const third = await cache.get({ key: 'obj' })
  const viaGetOrSet = await cache.getOrSet({ key: 'obj', factory: () => 'unused' })
  return {
    first: { ...first, name: 'x' },
    second,
    firstIsOriginal: first === original,
    secondIsFirst: second === first,
    thirdIsSecond: third === second,
    writtenValueIsOriginal: writtenValue === original,
    hitValueIsReturned: hitValue === viaGetOrSet,
    viaGetOrSet,
  }
})

scenario('set/get: JSON-lossy values are JSON round-tripped', async (lib) => {
  const cache = create(lib)
  await cache.set({
    key: 'lossy',
    value: { date: new Date('2020-01-02T03:04:05.000Z'), undef: undefined, fn: () => 1, nan: Number.NaN, inf: Infinity, arr: [undefined, () => 1] },
  })
  await cache.set({ key: 'date', value: new Date('2021-05-06T07:08:09.000Z') })
  await cache.set({ key: 'nan', value: Number.NaN })
  await cache.set({ key: 'map', value: new Map([['a', 1]]) })
  const lossy = await cache.get({ key: 'lossy' })
  const date = await cache.get({ key: 'date' })
  const nan = await cache.get({ key: 'nan' })
  const map = await cache.get({ key: 'map' })
  return {
    lossy,
    lossyKeys: Object.keys(lossy),
    date,
    dateType: typeof date,
    nan,
    nanIsNull: nan === null,
    map,
    mapIsMap: map instanceof Map,
  }
})

scenario('serialize:false: same reference back, mutations visible', async (lib) => {
  const cache = create(lib, { driver: { serialize: false } })
  const original = { list: [1, 2], when: new Date(0) }
  let writtenValue: unknown
  cache.on('cache:written', (e: any) => (writtenValue = e.value))
  await cache.set({ key: 'obj', value: original })
  original.list.push(3)
  const first = await cache.get({ key: 'obj' })
  ;(first as any).extra = true
  const second = await cache.get({ key: 'obj' })
  const produced = { produced: true }
  const fromFactory = await cache.getOrSet({ key: 'made', factory: async () => produced })
  const fromFactoryAgain = await cache.getOrSet({ key: 'made', factory: async () => ({ other: true }) })
  const fromGet = await cache.get({ key: 'made' })
  return {
    firstIsOriginal: first === original,
    secondIsOriginal: second === original,
    list: second.list,
    extra: second.extra,
    dateIsDate: second.when instanceof Date,
    writtenValueIsOriginal: writtenValue === original,
    fromFactoryIsProduced: fromFactory === produced,
    fromFactoryAgainIsProduced: fromFactoryAgain === produced,
    fromGetIsProduced: fromGet === produced,
  }
})

scenario('set: undefined value rejects with E_UNDEFINED_VALUE', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const result = await callOutcome(lib, () => cache.set({ key: 'u', value: undefined }))
  const viaStore = await callOutcome(lib, () => cache.use().set({ key: 'u2', value: undefined }))
  return { result, viaStore, has: await cache.has({ key: 'u' }), events }
})

scenario('set: resolves true and overwrites', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const first = await cache.set({ key: 'a', value: 1 })
  const second = await cache.set({ key: 'a', value: { two: 2 } })
  return { first, second, value: await cache.get({ key: 'a' }), events }
})

scenario('setForever: ignores the global ttl, an explicit ttl wins', async (lib) => {
  const cache = create(lib, { global: { ttl: 50 } })
  const r1 = await cache.setForever({ key: 'forever', value: 'f' })
  await cache.set({ key: 'normal', value: 'n' })
  await cache.setForever({ key: 'explicit', value: 'e', ttl: 50 })
  await sleep(160)
  return {
    r1,
    forever: await cache.get({ key: 'forever' }),
    normal: await cache.get({ key: 'normal' }),
    explicit: await cache.get({ key: 'explicit' }),
  }
})

// --- has / missing / delete / expire / pull / clear -----------------------------------------

scenario('has/missing: before set, after set, delete, expire and ttl expiry', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const obs: Record<string, unknown> = {}
  obs.before = [await cache.has({ key: 'a' }), await cache.missing({ key: 'a' })]
  await cache.set({ key: 'a', value: 'v' })
  obs.afterSet = [await cache.has({ key: 'a' }), await cache.missing({ key: 'a' })]
  await cache.delete({ key: 'a' })
  obs.afterDelete = [await cache.has({ key: 'a' }), await cache.missing({ key: 'a' })]
  await cache.set({ key: 'b', value: 'v' })
  await cache.expire({ key: 'b' })
  obs.afterExpire = [await cache.has({ key: 'b' }), await cache.missing({ key: 'b' })]
  await cache.set({ key: 'c', value: 'v', ttl: 50 })
  obs.beforeTtl = [await cache.has({ key: 'c' }), await cache.missing({ key: 'c' })]
  await sleep(160)
  obs.afterTtl = [await cache.has({ key: 'c' }), await cache.missing({ key: 'c' })]
  return { obs, events }
})

scenario('has: true for falsy stored values', async (lib) => {
  const cache = create(lib)
  const values: Record<string, unknown> = { null: null, false: false, zero: 0, empty: '' }
  for (const [key, value] of Object.entries(values)) await cache.set({ key, value })
  const has: Record<string, unknown> = {}
  for (const key of Object.keys(values)) has[key] = await cache.has({ key })
  return has
})

scenario('has: a graced entry is not had, grace or not', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: 'v', ttl: 50 })
  await sleep(160)
  return { has: await cache.has({ key: 'a' }), missing: await cache.missing({ key: 'a' }) }
})

scenario('delete/deleteMany/expire: resolve true for present and missing keys', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 1 })
  await cache.set({ key: 'b', value: 2 })
  await cache.set({ key: 'c', value: 3 })
  await cache.set({ key: 'd', value: 4 })
  const events = record(cache)
  const obs = {
    deletePresent: await cache.delete({ key: 'a' }),
    deleteMissing: await cache.delete({ key: 'zzz' }),
    deleteManyMixed: await cache.deleteMany({ keys: ['b', 'c', 'yyy'] }),
    deleteManyEmpty: await cache.deleteMany({ keys: [] }),
    expirePresent: await cache.expire({ key: 'd' }),
    expireMissing: await cache.expire({ key: 'xxx' }),
  }
  const after = {
    a: await cache.get({ key: 'a' }),
    b: await cache.get({ key: 'b' }),
    c: await cache.get({ key: 'c' }),
    d: await cache.get({ key: 'd' }),
  }
  return { obs, after, events }
})

scenario('expire: without grace a miss, with grace the stale value', async (lib) => {
  const noGrace = create(lib)
  await noGrace.set({ key: 'a', value: 'old' })
  await noGrace.expire({ key: 'a' })
  const withGrace = create(lib, { global: { grace: '1h' } })
  await withGrace.set({ key: 'a', value: 'old' })
  await withGrace.expire({ key: 'a' })
  const events = record(withGrace, ['cache:miss', 'cache:written', 'cache:expire'])
  return {
    noGrace: { value: await noGrace.get({ key: 'a' }), has: await noGrace.has({ key: 'a' }) },
    withGrace: {
      value: await withGrace.get({ key: 'a' }),
      has: await withGrace.has({ key: 'a' }),
      graceOffForCall: await withGrace.get({ key: 'a', grace: false }),
    },
    events,
  }
})

scenario('expire: getOrSet after expire refreshes (grace with soft timeout)', async (lib) => {
  const cache = create(lib, { global: { grace: '1h', timeout: 1000 } })
  await cache.set({ key: 'a', value: 'old' })
  await cache.expire({ key: 'a' })
  const events = record(cache)
  let graced: unknown
  const value = await cache.getOrSet({
    key: 'a',
    factory: async (ctx: any) => {
      graced = ctx.gracedEntry
      return 'new'
    },
  })
  return { value, graced, after: await cache.get({ key: 'a' }), events }
})

scenario('pull: returns the value and removes the key', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: { v: 1 } })
  const events = record(cache)
  const pulled = await cache.pull('a')
  const again = await cache.pull('a')
  return { pulled, again, has: await cache.has({ key: 'a' }), events }
})

scenario('clear: resolves undefined and removes every key, namespaces included', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 1 })
  await cache.set({ key: 'b', value: 2 })
  const ns = cache.namespace('users')
  await ns.set({ key: 'a', value: 'ns' })
  const events = record(cache)
  const result = await cache.clear()
  return {
    result,
    isUndefined: result === undefined,
    a: await cache.has({ key: 'a' }),
    b: await cache.has({ key: 'b' }),
    nsA: await ns.has({ key: 'a' }),
    events,
  }
})

// --- namespaces ---------------------------------------------------------------------------

scenario('namespace: set/get isolation from the root and siblings', async (lib) => {
  const cache = create(lib)
  const users = cache.namespace('users')
  const posts = cache.namespace('posts')
  const events = record(cache)
  await cache.set({ key: '1', value: 'root' })
  await users.set({ key: '1', value: 'user' })
  await posts.set({ key: '1', value: { post: 1 } })
  return {
    root: await cache.get({ key: '1' }),
    users: await users.get({ key: '1' }),
    posts: await posts.get({ key: '1' }),
    usersAgain: await cache.namespace('users').get({ key: '1' }),
    usersOnly: await users.get({ key: 'only-root', defaultValue: 'none' }),
    rootHasNsKey: await cache.has({ key: 'users:1' }),
    nsName: users.name,
    events,
  }
})

scenario('namespace: clear leaves the root and sibling namespaces', async (lib) => {
  const cache = create(lib)
  const users = cache.namespace('users')
  const posts = cache.namespace('posts')
  await cache.set({ key: 'a', value: 'root-a' })
  await cache.set({ key: 'b', value: 'root-b' })
  await users.set({ key: 'a', value: 'users-a' })
  await users.set({ key: 'b', value: 'users-b' })
  await posts.set({ key: 'a', value: 'posts-a' })
  const events = record(cache)
  const result = await users.clear()
  return {
    result,
    root: [await cache.get({ key: 'a' }), await cache.get({ key: 'b' })],
    users: [await users.get({ key: 'a' }), await users.get({ key: 'b' })],
    posts: await posts.get({ key: 'a' }),
    events,
  }
})

scenario('namespace: nested namespaces, delete and clear', async (lib) => {
  const cache = create(lib)
  const users = cache.namespace('users')
  const admins = users.namespace('admins')
  await users.set({ key: '1', value: 'user-1' })
  await admins.set({ key: '1', value: 'admin-1' })
  await admins.set({ key: '2', value: 'admin-2' })
  const events = record(cache)
  const before = { user: await users.get({ key: '1' }), admin: await admins.get({ key: '1' }) }
  await admins.delete({ key: '1' })
  const afterDelete = { user: await users.get({ key: '1' }), admin: await admins.get({ key: '1' }) }
  await users.clear()
  const afterClear = { user: await users.get({ key: '1' }), admin2: await admins.get({ key: '2' }) }
  return { before, afterDelete, afterClear, events }
})

scenario('namespace: getOrSet, has, delete, expire and pull with un-prefixed event keys', async (lib) => {
  const cache = create(lib)
  const ns = cache.namespace('ns')
  const events = record(cache)
  const f = counted('nv')
  const first = await ns.getOrSet({ key: 'k', factory: f })
  const second = await ns.getOrSet({ key: 'k', factory: f })
  const rootSees = await cache.get({ key: 'k' })
  const has = await ns.has({ key: 'k' })
  await ns.expire({ key: 'k' })
  const afterExpire = await ns.get({ key: 'k' })
  await ns.set({ key: 'p', value: 'pv' })
  const pulled = await ns.pull('p')
  await ns.deleteMany({ keys: ['x', 'y'] })
  return { first, second, calls: f.calls, rootSees, has, afterExpire, pulled, events }
})

// --- stores and emitter --------------------------------------------------------------------

scenario('stores: use() and store isolation, event store names', async (lib) => {
  const bento = new lib.BentoCache({
    default: 'one',
    stores: {
      one: lib.bentostore().useL1Layer(lib.memoryDriver()),
      two: lib.bentostore({ ttl: 50 }).useL1Layer(lib.memoryDriver()),
    },
  })
  const events = record(bento)
  await bento.set({ key: 'a', value: 'one' })
  await bento.use('two').set({ key: 'a', value: 'two' })
  const obs = {
    sameDefault: bento.use() === bento.use('one'),
    sameNamed: bento.use('two') === bento.use('two'),
    defaultStoreName: bento.defaultStoreName,
    names: [bento.use().name, bento.use('two').name],
    one: await bento.get({ key: 'a' }),
    two: await bento.use('two').get({ key: 'a' }),
  }
  await sleep(160)
  const afterTtl = { one: await bento.get({ key: 'a' }), two: await bento.use('two').get({ key: 'a' }) }
  await bento.use('two').set({ key: 'b', value: 1 })
  await bento.clearAll()
  const afterClearAll = { two: await bento.use('two').has({ key: 'b' }) }
  return { obs, afterTtl, afterClearAll, events }
})

scenario('emitter: on/once/off chain and deliver', async (lib) => {
  const cache = create(lib)
  const seen: string[] = []
  const listener = (e: any) => seen.push(`on:${e.key}`)
  const onReturnsThis = cache.on('cache:written', listener) === cache
  const onceReturnsThis = cache.once('cache:written', (e: any) => seen.push(`once:${e.key}`)) === cache
  await cache.set({ key: 'a', value: 1 })
  await cache.set({ key: 'b', value: 1 })
  const offReturnsThis = cache.off('cache:written', listener) === cache
  await cache.set({ key: 'c', value: 1 })
  return { onReturnsThis, onceReturnsThis, offReturnsThis, seen }
})

scenario('emitter: a custom emitter receives the events', async (lib) => {
  const { EventEmitter } = await import('node:events')
  const emitter = new EventEmitter()
  const seen: any[] = []
  for (const name of ALL_EVENTS) emitter.on(name, (payload) => seen.push({ event: name, ...payload }))
  const cache = create(lib, { global: { emitter } })
  await cache.set({ key: 'a', value: 1 })
  await cache.get({ key: 'a' })
  await cache.get({ key: 'b' })
  await cache.delete({ key: 'a' })
  return seen
})

// --- getOrSet -------------------------------------------------------------------------------

scenario('getOrSet: a miss runs the factory once and caches its value', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const f = counted({ computed: true })
  const first = await cache.getOrSet({ key: 'a', factory: f })
  const second = await cache.getOrSet({ key: 'a', factory: f })
  const viaGet = await cache.get({ key: 'a' })
  return { first, second, viaGet, calls: f.calls, has: await cache.has({ key: 'a' }), events }
})

scenario('getOrSet: synchronous factories, returning and throwing', async (lib) => {
  const cache = create(lib)
  const value = await cache.getOrSet({ key: 'a', factory: () => 'sync' })
  const thrown = await outcome(
    lib,
    cache.getOrSet({
      key: 'b',
      factory: () => {
        throw new Error('sync boom')
      },
    }),
  )
  return { value, thrown, cachedA: await cache.get({ key: 'a' }), hasB: await cache.has({ key: 'b' }) }
})

scenario('getOrSet: a null factory value is cached', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const f = counted(null)
  const first = await cache.getOrSet({ key: 'n', factory: f })
  const second = await cache.getOrSet({ key: 'n', factory: f })
  return { first, second, calls: f.calls, has: await cache.has({ key: 'n' }), events }
})

scenario('getOrSet: 20 concurrent callers share one factory run', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const f = counted(() => ({ n: Math.random() }), 40)
  const results = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet({ key: 'hot', factory: f })))
  const counts: Record<string, number> = {}
  for (const e of events) counts[e.event] = (counts[e.event] ?? 0) + 1
  return {
    calls: f.calls,
    allEqual: results.every((r) => JSON.stringify(r) === JSON.stringify(results[0])),
    count: results.length,
    eventCounts: counts,
    writtenValueMatches: events.filter((e) => e.event === 'cache:written').every((e) => JSON.stringify(e.value) === JSON.stringify(results[0])),
  }
})

scenario('getOrSet: 20 concurrent callers, exact event order', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet({ key: 'hot', factory: counted('v', 40) })))
  return events
})

scenario('getOrSet: concurrent callers of a failing factory each run it', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const f = failing('always', 20)
  const results = await Promise.all(Array.from({ length: 5 }, () => outcome(lib, cache.getOrSet({ key: 'bad', factory: f }))))
  return { calls: f.calls, results, events }
})

scenario('getOrSet: concurrent callers on different keys run their own factories', async (lib) => {
  const cache = create(lib)
  const f = counted((n: number) => `v${n}`, 20)
  const results = await Promise.all(['a', 'b', 'c'].map((key) => cache.getOrSet({ key, factory: f })))
  return { calls: f.calls, distinct: new Set(results).size }
})

scenario('getOrSetForever: survives the global ttl, an explicit ttl wins', async (lib) => {
  const cache = create(lib, { global: { ttl: 50 } })
  const f = counted((n: number) => `v${n}`)
  const forever = await cache.getOrSetForever({ key: 'forever', factory: f })
  const normal = await cache.getOrSet({ key: 'normal', factory: f })
  const explicit = await cache.getOrSetForever({ key: 'explicit', factory: f, ttl: 50 })
  await sleep(160)
  return {
    forever,
    normal,
    explicit,
    afterForever: await cache.get({ key: 'forever' }),
    afterNormal: await cache.get({ key: 'normal' }),
    afterExplicit: await cache.get({ key: 'explicit' }),
    calls: f.calls,
  }
})

scenario('getOrSet: factory returning undefined rejects with E_UNDEFINED_VALUE', async (lib) => {
  const errorsSeen: unknown[] = []
  const cache = create(lib, { global: { onFactoryError: (e: any) => errorsSeen.push(e.code) } })
  const events = record(cache)
  const result = await outcome(lib, cache.getOrSet({ key: 'fu', factory: async () => undefined }))
  return { result, errorsSeen, has: await cache.has({ key: 'fu' }), events }
})

scenario('getOrSet: factory returning undefined with a stale value serves it', async (lib) => {
  const cache = create(lib, { global: { grace: '1h', timeout: 1000 } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache)
  const value = await cache.getOrSet({ key: 'a', factory: async () => undefined })
  return { value, events }
})

scenario('getOrSet: a non-function factory', async (lib) => {
  const cache = create(lib)
  return outcome(lib, cache.getOrSet({ key: 'a', factory: 'nope' }))
})

scenario('getOrSet: a set during the factory run is overwritten by the factory', async (lib) => {
  const cache = create(lib)
  const events = record(cache, ['cache:written', 'cache:miss'])
  const running = cache.getOrSet({ key: 'a', factory: counted('from-factory', 100) })
  await sleep(20)
  await cache.set({ key: 'a', value: 'manual' })
  const during = await cache.get({ key: 'a' })
  const result = await running
  return { during, result, after: await cache.get({ key: 'a' }), events }
})

scenario('getOrSet: locks are per namespace() object', async (lib) => {
  const cache = create(lib)
  const sameObject = cache.namespace('ns')
  const f1 = counted('v', 40)
  await Promise.all([sameObject.getOrSet({ key: 'a', factory: f1 }), sameObject.getOrSet({ key: 'a', factory: f1 })])
  const f2 = counted('v', 40)
  await Promise.all([cache.namespace('ns2').getOrSet({ key: 'a', factory: f2 }), cache.namespace('ns2').getOrSet({ key: 'a', factory: f2 })])
  const f3 = counted('v', 40)
  await Promise.all([cache.getOrSet({ key: 'r', factory: f3 }), cache.use().getOrSet({ key: 'r', factory: f3 })])
  const askedTwiceIsOneObject = cache.namespace('ns') === cache.namespace('ns')
  return { sameObject: f1.calls, separateObjects: f2.calls, rootAndUse: f3.calls, askedTwiceIsOneObject }
})

// --- factory errors and ctx -----------------------------------------------------------------

scenario('factory error: E_FACTORY_ERROR with cause and key, nothing cached', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const cause = new Error('db down')
  ;(cause as any).code = 'ECONNREFUSED'
  const result = await outcome(
    lib,
    cache.getOrSet({
      key: 'k',
      factory: async () => {
        throw cause
      },
    }),
  )
  let causeIsSame = false
  await cache
    .getOrSet({
      key: 'k',
      factory: async () => {
        throw cause
      },
    })
    .catch((e: any) => (causeIsSame = e.cause === cause))
  return { result, causeIsSame, has: await cache.has({ key: 'k' }), events }
})

scenario('factory error: a thrown non-Error value', async (lib) => {
  const reported: unknown[] = []
  const cache = create(lib, { global: { onFactoryError: (e: any) => reported.push(e.code) } })
  const thrown = async () => {
    throw 'a string'
  }
  const rejection = await outcome(lib, cache.getOrSet({ key: 'k', factory: thrown }))
  let raw: unknown
  await cache.getOrSet({ key: 'k', factory: thrown }).catch((e: any) => (raw = typeof e === 'string' ? e : { code: e?.code, cause: e?.cause }))
  return { rejection, raw, reported, has: await cache.has({ key: 'k' }) }
})

scenario('ctx.fail: with and without a message', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const boom = await outcome(lib, cache.getOrSet({ key: 'a', factory: (ctx: any) => ctx.fail('boom') }))
  const plain = await outcome(lib, cache.getOrSet({ key: 'b', factory: async (ctx: any) => ctx.fail() }))
  return { boom, plain, has: [await cache.has({ key: 'a' }), await cache.has({ key: 'b' })], events }
})

scenario('ctx.fail with a graced value serves the stale value', async (lib) => {
  const seen: unknown[] = []
  const cache = create(lib, { global: { grace: '1h', onFactoryError: (e: any) => seen.push([e.code, e.cause?.message, e.isBackgroundFactory]) } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache)
  const value = await cache.getOrSet({ key: 'a', factory: (ctx: any) => ctx.fail('boom'), timeout: 1000 })
  return { value, seen, events }
})

scenario('ctx.skip: resolves undefined, caches nothing, emits a miss', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  let calls = 0
  const factory = (ctx: any) => {
    calls++
    return ctx.skip()
  }
  const first = await cache.getOrSet({ key: 's', factory })
  const second = await cache.getOrSet({ key: 's', factory })
  return { first, second, isUndefined: first === undefined, calls, has: await cache.has({ key: 's' }), events }
})

scenario('ctx.skip: with a graced value still resolves undefined', async (lib) => {
  const cache = create(lib, { global: { grace: '1h', timeout: 1000 } })
  await cache.set({ key: 's', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache, ['cache:hit', 'cache:miss', 'cache:written'])
  const value = await cache.getOrSet({ key: 's', factory: (ctx: any) => ctx.skip() })
  return { value, isUndefined: value === undefined, has: await cache.has({ key: 's' }), events }
})

scenario('ctx.setTtl: shortens the ttl, null makes it forever', async (lib) => {
  const cache = create(lib, { global: { ttl: 50 } })
  const short = await cache.getOrSet({
    key: 'short',
    ttl: '1h',
    factory: async (ctx: any) => {
      ctx.setTtl(50)
      return 'short'
    },
  })
  const forever = await cache.getOrSet({
    key: 'forever',
    factory: async (ctx: any) => {
      ctx.setTtl(null)
      return 'forever'
    },
  })
  const str = await cache.getOrSet({
    key: 'str',
    factory: async (ctx: any) => {
      ctx.setTtl('1h')
      return 'str'
    },
  })
  await sleep(160)
  return {
    short,
    forever,
    str,
    afterShort: await cache.get({ key: 'short' }),
    afterForever: await cache.get({ key: 'forever' }),
    afterStr: await cache.get({ key: 'str' }),
  }
})

scenario('ctx.setOptions: ttl applied when truthy', async (lib) => {
  const cache = create(lib, { global: { ttl: '1h' } })
  await cache.getOrSet({
    key: 'a',
    factory: async (ctx: any) => {
      ctx.setOptions({ ttl: 50 })
      return 'a'
    },
  })
  await cache.getOrSet({
    key: 'b',
    factory: async (ctx: any) => {
      ctx.setOptions({ ttl: 0 })
      return 'b'
    },
  })
  await sleep(160)
  return { a: await cache.get({ key: 'a' }), b: await cache.get({ key: 'b' }) }
})

scenario('ctx.setOptions: ttl 0 or null over a short call ttl', async (lib) => {
  const cache = create(lib)
  await cache.getOrSet({ key: 'zero', ttl: 50, factory: async (ctx: any) => (ctx.setOptions({ ttl: 0 }), 'z') })
  await cache.getOrSet({ key: 'null', ttl: 50, factory: async (ctx: any) => (ctx.setOptions({ ttl: null }), 'n') })
  await sleep(160)
  return { zero: await cache.get({ key: 'zero' }), null: await cache.get({ key: 'null' }) }
})

scenario('ctx.setOptions: tags', async (lib) => {
  const cache = create(lib)
  await cache.getOrSet({ key: 'a', factory: async (ctx: any) => (ctx.setOptions({ tags: ['t'] }), 'a') })
  await cache.deleteByTag({ tags: ['t'] })
  return { a: await cache.get({ key: 'a' }) }
})

scenario('ctx: shape of the factory context', async (lib) => {
  const cache = create(lib)
  let shape: unknown
  await cache.getOrSet({
    key: 'a',
    factory: async (ctx: any) => {
      shape = {
        skip: typeof ctx.skip,
        fail: typeof ctx.fail,
        setTtl: typeof ctx.setTtl,
        setTags: typeof ctx.setTags,
        setOptions: typeof ctx.setOptions,
        gracedEntry: ctx.gracedEntry,
        hasGracedEntry: 'gracedEntry' in ctx,
      }
      return 1
    },
  })
  return shape
})

scenario('ctx.gracedEntry: undefined first, the stale value on a graced refresh', async (lib) => {
  const cache = create(lib, { global: { grace: '1h', timeout: 1000 } })
  const seen: unknown[] = []
  const factory = async (ctx: any) => {
    seen.push(ctx.gracedEntry)
    return { round: seen.length }
  }
  await cache.getOrSet({ key: 'g', factory, ttl: 50 })
  await sleep(160)
  const refreshed = await cache.getOrSet({ key: 'g', factory, ttl: 50 })
  return { seen, refreshed }
})

scenario('ctx.gracedEntry: after expire() with grace disabled', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'g', value: 'old' })
  await cache.expire({ key: 'g' })
  let graced: unknown = 'not called'
  const value = await cache.getOrSet({
    key: 'g',
    factory: async (ctx: any) => {
      graced = ctx.gracedEntry
      return 'new'
    },
  })
  return { value, graced }
})

scenario('ctx.gracedEntry: grace disabled for the call over a graced entry', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'g', value: 'old', ttl: 50 })
  await sleep(160)
  let graced: unknown = 'not called'
  const value = await cache.getOrSet({
    key: 'g',
    grace: false,
    factory: async (ctx: any) => {
      graced = ctx.gracedEntry
      return 'new'
    },
  })
  return { value, graced }
})

// --- forceFresh ----------------------------------------------------------------------------

scenario('forceFresh: reruns the factory over a fresh value and caches it', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 'old' })
  const events = record(cache)
  let graced: unknown = 'not called'
  const value = await cache.getOrSet({
    key: 'a',
    forceFresh: true,
    factory: async (ctx: any) => {
      graced = ctx.gracedEntry
      return 'new'
    },
  })
  return { value, graced, after: await cache.get({ key: 'a' }), events }
})

scenario('forceFresh: a factory error throws even with a graced entry', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: 'old', ttl: 50 })
  await sleep(160)
  const events = record(cache, ['cache:hit', 'cache:miss', 'cache:written'])
  const result = await outcome(lib, cache.getOrSet({ key: 'a', forceFresh: true, factory: failing('fresh boom') }))
  return { result, events }
})

// --- onFactoryError ------------------------------------------------------------------------

scenario('onFactoryError: call over store over global', async (lib) => {
  const calls: unknown[] = []
  const handler = (level: string) => (e: any) =>
    calls.push({ level, code: e.code, key: e.key, cause: e.cause?.message, isBackgroundFactory: e.isBackgroundFactory, isFactoryError: e instanceof lib.errors.E_FACTORY_ERROR })
  const globalOnly = create(lib, { global: { onFactoryError: handler('global') } })
  await globalOnly.getOrSet({ key: 'a', factory: failing('g') }).catch(() => {})
  const withStore = create(lib, { global: { onFactoryError: handler('global') }, store: { onFactoryError: handler('store') } })
  await withStore.getOrSet({ key: 'b', factory: failing('s') }).catch(() => {})
  await withStore.getOrSet({ key: 'c', factory: failing('c'), onFactoryError: handler('call') }).catch(() => {})
  await withStore.getOrSet({ key: 'd', factory: (ctx: any) => ctx.fail('via fail') }).catch(() => {})
  return calls
})

scenario('onFactoryError: not called on timeouts or skip', async (lib) => {
  const calls: unknown[] = []
  const cache = create(lib, { global: { onFactoryError: (e: any) => calls.push(e.code) } })
  const hard = await outcome(lib, cache.getOrSet({ key: 'h', hardTimeout: 20, factory: counted('late', 120) }))
  await cache.getOrSet({ key: 's', factory: (ctx: any) => ctx.skip() })
  await sleep(300)
  return { hard: (hard.error as any)?.code, calls }
})

// --- ttl and options -----------------------------------------------------------------------

scenario('ttl: entries expire after real time', async (lib) => {
  const cache = create(lib)
  const f = counted((n: number) => `v${n}`)
  await cache.set({ key: 'a', value: 'a', ttl: 50 })
  await cache.getOrSet({ key: 'b', factory: f, ttl: 50 })
  const before = { a: await cache.get({ key: 'a' }), b: await cache.get({ key: 'b' }) }
  await sleep(160)
  const events = record(cache)
  const after = {
    a: await cache.get({ key: 'a' }),
    hasA: await cache.has({ key: 'a' }),
    b: await cache.getOrSet({ key: 'b', factory: f, ttl: 50 }),
  }
  return { before, after, calls: f.calls, events }
})

scenario('options: ttl precedence global < store < call', async (lib) => {
  const globalOnly = create(lib, { global: { ttl: 50 } })
  const storeOver = create(lib, { global: { ttl: 50 }, store: { ttl: '1h' } })
  const callOver = create(lib, { global: { ttl: '1h' }, store: { ttl: '1h' } })
  await globalOnly.set({ key: 'a', value: 'global' })
  await storeOver.set({ key: 'a', value: 'store' })
  await callOver.set({ key: 'a', value: 'call', ttl: 50 })
  await storeOver.getOrSet({ key: 'b', factory: async () => 'call-gos', ttl: 50 })
  await globalOnly.getOrSet({ key: 'b', factory: async () => 'call-long', ttl: '1h' })
  await sleep(160)
  return {
    globalOnly: await globalOnly.get({ key: 'a' }),
    storeOver: await storeOver.get({ key: 'a' }),
    callOver: await callOver.get({ key: 'a' }),
    storeOverCallShort: await storeOver.get({ key: 'b' }),
    globalOnlyCallLong: await globalOnly.get({ key: 'b' }),
  }
})

scenario('options: grace and timeout from the store level', async (lib) => {
  const cache = create(lib, { store: { grace: '1h', timeout: 1000, ttl: 50 } })
  await cache.set({ key: 'a', value: 'stale' })
  await sleep(160)
  const value = await cache.getOrSet({ key: 'a', factory: failing('x') })
  const callNoGrace = create(lib, { store: { grace: '1h', ttl: 50 } })
  await callNoGrace.set({ key: 'a', value: 'stale' })
  await sleep(160)
  const noGrace = await outcome(lib, callNoGrace.getOrSet({ key: 'a', grace: false, factory: failing('y') }))
  return { value, noGrace }
})

scenario('options: duration strings', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'tenMinutes', value: 1, ttl: '10m' })
  await cache.set({ key: 'oneHour', value: 1, ttl: '1h' })
  await cache.set({ key: 'longForm', value: 1, ttl: '10 minutes' })
  await cache.set({ key: 'ms', value: 1, ttl: '50ms' })
  await cache.set({ key: 'fraction', value: 1, ttl: '0.05s' })
  await cache.set({ key: 'upper', value: 1, ttl: '50MS' })
  const global = create(lib, { global: { ttl: '50ms' } })
  await global.set({ key: 'g', value: 1 })
  const store = create(lib, { store: { ttl: '10m' }, global: { ttl: '50ms' } })
  await store.set({ key: 's', value: 1 })
  await sleep(160)
  return {
    tenMinutes: await cache.has({ key: 'tenMinutes' }),
    oneHour: await cache.has({ key: 'oneHour' }),
    longForm: await cache.has({ key: 'longForm' }),
    ms: await cache.has({ key: 'ms' }),
    fraction: await cache.has({ key: 'fraction' }),
    upper: await cache.has({ key: 'upper' }),
    global: await global.has({ key: 'g' }),
    store: await store.has({ key: 's' }),
  }
})

scenario('options: ttl 0 and null mean forever', async (lib) => {
  const cache = create(lib, { global: { ttl: 50 } })
  await cache.set({ key: 'zero', value: 'z', ttl: 0 })
  await cache.set({ key: 'null', value: 'n', ttl: null })
  const globalNull = create(lib, { global: { ttl: null } })
  await globalNull.set({ key: 'g', value: 'g' })
  await sleep(160)
  return {
    zero: await cache.get({ key: 'zero' }),
    null: await cache.get({ key: 'null' }),
    globalNull: await globalNull.get({ key: 'g' }),
  }
})

scenario('options: a negative ttl without grace stores nothing', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 'old' })
  const events = record(cache, ['cache:written'])
  const result = await cache.set({ key: 'a', value: 'neg', ttl: -1 })
  return { result, value: await cache.get({ key: 'a' }), has: await cache.has({ key: 'a' }), events }
})

// --- grace, timeouts -----------------------------------------------------------------------

scenario('grace: a failing factory returns the stale value', async (lib) => {
  const factoryErrors: unknown[] = []
  const cache = create(lib, {
    global: { grace: '1h', onFactoryError: (e: any) => factoryErrors.push([e.code, e.key, e.cause?.message, e.isBackgroundFactory]) },
  })
  await cache.set({ key: 'a', value: { v: 'stale' }, ttl: 50 })
  await sleep(160)
  const events = record(cache)
  const f = failing('down')
  // timeout: 1000 so the factory runs in the foreground (timeout 0 would be SWR)
  const value = await cache.getOrSet({ key: 'a', factory: f, timeout: 1000 })
  // Within graceBackoff (10s by default) the factory is not retried.
  const again = await cache.getOrSet({ key: 'a', factory: f, timeout: 1000 })
  return { value, again, calls: f.calls, factoryErrors, events }
})

scenario('grace: get returns the stale value (value only)', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: { v: 'stale' }, ttl: 50 })
  await sleep(160)
  const events = record(cache, ['cache:miss', 'cache:written'])
  return {
    value: await cache.get({ key: 'a' }),
    withDefault: await cache.get({ key: 'a', defaultValue: 'dflt' }),
    graceOff: await cache.get({ key: 'a', grace: false, defaultValue: 'dflt' }),
    pulled: await cache.pull('a'),
    afterPull: await cache.get({ key: 'a' }),
    events,
  }
})

scenario('grace: disabled, a failing factory throws after expiry', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 'old', ttl: 50 })
  await sleep(160)
  return outcome(lib, cache.getOrSet({ key: 'a', factory: failing('no grace') }))
})

scenario('grace: SWR (timeout 0) returns stale at once, refreshes in the background', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache)
  let graced: unknown = 'not called'
  let calls = 0
  const value = await cache.getOrSet({
    key: 'a',
    ttl: '1h',
    factory: async (ctx: any) => {
      calls++
      graced = ctx.gracedEntry
      await sleep(30)
      return 'fresh'
    },
  })
  const callsRightAfter = calls
  await sleep(200)
  const later = await cache.get({ key: 'a' })
  return { value, callsRightAfter, graced, later, calls, events }
})

scenario('grace: SWR concurrent callers all get stale, one factory run', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache)
  const f = counted('fresh', 60)
  const results = await Promise.all(Array.from({ length: 5 }, () => cache.getOrSet({ key: 'a', factory: f, ttl: '1h' })))
  await sleep(250)
  const later = await cache.getOrSet({ key: 'a', factory: f, ttl: '1h' })
  return { results, later, calls: f.calls, events }
})

scenario('grace: SWR background failure goes to onFactoryError, stale kept', async (lib) => {
  const seen: unknown[] = []
  const cache = create(lib, {
    global: { grace: '1h', onFactoryError: (e: any) => seen.push({ code: e.code, bg: e.isBackgroundFactory, cause: e.cause?.message, key: e.key }) },
  })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache, ['cache:hit', 'cache:miss', 'cache:written'])
  const f = failing('bg boom', 20)
  const value = await cache.getOrSet({ key: 'a', factory: f })
  await sleep(150)
  // Not graceBackoff'd by a background failure: still stale, so the next call retries.
  const eventsBeforeGet = events.slice()
  const has = await cache.has({ key: 'a' })
  const again = await cache.getOrSet({ key: 'a', factory: f })
  await sleep(150)
  return { value, has, again, calls: f.calls, seen, events: eventsBeforeGet }
})

scenario('grace: soft timeout returns stale, the factory finishes in the background', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache)
  let graced: unknown = 'not called'
  const value = await cache.getOrSet({
    key: 'a',
    timeout: 30,
    ttl: '1h',
    factory: async (ctx: any) => {
      graced = ctx.gracedEntry
      await sleep(150)
      return 'slow-fresh'
    },
  })
  const eventsAtReturn = events.length
  await sleep(450)
  const later = await cache.get({ key: 'a' })
  return { value, graced, eventsAtReturn, later, events }
})

scenario('grace: soft timeout, callers during the slow refresh', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const f = counted('slow-fresh', 300)
  const first = await cache.getOrSet({ key: 'a', timeout: 30, ttl: '1h', factory: f })
  // Arrives while the first factory still runs: waits at most `timeout` for it, then stale.
  const second = await cache.getOrSet({ key: 'a', timeout: 30, ttl: '1h', factory: f })
  await sleep(700)
  const third = await cache.getOrSet({ key: 'a', timeout: 30, ttl: '1h', factory: f })
  return { first, second, third, calls: f.calls }
})

scenario('grace: soft timeout, the late factory failure is reported', async (lib) => {
  const seen: unknown[] = []
  const cache = create(lib, {
    global: { grace: '1h', onFactoryError: (e: any) => seen.push({ code: e.code, bg: e.isBackgroundFactory, cause: e.cause?.message }) },
  })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const value = await cache.getOrSet({ key: 'a', timeout: 30, factory: failing('late boom', 120) })
  await sleep(400)
  return { value, seen, later: await cache.get({ key: 'a' }) }
})

scenario('grace: soft timeout without a stale value is ignored', async (lib) => {
  const cache = create(lib, { global: { grace: '1h' } })
  const events = record(cache)
  const value = await cache.getOrSet({ key: 'a', timeout: 20, factory: counted('full', 120) })
  return { value, events }
})

scenario('hardTimeout: rejects with E_FACTORY_HARD_TIMEOUT, the late value is still cached', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const result = await outcome(lib, cache.getOrSet({ key: 'slow', hardTimeout: 30, factory: counted('late', 150) }))
  const rightAfter = await cache.has({ key: 'slow' })
  await sleep(450)
  return { result, rightAfter, later: await cache.get({ key: 'slow' }), events }
})

scenario('hardTimeout: from the store options, a fast factory is unaffected', async (lib) => {
  const cache = create(lib, { store: { hardTimeout: '30ms' } })
  const fast = await cache.getOrSet({ key: 'fast', factory: counted('quick') })
  const slow = await outcome(lib, cache.getOrSet({ key: 'slow', factory: counted('late', 150) }))
  await sleep(450)
  return { fast, slow }
})

scenario('hardTimeout: getOrSet right after the timeout', async (lib) => {
  const cache = create(lib)
  const slow = counted('late', 250)
  const second = counted('second')
  const result = await outcome(lib, cache.getOrSet({ key: 'slow', hardTimeout: 30, factory: slow }))
  const next = await cache.getOrSet({ key: 'slow', factory: second })
  await sleep(600)
  return { code: (result.error as any)?.code, next, secondCalls: second.calls, later: await cache.get({ key: 'slow' }) }
})

scenario('lockTimeout: without a stale value rejects (message only)', async (lib) => {
  const cache = create(lib)
  const first = cache.getOrSet({ key: 'a', factory: counted('first', 300) })
  await sleep(10)
  let message: unknown
  let value: unknown
  try {
    value = await cache.getOrSet({ key: 'a', lockTimeout: 30, factory: counted('second') })
  } catch (error: any) {
    message = error?.message
  }
  return { value, message, first: await first }
})

scenario('lockTimeout: with a stale value (grace, soft timeout) returns it', async (lib) => {
  const cache = create(lib, { global: { grace: '1h', timeout: 1000 } })
  await cache.set({ key: 'a', value: 'stale', ttl: 50 })
  await sleep(160)
  const events = record(cache, ['cache:hit', 'cache:miss', 'cache:written'])
  const first = cache.getOrSet({ key: 'a', ttl: '1h', factory: counted('fresh', 300) })
  await sleep(10)
  const second = await cache.getOrSet({ key: 'a', lockTimeout: 30, factory: counted('second') })
  return { second, first: await first, events }
})

// --- events --------------------------------------------------------------------------------

scenario('events: set/get/getOrSet/delete/deleteMany/expire/clear in order', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  await cache.set({ key: 'a', value: { n: 1 } })
  await cache.get({ key: 'a' })
  await cache.get({ key: 'missing' })
  await cache.getOrSet({ key: 'b', factory: async () => [1, 2] })
  await cache.getOrSet({ key: 'b', factory: async () => [3] })
  await cache.getOrSetForever({ key: 'c', factory: async () => 'c' })
  await cache.setForever({ key: 'd', value: null })
  await cache.has({ key: 'a' })
  await cache.missing({ key: 'a' })
  await cache.delete({ key: 'a' })
  await cache.deleteMany({ keys: ['b', 'c'] })
  await cache.expire({ key: 'd' })
  await cache.get({ key: 'd' })
  await cache.pull('d')
  await cache.clear()
  await cache.namespace('ns').clear()
  return events
})

scenario('events: unawaited set and get in parallel', async (lib) => {
  const cache = create(lib)
  const events = record(cache)
  const results = await Promise.all([cache.set({ key: 'a', value: 1 }), cache.get({ key: 'a' }), cache.delete({ key: 'a' }), cache.get({ key: 'a' })])
  return { results, events }
})

// --- API surface ----------------------------------------------------------------------------

scenario('surface: methods of BentoCache and of a store', async (lib) => {
  const cache = create(lib)
  const bentoMethods = ['get', 'set', 'setForever', 'getOrSet', 'getOrSetForever', 'has', 'missing', 'pull', 'delete', 'deleteMany', 'deleteByTag', 'expire', 'clear', 'disconnect', 'prune', 'clearAll', 'disconnectAll', 'on', 'once', 'off', 'namespace', 'use']
  const storeMethods = ['namespace', 'get', 'set', 'setForever', 'getOrSet', 'getOrSetForever', 'has', 'missing', 'pull', 'delete', 'deleteByTag', 'deleteMany', 'expire', 'clear', 'prune', 'disconnect']
  const store = cache.use()
  return {
    bento: Object.fromEntries(bentoMethods.map((m) => [m, typeof cache[m]])),
    store: Object.fromEntries(storeMethods.map((m) => [m, typeof store[m]])),
    namespace: Object.fromEntries(storeMethods.map((m) => [m, typeof cache.namespace('x')[m]])),
    prune: await cache.prune(),
    disconnect: await cache.disconnect(),
  }
})

scenario('surface: the errors object', async (lib) => {
  return Object.fromEntries(
    ERROR_KEYS.map((name) => [name, { type: typeof lib.errors[name], code: lib.errors[name]?.code, isErrorClass: lib.errors[name]?.prototype instanceof Error }]),
  )
})

scenario('tags: deleteByTag invalidates tagged entries', async (lib) => {
  const cache = create(lib)
  await cache.set({ key: 'a', value: 'a', tags: ['t1'] })
  await cache.set({ key: 'b', value: 'b', tags: ['t2'] })
  await cache.getOrSet({ key: 'c', factory: async (ctx: any) => { ctx.setTags(['t1']); return 'c' } })
  await sleep(5)
  const result = await callOutcome(lib, () => cache.deleteByTag({ tags: ['t1'] }))
  return {
    result,
    a: await cache.get({ key: 'a' }),
    b: await cache.get({ key: 'b' }),
    c: await cache.get({ key: 'c' }),
  }
})

// --- edge cases ----------------------------------------------------------------------------

scenario('edge: defaultValue function returning a function on a miss', async (lib) => {
  const cache = create(lib)
  const inner = () => 'inner-result'
  const value = await cache.get({ key: 'a', defaultValue: () => inner })
  return { type: typeof value, value: typeof value === 'function' ? 'function' : value }
})

scenario('edge: set a BigInt (unserializable)', async (lib) => {
  const cache = create(lib)
  const viaBento = await callOutcome(lib, () => cache.set({ key: 'a', value: 10n }))
  const viaStore = await callOutcome(lib, () => cache.use().set({ key: 'b', value: 10n }))
  return { viaBento, viaStore, has: await cache.has({ key: 'a' }) }
})

scenario('edge: set a function value', async (lib) => {
  const cache = create(lib)
  const set = await callOutcome(lib, () => cache.set({ key: 'f', value: () => 1 }))
  const got = await callOutcome(lib, () => cache.get({ key: 'f', defaultValue: 'dflt' }))
  return { set, got, has: await cache.has({ key: 'f' }) }
})

scenario('edge: empty prefix and clear', async (lib) => {
  const cache = create(lib, { global: { prefix: '' } })
  await cache.set({ key: 'a', value: 1 })
  await cache.namespace('ns').set({ key: 'b', value: 2 })
  await cache.clear()
  return { a: await cache.has({ key: 'a' }), nsB: await cache.namespace('ns').has({ key: 'b' }) }
})

scenario('edge: Date.now() moved an hour ahead', async (lib) => {
  const observed: Record<string, unknown> = {}
  for (const serialize of [true, false]) {
    const cache = create(lib, { driver: { serialize } })
    await cache.set({ key: 'a', value: 'one', ttl: '1m' })
    const realNow = Date.now
    Date.now = () => realNow() + 3_600_000
    try {
      observed[`serialize ${serialize}`] = await cache.get({ key: 'a' })
    } finally {
      Date.now = realNow
    }
    await cache.disconnectAll()
  }
  return observed
})

scenario('stores: separate stores with their own prefixes share no entries', async (lib) => {
  const bento = new lib.BentoCache({
    default: 'one',
    prefix: 'shared',
    stores: {
      one: lib.bentostore().useL1Layer(lib.memoryDriver()),
      two: lib.bentostore({ prefix: 'other' }).useL1Layer(lib.memoryDriver()),
    },
  })
  await bento.set({ key: 'a', value: 'one' })
  return { two: await bento.use('two').get({ key: 'a' }), one: await bento.get({ key: 'a' }) }
})

// ---------------------------------------------------------------------------------------

/**
 * Scenarios where rustocache differs from bentocache on purpose, each listed in the README
 * ("Deliberate differences", by number) or pending an issue. Both libraries still run; the
 * test asserts that they do differ and pins what rustocache does instead.
 */
const DIFFERENCES: Record<string, { readme: string; check: (rusto: any, bento: any) => void }> = {
  'getOrSet: 20 concurrent callers, exact event order': {
    readme: '12: waiters share one run and look again together',
    check: (rusto, bento) => {
      const kinds = (events: any[]) => events.map((e) => e.event).sort()
      expect(kinds(rusto)).toEqual(kinds(bento))
    },
  },
  'getOrSet: a non-function factory': {
    readme: '13: the cause is the TypeError of the call',
    check: (rusto) => {
      expect(rusto.error.code).toBe('E_FACTORY_ERROR')
      expect(rusto.error.cause.message).toMatch(/is not a function/)
    },
  },
  'factory error: a thrown non-Error value': {
    readme: '13: whatever a factory throws is wrapped in E_FACTORY_ERROR and reported',
    check: (rusto) => {
      expect(rusto.rejection.error.code).toBe('E_FACTORY_ERROR')
      expect(rusto.raw).toEqual({ code: 'E_FACTORY_ERROR', cause: 'a string' })
      expect(rusto.reported).toEqual(['E_FACTORY_ERROR', 'E_FACTORY_ERROR'])
    },
  },
  'edge: defaultValue function returning a function on a miss': {
    readme: '3: a defaultValue function is called once, on a miss',
    check: (rusto) => expect(rusto).toEqual({ type: 'function', value: 'function' }),
  },
  'edge: set a BigInt (unserializable)': {
    readme: '14: values the serializer cannot encode reject with E_SERIALIZATION',
    check: (rusto) => {
      expect(rusto.viaBento.threwSynchronously).toBe(false)
      expect(rusto.viaBento.error.code).toBe('E_SERIALIZATION')
      expect(rusto.viaBento.error.cause.message).toBe('Do not know how to serialize a BigInt')
      expect(rusto.has).toBe(false)
    },
  },
  'edge: set a function value': {
    readme: '14: values the serializer cannot encode reject with E_SERIALIZATION',
    check: (rusto) => {
      expect(rusto.set.error.code).toBe('E_SERIALIZATION')
      expect(rusto.got.value).toBe('dflt')
      expect(rusto.has).toBe(false)
    },
  },
  'ctx.setOptions: ttl 0 or null over a short call ttl': {
    readme: '21: a ttl of 0 or null in setOptions means forever, as in setTtl',
    check: (rusto, bento) => {
      expect(rusto).toEqual({ zero: 'z', null: 'n' })
      expect(bento).toEqual({ zero: undefined, null: undefined })
    },
  },
  'ctx.setOptions: tags': {
    readme: '21: setOptions({ tags }) tags the entry',
    check: (rusto, bento) => {
      expect(rusto).toEqual({ a: undefined })
      expect(bento).toEqual({ a: 'a' })
    },
  },
  'edge: Date.now() moved an hour ahead': {
    readme: '27: expiry follows the system clock, not Date.now()',
    check: (rusto, bento) => {
      expect(rusto).toEqual({ 'serialize true': 'one', 'serialize false': 'one' })
      expect(bento).toEqual({ 'serialize true': undefined, 'serialize false': undefined })
    },
  },
  'getOrSet: locks are per namespace() object': {
    readme: '28: namespace(name) returns one object per name, whose callers share factory runs',
    check: (rusto, bento) => {
      expect(rusto).toEqual({ sameObject: 1, separateObjects: 1, rootAndUse: 1, askedTwiceIsOneObject: true })
      expect(bento).toEqual({ sameObject: 1, separateObjects: 2, rootAndUse: 1, askedTwiceIsOneObject: false })
    },
  },
  'edge: empty prefix and clear': {
    readme: '11: clear() with an empty prefix clears the store',
    check: (rusto) => expect(rusto).toEqual({ a: false, nsB: false }),
  },
}

describe('compatibility with bentocache', () => {
  const same = Object.entries(scenarios).filter(([name]) => !(name in DIFFERENCES))
  it.each(same)('%s', async (_name, run) => {
    const bento = await run(bentocache)
    const rusto = await run(rustocache)
    expect(rusto).toEqual(bento)
  })
})

describe('deliberate differences from bentocache', () => {
  it.each(Object.entries(DIFFERENCES))('%s', async (name, { check }) => {
    const bento = await scenarios[name](bentocache)
    const rusto = await scenarios[name](rustocache)
    expect(rusto).not.toEqual(bento)
    check(rusto, bento)
  })
})
