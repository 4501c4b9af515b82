/**
 * A worker thread for __test__/worker_threads.test.ts: opens caches whose memory store is the
 * process-wide shared store named in each request, and answers its parent's requests
 * `{ id, op, shared, key, value }` (`op`: set, get, has, stats) with `{ id, result }` or
 * `{ id, error }`. Runs the compiled package (`npm run build` first).
 */
import { parentPort } from 'node:worker_threads'
import { BentoCache, bentostore } from '../../dist/index.js'
import { memoryDriver } from '../../dist/drivers/memory.js'

const caches = new Map()
/** The cache on shared store `shared` (`null`: a store of this thread's own). */
function cacheOn(shared) {
  let cache = caches.get(shared)
  if (!cache) {
    const driver = memoryDriver(shared === null ? { maxItems: 1000 } : { maxItems: 1000, shared })
    cache = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(driver) } })
    caches.set(shared, cache)
  }
  return cache
}

parentPort.on('message', async ({ id, op, shared, key, value }) => {
  try {
    const cache = cacheOn(shared)
    let result
    if (op === 'set') result = await cache.set({ key, value })
    else if (op === 'get') result = await cache.get({ key })
    else if (op === 'has') result = await cache.has({ key })
    else if (op === 'stats') result = cache.getStats().l1
    else throw new Error(`unknown op ${op}`)
    parentPort.postMessage({ id, result })
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.stack ?? error) })
  }
})
