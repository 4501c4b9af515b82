// Memory per entry: how many bytes of V8 heap (what the garbage collector must trace)
// and of process RSS one cached entry costs, for 1,000,000 entries of the ~95-byte object
// the L1 benchmark uses. Each contender runs in a child process of its own, so one's
// garbage cannot be counted against another.
//
//   node --expose-gc bench/memory.js            (after `npm run build`)
//   ENTRIES=200000 node --expose-gc bench/memory.js
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ENTRIES = Number(process.env.ENTRIES ?? 1_000_000)
const CONTENDERS = ['map', 'lru-cache', 'bentocache', 'rustocache', 'rustocache serialize:false']

const valueOf = (i) => ({ id: i, name: `user number ${i}`, tags: ['alpha', 'beta', 'gamma', 'delta'] })

/** Builds one contender and returns a `set(key, value)` that may be async. */
async function build(name) {
  switch (name) {
    case 'map': {
      const map = new Map()
      return (key, value) => map.set(key, value)
    }
    case 'lru-cache': {
      const { LRUCache } = await import('lru-cache')
      const lru = new LRUCache({ max: ENTRIES })
      return (key, value) => lru.set(key, value)
    }
    case 'bentocache': {
      const { BentoCache, bentostore } = await import('bentocache')
      const { memoryDriver } = await import('bentocache/drivers/memory')
      const bento = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: ENTRIES })) } })
      return (key, value) => bento.set({ key, value })
    }
    default: {
      const { BentoCache, bentostore } = await import('../dist/index.js')
      const { memoryDriver } = await import('../dist/drivers/memory.js')
      const serialize = name !== 'rustocache serialize:false'
      const bento = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: ENTRIES, serialize })) } })
      return (key, value) => bento.set({ key, value })
    }
  }
}

/** In a child: fills one contender and prints its bytes per entry as JSON. */
async function measure(name) {
  const set = await build(name)
  // Held by a global: once the loop is done, nothing else would keep the cache alive, and
  // the collector would free it before it is measured.
  globalThis.contender = set
  globalThis.gc()
  const before = process.memoryUsage()
  for (let i = 0; i < ENTRIES; i++) await set(`user:${i}`, valueOf(i))
  globalThis.gc()
  const after = process.memoryUsage()
  const perEntry = (field) => Math.round((after[field] - before[field]) / ENTRIES)
  console.log(JSON.stringify({ name, heap: perEntry('heapUsed'), rss: perEntry('rss') }))
}

if (process.argv[2]) {
  await measure(process.argv[2])
} else {
  console.log(`Memory per entry, ${ENTRIES.toLocaleString()} entries of a ~95-byte object (one process each)\n`)
  console.log('contender'.padEnd(30) + 'V8 heap B/entry'.padStart(16) + 'RSS B/entry'.padStart(14))
  for (const name of CONTENDERS) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), name], { encoding: 'utf8' })
    const { heap, rss } = JSON.parse(out.trim().split('\n').pop())
    console.log(name.padEnd(30) + String(heap).padStart(16) + String(rss).padStart(14))
  }
}
