// worker_threads: one store shared by every worker thread of a process, against a store per
// worker. Each variant runs in a child process of its own (node --expose-gc), which starts
// WORKERS worker threads:
//   - rustocache (shared)      memoryDriver({ shared: 'bench-workers' }): worker 0 writes every
//                              entry, then every worker reads every entry, and every read in
//                              the other workers must be a hit with the right value (the run
//                              FAILS otherwise: written in one thread, read in another)
//   - rustocache (per worker)  each worker writes and reads a store of its own
//   - lru-cache (per worker)   each worker writes and reads an lru-cache of its own (what a
//                              pure-JS cache in each worker costs)
// Measured: the RSS the entries cost the whole process (after filling, over the RSS with the
// workers started and empty, each side after a gc() in every thread), the memory the shared
// store saves against one lru-cache per worker, and the reads per second of all workers at once.
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { isMain, isValue, nodeChild, valueOf } from '../lib/common.js'

const WORKERS = 4
const SHARED = 'rustocache (shared)'
const VARIANTS = [SHARED, 'rustocache (per worker)', 'lru-cache (per worker)']
const MB = 2 ** 20

async function cacheOf(variant, entries) {
  if (variant.startsWith('lru-cache')) {
    const { LRUCache } = await import('lru-cache')
    const lru = new LRUCache({ max: entries })
    return { get: (key) => lru.get(key), set: (key, value) => lru.set(key, value) }
  }
  const { BentoCache, bentostore } = await import('../../dist/index.js')
  const { memoryDriver } = await import('../../dist/drivers/memory.js')
  const driver = memoryDriver(variant === SHARED ? { maxItems: entries, shared: 'bench-workers' } : { maxItems: entries })
  const cache = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(driver) } })
  return { get: (key) => cache.get({ key }), set: (key, value) => cache.set({ key, value }) }
}

/** A worker thread: answers 'fill', 'read' and 'gc' from its parent. */
async function workerMain() {
  const { variant, entries, index } = workerData
  const cache = await cacheOf(variant, entries)
  parentPort.on('message', async (op) => {
    if (op === 'fill') {
      for (let i = 0; i < entries; i++) await cache.set(`user:${i}`, valueOf(i))
      parentPort.postMessage({ op })
    } else if (op === 'read') {
      let misses = 0
      const started = process.hrtime.bigint()
      for (let i = 0; i < entries; i++) {
        let v = cache.get(`user:${i}`)
        if (v instanceof Promise) v = await v
        if (!isValue(v, i)) misses++
      }
      parentPort.postMessage({ op, index, misses, seconds: Number(process.hrtime.bigint() - started) / 1e9 })
    } else if (op === 'gc') {
      globalThis.gc()
      parentPort.postMessage({ op })
    }
  })
  parentPort.postMessage({ op: 'ready' })
}

/** The child process of one variant: starts the workers, drives them, prints JSON. */
async function childMain(variant, entries) {
  const workers = Array.from({ length: WORKERS }, (_, index) => new Worker(fileURLToPath(import.meta.url), { workerData: { variant, entries, index } }))
  const replies = workers.map((worker) => {
    const queue = []
    const waiting = []
    worker.on('message', (m) => (waiting.length ? waiting.shift()(m) : queue.push(m)))
    worker.on('error', (error) => {
      console.error(error)
      process.exit(1)
    })
    return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve)))
  })
  const ask = (i, op) => {
    workers[i].postMessage(op)
    return replies[i]()
  }
  const all = (op) => Promise.all(workers.map((_, i) => ask(i, op)))
  await Promise.all(replies.map((next) => next())) // ready
  const settledRss = async () => {
    await all('gc')
    globalThis.gc()
    return process.memoryUsage().rss
  }
  const rssReady = await settledRss()
  if (variant === SHARED) await ask(0, 'fill')
  else await all('fill')
  const started = process.hrtime.bigint()
  const reads = await all('read')
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const rssFilled = await settledRss()
  await Promise.all(workers.map((w) => w.terminate()))
  console.log(JSON.stringify({ variant, growthMb: (rssFilled - rssReady) / MB, readsPerSec: (WORKERS * entries) / seconds, misses: reads.map((r) => r.misses) }))
}

export const id = 'workers'
export const title = 'worker_threads: one shared store'

export async function run({ quick, log }) {
  const entries = quick ? 50_000 : 200_000
  const rows = []
  for (const variant of VARIANTS) {
    log(`workers: ${variant}, ${WORKERS} workers, ${entries} entries`)
    const r = await nodeChild(import.meta.url, [variant, String(entries)], { nodeFlags: ['--expose-gc'] })
    if (r.misses.some((n) => n > 0)) {
      throw new Error(`worker_threads: ${variant}: reads that missed or read a wrong value, per worker: ${r.misses.join(', ')}${variant === SHARED ? ' (entries written in worker 0 must be read in every worker)' : ''}`)
    }
    rows.push({ case: `${WORKERS} workers, ${entries.toLocaleString('en')} entries each read by all`, contender: variant, values: { growthMb: r.growthMb, readsPerSec: r.readsPerSec } })
  }
  const shared = rows.find((r) => r.contender === SHARED)
  const lru = rows.find((r) => r.contender === 'lru-cache (per worker)')
  shared.values.savedMb = lru.values.growthMb - shared.values.growthMb
  return {
    description: `${WORKERS} worker threads in one process; entries of ~95-byte objects; RSS growth of the whole process for the entries (MB); reads/s of all workers reading at once.`,
    columns: [
      { key: 'growthMb', label: 'RSS for the entries MB', format: 'mb', better: 'lower', exact: true, tolerance: 5 },
      { key: 'savedMb', label: 'saved vs lru-cache per worker MB', format: 'mb' },
      { key: 'readsPerSec', label: 'reads/s (all workers)', format: 'int' },
    ],
    primary: 'growthMb',
    rows,
    notes: ['Checked: with the shared store, every entry written in worker 0 was read, intact, in every other worker.'],
  }
}

if (!isMainThread) await workerMain()
else if (isMain(import.meta.url)) await childMain(process.argv[2], Number(process.argv[3]))
