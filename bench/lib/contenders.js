// The caches the benchmarks race, each behind the same small interface:
//   get(key), getOrSet(key, factory), set(key, value), has(key), delete(key), close()
// where each call may return a promise (the caller awaits it only then).
//
// - rustocache / bentocache: a BentoCache with one memory store (maxItems, or maxSize),
//   serialize true or false;
// - lru-cache: a bare LRUCache (bentocache's memory store is built on it), fetch() for getOrSet;
// - cache-manager 7: its default store, an unbounded in-memory Keyv (as users get it), or,
//   where a bound matters (hit ratios, eviction), a Keyv over an lru-cache of the same bound.
import { BentoCache as BentoCacheJs, bentostore as bentostoreJs } from 'bentocache'
import { memoryDriver as memoryDriverJs } from 'bentocache/drivers/memory'
import { LRUCache } from 'lru-cache'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { BentoCache as RustoCache, bentostore as rustostore } from '../../dist/index.js'
import { memoryDriver as rustoMemoryDriver } from '../../dist/drivers/memory.js'

export const RUSTO = 'rustocache'
export const RUSTO_NO_SER = 'rustocache (serialize:false)'
export const BENTO = 'bentocache'
export const BENTO_NO_SER = 'bentocache (serialize:false)'
export const LRU = 'lru-cache'
/**
 * lru-cache behind promises, as a bentocache-style API must return its answers, made as cheap
 * as they can be: each value is held as a promise settled once, at its `set`, and a get hands
 * that promise back; the other calls hand back promises settled once and shared. The floor of
 * any awaited call: the await of a settled promise costs more than lru-cache's get itself.
 */
export const LRU_AWAITED = 'lru-cache (awaited)'
export const CACHE_MANAGER = 'cache-manager'
export const CACHE_MANAGER_BOUNDED = 'cache-manager (Keyv on lru-cache)'

/** A bentocache-style cache (bentocache itself or rustocache) over one memory store. */
function bentoLike(BentoCache, bentostore, memoryDriver, { maxItems, maxSize, serialize = true }) {
  const limits = maxSize !== undefined ? { maxSize, ...(maxItems ? { maxItems } : {}) } : { maxItems }
  const cache = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ ...limits, serialize })) },
  })
  return {
    cache,
    get: (key) => cache.get({ key }),
    getOrSet: (key, factory) => cache.getOrSet({ key, factory }),
    set: (key, value) => cache.set({ key, value }),
    has: (key) => cache.has({ key }),
    delete: (key) => cache.delete({ key }),
    close: () => cache.disconnectAll(),
  }
}

function lruCache({ maxItems, maxSize, fetchMethod }) {
  const cache = new LRUCache(
    maxSize !== undefined ? { maxSize, sizeCalculation: (v) => (typeof v === 'string' ? v.length : 1), fetchMethod } : { max: maxItems, fetchMethod },
  )
  return {
    cache,
    get: (key) => cache.get(key),
    // fetch() runs the cache's fetchMethod, so the factory is handed through its context.
    getOrSet: (key, factory) => cache.fetch(key, { context: factory }),
    set: (key, value) => cache.set(key, value),
    has: (key) => cache.has(key),
    delete: (key) => cache.delete(key),
    close: () => {},
  }
}

const SETTLED_TRUE = Promise.resolve(true)
const SETTLED_FALSE = Promise.resolve(false)
const SETTLED_UNDEFINED = Promise.resolve(undefined)

/** lru-cache holding settled promises of the values (see {@link LRU_AWAITED}). */
function settledLruCache({ maxItems }) {
  const cache = new LRUCache({ max: maxItems })
  const fill = async (key, factory) => {
    const value = await factory()
    cache.set(key, Promise.resolve(value))
    return value
  }
  return {
    cache,
    get: (key) => cache.get(key) ?? SETTLED_UNDEFINED,
    getOrSet: (key, factory) => cache.get(key) ?? fill(key, factory),
    set: (key, value) => {
      cache.set(key, Promise.resolve(value))
      return SETTLED_TRUE
    },
    has: (key) => (cache.has(key) ? SETTLED_TRUE : SETTLED_FALSE),
    delete: (key) => (cache.delete(key) ? SETTLED_TRUE : SETTLED_FALSE),
    close: () => {},
  }
}

function cacheManager({ maxItems, bounded }) {
  const store = bounded ? new Keyv({ store: new LRUCache({ max: maxItems }) }) : undefined
  const cache = createCache(store ? { stores: [store] } : undefined)
  const keyv = cache.stores[0]
  return {
    cache,
    get: (key) => cache.get(key),
    getOrSet: (key, factory) => cache.wrap(key, factory),
    set: (key, value) => cache.set(key, value),
    // cache-manager has no has(): its Keyv store's.
    has: (key) => keyv.has(key),
    delete: (key) => cache.del(key),
    close: () => cache.disconnect(),
  }
}

/**
 * Builds contender `name` with `options`: `{ maxItems, maxSize?, bounded? }` (`bounded`: the
 * cache-manager variant bounded like the others).
 */
export function createContender(name, options) {
  switch (name) {
    case RUSTO:
      return bentoLike(RustoCache, rustostore, rustoMemoryDriver, { ...options, serialize: true })
    case RUSTO_NO_SER:
      return bentoLike(RustoCache, rustostore, rustoMemoryDriver, { ...options, serialize: false })
    case BENTO:
      return bentoLike(BentoCacheJs, bentostoreJs, memoryDriverJs, { ...options, serialize: true })
    case BENTO_NO_SER:
      return bentoLike(BentoCacheJs, bentostoreJs, memoryDriverJs, { ...options, serialize: false })
    case LRU:
      return lruCache({ ...options, fetchMethod: (_key, _stale, { context }) => context() })
    case LRU_AWAITED:
      return settledLruCache(options)
    case CACHE_MANAGER:
      return cacheManager({ ...options, bounded: false })
    case CACHE_MANAGER_BOUNDED:
      return cacheManager({ ...options, bounded: true })
    default:
      throw new Error(`unknown contender ${name}`)
  }
}
