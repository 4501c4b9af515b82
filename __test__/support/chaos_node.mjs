/**
 * A cache process for the chaos tests (`__test__/chaos/`), driven over IPC by its parent,
 * which owns the faults (it kills redis-server, slows or cuts a proxy). Runs the compiled
 * package (`npm run build` first).
 *
 * argv[2] is a JSON config: `{ l2: url, bus: url | null, timeout, maxItems, ttl }`.
 * Requests are `{ id, op, args }`; replies `{ id, result }` or `{ id, error }`:
 * - a cache method (`get`, `set`, ...), or `stats` (getStats());
 * - `startLoad({ workers, keys, mix })`: a mixed load until `stopLoad`; `mix` is one of
 *   `mixed` (L1 reads, getOrSet, sets) or `getOrSet` (only getOrSet over `keys` keys);
 * - `phase(name)`: ops are counted per phase from now on;
 * - `stopLoad()`: resolves the counts, per phase, and the writes made (`set` keys, each with
 *   its last value and when it was written);
 * - `loopDelay(on)`: starts / stops (and reports) an event-loop delay histogram;
 * - `rss()`: process.memoryUsage().rss after a full garbage collection (with --expose-gc), so
 *   that what is measured is what is kept, not garbage V8 has yet to collect;
 * - `disconnectAll()`: then lets go of IPC: the process must exit by itself.
 * Unhandled rejections and uncaught exceptions are counted, never fatal, and reported in
 * `stats`' `process` field.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { BentoCache, bentostore } from '../../dist/index.js'
import { memoryDriver } from '../../dist/drivers/memory.js'
import { redisBusDriver, redisDriver } from '../../dist/drivers/redis.js'

const config = JSON.parse(process.argv[2])
const faults = { unhandledRejections: 0, uncaughtExceptions: 0, last: null }
process.on('unhandledRejection', (reason) => {
  faults.unhandledRejections++
  faults.last = String(reason?.stack ?? reason)
})
process.on('uncaughtException', (error) => {
  faults.uncaughtExceptions++
  faults.last = String(error?.stack ?? error)
})

let store = bentostore()
  .useL1Layer(memoryDriver({ maxItems: config.maxItems ?? 10_000 }))
  .useL2Layer(redisDriver({ connection: config.l2, timeout: config.timeout ?? '1s' }))
if (config.bus) store = store.useBus(redisBusDriver({ connection: config.bus, retryQueue: { retryInterval: '100ms' } }))
const cache = new BentoCache({ default: 'main', ttl: config.ttl ?? '1h', stores: { main: store } })

// --- the load --------------------------------------------------------------------------------

let load
let phase = 'before'
const counts = {}
function count(kind) {
  const c = (counts[phase] ??= { ops: 0, errors: 0, l1Served: 0, byKind: {} })
  c.ops++
  c.byKind[kind] = (c.byKind[kind] ?? 0) + 1
  if (kind === 'error') c.errors++
  return c
}

/** The last value written to each `w:` key (by call order), and when it was called. */
const writes = new Map()
let writeSeq = 0

async function mixedOp(keys) {
  const roll = Math.random()
  const i = Math.floor(Math.random() * keys)
  if (roll < 0.5) {
    // A key warmed before the load: the L1 has it, whatever Redis does.
    const value = await cache.get({ key: `r:${i % 500}` })
    const c = count('read')
    if (value === `r${i % 500}`) c.l1Served++
  } else if (roll < 0.8) {
    await cache.getOrSet({ key: `g:${i}`, factory: () => `g${i}` })
    count('getOrSet')
  } else {
    const key = `w:${i % 2000}`
    const seq = ++writeSeq
    const value = `v${seq}`
    const at = Date.now()
    await cache.set({ key, value })
    // The last write *issued* is the one Redis must end with: two workers' sets of one key
    // may answer in either order, so the later call wins, not the later answer.
    if (!(writes.get(key)?.seq > seq)) writes.set(key, { value, at, seq })
    count('set')
  }
}

async function getOrSetOp(keys) {
  const i = Math.floor(Math.random() * keys)
  await cache.getOrSet({ key: `k:${i}`, ttl: '2s', factory: async () => ({ id: i, payload: 'x'.repeat(64) }) })
  count('getOrSet')
}

function startLoad({ workers, keys, mix }) {
  const op = mix === 'getOrSet' ? getOrSetOp : mixedOp
  const state = { running: true, done: [] }
  for (let w = 0; w < workers; w++) {
    state.done.push(
      (async () => {
        let n = 0
        while (state.running) {
          try {
            await op(keys)
          } catch (error) {
            count('error')
            faults.last = String(error?.stack ?? error)
          }
          // L1 hits settle as microtasks: yield now and then, or nothing else would run.
          if (++n % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
        }
      })(),
    )
  }
  load = state
}

async function stopLoad() {
  load.running = false
  await Promise.all(load.done)
  return { counts, writes: Object.fromEntries(writes) }
}

// --- requests --------------------------------------------------------------------------------

let histogram
const ops = {
  stats: () => ({ ...cache.getStats(), process: faults }),
  startLoad,
  stopLoad,
  phase: (name) => {
    phase = name
  },
  loopDelay: (on) => {
    if (on) {
      histogram = monitorEventLoopDelay({ resolution: 1 })
      histogram.enable()
      return null
    }
    histogram.disable()
    const ms = (ns) => ns / 1e6
    return { max: ms(histogram.max), p99: ms(histogram.percentile(99)), mean: ms(histogram.mean), count: histogram.count }
  },
  rss: () => {
    globalThis.gc?.()
    return process.memoryUsage().rss
  },
  warm: async (n) => {
    for (let i = 0; i < n; i++) await cache.set({ key: `r:${i}`, value: `r${i}` })
  },
}

process.on('message', async ({ id, op, args = [] }) => {
  try {
    const result = op in ops ? await ops[op](...args) : await cache[op](...args)
    process.send({ id, result: result ?? null })
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) })
  }
  if (op === 'disconnectAll') process.disconnect()
})
process.send({ ready: true })
