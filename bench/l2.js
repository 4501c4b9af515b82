/**
 * Tiered (L1 memory + L2 Redis) benchmark: rustocache side by side with bentocache, both on the
 * SAME redis-server, in one run, with a raw ioredis call as the floor of what a Redis read costs.
 *
 * The script starts its own `redis-server` (from PATH) on a free loopback port, with
 * `--save '' --appendonly no`, waits for it to answer PING, and kills it at the end (also on an
 * error, a signal or an early exit). Each library gets its own key prefixes (`rusto*` and
 * `bento*`), so neither ever reads what the other wrote.
 *
 * Stores, built the same way for both libraries (memoryDriver / redisDriver of each library):
 *   - tiered   L1 (maxItems 20,000) + L2, holding 10,000 "hot" keys `user:<i>` in both tiers
 *   - l2only   L2 only (no L1), over 20,000 "cold" keys that are only in Redis
 *   - coldL1   L1 (maxItems 100) + L2, reading the same 20,000 cold keys as l2only
 *
 * Scenarios (one op = one call; values are ~95-byte objects, as in bench/scenarios/l1.js):
 *   1. get, L1 hit           tiered.get of a hot key.
 *   2a. get, L2 hit (no L1)  l2only.get of a cold key: every read is one Redis read, nothing
 *                            else (no L1 lookup, no backfill).
 *   2b. get, L1 miss -> L2   coldL1.get of a cold key: the L1 lookup misses, the value comes from
 *       hit                  Redis and is copied into the L1 (the backfill), as on any real L1 miss.
 *                            How every read misses the L1 without deleting anything: the 20,000
 *                            cold keys are read in a cycle and the L1 holds at most 100 of them,
 *                            so a key's previous copy is evicted long before the cycle comes back
 *                            to it (the three tasks of a contender share one cursor, so a task
 *                            does not start over on keys the previous one just read; `delete` is
 *                            not an option: it deletes from Redis too). The checks below prove it:
 *                            rustocache's L1 counts 0 hits, and every op is one Redis GET.
 *                            This is the "L2-hit get with an empty L1" of the targets below; 2a
 *                            is reported with them too.
 *   3. getOrSet, L1 hit      tiered.getOrSet of a hot key; the factory throws if it ever runs.
 *   4. set                   tiered.set of a hot key (same value): writes the L1 and Redis.
 *   5. getMany of 100 keys   l2only, so each of the 100 keys is a Redis read. rustocache:
 *                            getMany({ keys }). bentocache has no getMany: Promise.all of 100
 *                            gets (what a bentocache user writes instead). Floor: one MGET.
 * Floor rows ("ioredis (raw)"): a bare ioredis 5 client (bentocache's Redis client, default
 * options) doing GET of the very keys bentocache's cold stores read (2a, 2b), MGET of 100 of
 * them (5). No cache work at all: what a Redis round trip costs from Node.
 *
 * Each (scenario, contender) is measured in three tinybench tasks, each warmed up right before
 * it is timed:
 *   - latency     one call per iteration, awaited: p50 and p99 (each includes tinybench's
 *                 per-call bookkeeping, some hundreds of ns, negligible next to a Redis read).
 *   - sequential  BATCH calls in a row per iteration, each awaited (one op in flight):
 *                 ops/s = BATCH * iterations / time, as in bench/scenarios/l1.js.
 *   - 64 in flight an iteration launches 64 calls (on 64 different keys) and awaits them all:
 *                 ops/s = 64 * iterations / time.
 *
 * Checks, so that the numbers measure what they say:
 *   - before and after the timing, every hot key reads back (get) with its value from both
 *     libraries, every cold key from both l2only stores;
 *   - in the Redis scenarios (2a, 2b, 5) every returned value is compared with the expected one
 *     during the timing (a miss or wrong value aborts the run);
 *   - per task (warmup included), the Redis commands the server executed (INFO commandstats)
 *     are counted per op: 0 for the L1 scenarios, 1 GET per get for 2a/2b (100 for a getMany);
 *     and rustocache's own counters must agree: getStats().l2.hits grows by exactly the number
 *     of keys read in 2a, 2b and 5, and its L1 counts 0 hits in 2b. A mismatch aborts the run.
 *
 * Reading the numbers: one op in flight, a loopback Redis read costs mostly thread wakeups (the
 * Node thread, redis-server and, for rustocache, its Redis I/O thread wake each other), so the
 * sequential p50 of every contender sits close to the ioredis floor row, and depends on how the
 * OS schedules those threads over the CPUs (on a 2-vCPU VM, a cross-CPU wakeup costs tens of us).
 *
 * Run: `npm run build && node bench/l2.js` (or `npm run bench:l2`). BENCH_TIME_MS (default 1000)
 * sets the time per task, e.g. BENCH_TIME_MS=50 for a smoke run. The last line is
 * `SUMMARY {json}` with the rustocache/bentocache ratios and the targets' verdicts.
 */
import assert from 'node:assert/strict'
import { Bench } from 'tinybench'
import { Redis } from 'ioredis'
import { BentoCache as BentoCacheJs, bentostore as bentostoreJs } from 'bentocache'
import { memoryDriver as memoryDriverJs } from 'bentocache/drivers/memory'
import { redisDriver as redisDriverJs } from 'bentocache/drivers/redis'
import { BentoCache as RustoCache, bentostore as rustostore } from '../dist/index.js'
import { memoryDriver as rustoMemoryDriver } from '../dist/drivers/memory.js'
import { redisDriver as rustoRedisDriver } from '../dist/drivers/redis.js'
import { TIME_MS, WARMUP_MS, integer, isValue, missFactory, printTable, resultOf, valueOf } from './lib/common.js'
import { startRedis } from './lib/redis.js'

const HOT_KEYS = 10_000
const COLD_KEYS = 20_000
const COLD_L1_MAX_ITEMS = 100
const MANY = 100
const IN_FLIGHT = 64
/** Calls per timed iteration of the sequential throughput tasks, for L1 and for Redis ops. */
const BATCH_L1 = 100
const BATCH_L2 = 10

const RUSTO = 'rustocache'
const BENTO = 'bentocache'
const FLOOR = 'ioredis (raw)'

// ---------------------------------------------------------------------------------------------
// Data: the same keys and values for both libraries.

const hotKeys = Array.from({ length: HOT_KEYS }, (_, i) => `user:${i}`)
const hotValues = hotKeys.map((_, i) => valueOf(i))
const coldKeys = Array.from({ length: COLD_KEYS }, (_, i) => `user:${i}`)
/** getMany windows: window w is cold keys w*MANY .. w*MANY+MANY-1. */
const WINDOWS = COLD_KEYS / MANY
const windows = Array.from({ length: WINDOWS }, (_, w) => coldKeys.slice(w * MANY, (w + 1) * MANY))



/** Calls executed by the server so far, by command (`get`, `mget`, `set`, ...). */
async function commandStats(redis) {
  const calls = {}
  for (const line of (await redis.info('commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match) calls[match[1]] = Number(match[2])
  }
  return calls
}

// ---------------------------------------------------------------------------------------------
// The caches.

function createCaches(port) {
  const url = `redis://127.0.0.1:${port}`
  const rusto = new RustoCache({
    default: 'tiered',
    prefix: 'rusto',
    stores: {
      tiered: rustostore().useL1Layer(rustoMemoryDriver({ maxItems: HOT_KEYS * 2 })).useL2Layer(rustoRedisDriver({ connection: url })),
      l2only: rustostore({ prefix: 'rusto-cold' }).useL2Layer(rustoRedisDriver({ connection: url })),
      coldL1: rustostore({ prefix: 'rusto-cold' })
        .useL1Layer(rustoMemoryDriver({ maxItems: COLD_L1_MAX_ITEMS }))
        .useL2Layer(rustoRedisDriver({ connection: url })),
    },
  })
  const connection = { host: '127.0.0.1', port }
  const bento = new BentoCacheJs({
    default: 'tiered',
    prefix: 'bento',
    stores: {
      tiered: bentostoreJs().useL1Layer(memoryDriverJs({ maxItems: HOT_KEYS * 2 })).useL2Layer(redisDriverJs({ connection })),
      l2only: bentostoreJs({ prefix: 'bento-cold' }).useL2Layer(redisDriverJs({ connection })),
      coldL1: bentostoreJs({ prefix: 'bento-cold' })
        .useL1Layer(memoryDriverJs({ maxItems: COLD_L1_MAX_ITEMS }))
        .useL2Layer(redisDriverJs({ connection })),
    },
  })
  return { rusto, bento }
}

/** bentocache's Redis key for `key` in a store with `prefix` (its BaseDriver#getItemKey). */
const bentoRedisKey = (prefix, key) => `${prefix}:${key}`

async function fill({ rusto, bento }) {
  const chunk = 500
  for (let start = 0; start < HOT_KEYS; start += chunk) {
    const range = hotKeys.slice(start, start + chunk).map((key, n) => ({ key, value: hotValues[start + n] }))
    await rusto.use('tiered').setMany({ items: range })
    await Promise.all(range.map((item) => bento.use('tiered').set(item)))
  }
  for (let start = 0; start < COLD_KEYS; start += chunk) {
    const range = coldKeys.slice(start, start + chunk).map((key, n) => ({ key, value: valueOf(start + n) }))
    await rusto.use('l2only').setMany({ items: range })
    await Promise.all(range.map((item) => bento.use('l2only').set(item)))
  }
}

/** Throws unless every hot key (tiered) and every cold key (l2only) reads back right. */
async function checkAll(caches) {
  const chunk = 500
  for (const [name, cache] of Object.entries(caches)) {
    for (const [store, keys, expected] of [['tiered', hotKeys, (i) => hotValues[i]], ['l2only', coldKeys, valueOf]]) {
      for (let start = 0; start < keys.length; start += chunk) {
        const got = await Promise.all(keys.slice(start, start + chunk).map((key) => cache.use(store).get({ key })))
        got.forEach((value, n) => assert.deepStrictEqual(value, expected(start + n), `${name} ${store}: get(${keys[start + n]})`))
      }
    }
  }
  const sample = Math.floor(HOT_KEYS / 2)
  for (const [name, cache] of Object.entries(caches)) {
    assert.deepStrictEqual(await cache.use('tiered').getOrSet({ key: hotKeys[sample], factory: missFactory }), hotValues[sample], `${name}: getOrSet`)
  }
  const many = await caches.rusto.use('l2only').getMany({ keys: windows[3] })
  assert.deepStrictEqual(many, windows[3].map((_, n) => valueOf(3 * MANY + n)), 'rustocache l2only: getMany')
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each contender's `op(i)` makes one call on the i-th key (or window); `check(v, i)`,
// where given, says whether the call's result is the expected one.

const isWindow = (values, w) => values.length === MANY && values.every((v, n) => isValue(v, w * MANY + n))
const isRawValue = (v) => typeof v === 'string' && v.length > 0
const isRawWindow = (values) => values.length === MANY && values.every(isRawValue)

function scenarios({ rusto, bento }, redis) {
  const rawCold = coldKeys.map((key) => bentoRedisKey('bento-cold', key))
  const rawWindows = windows.map((_, w) => rawCold.slice(w * MANY, (w + 1) * MANY))
  const floorGet = { name: FLOOR, op: (i) => redis.get(rawCold[i]), check: isRawValue, expect: { get: 1 } }
  const r = (store) => rusto.use(store)
  const b = (store) => bento.use(store)
  return [
    {
      id: 'get.l1',
      title: 'get, L1 hit',
      count: HOT_KEYS,
      batch: BATCH_L1,
      contenders: [
        { name: RUSTO, op: (i) => r('tiered').get({ key: hotKeys[i] }), store: r('tiered'), expect: {}, l1Hits: 1, l2Hits: 0 },
        { name: BENTO, op: (i) => b('tiered').get({ key: hotKeys[i] }), expect: {} },
      ],
    },
    {
      id: 'get.l2',
      title: 'get, L2 hit, store without L1',
      count: COLD_KEYS,
      batch: BATCH_L2,
      contenders: [
        { name: RUSTO, op: (i) => r('l2only').get({ key: coldKeys[i] }), check: isValue, store: r('l2only'), batchedReads: 1, l2Hits: 1 },
        { name: BENTO, op: (i) => b('l2only').get({ key: coldKeys[i] }), check: isValue, expect: { get: 1 } },
        floorGet,
      ],
    },
    {
      id: 'get.l1miss',
      title: `get, L1 miss -> L2 hit (L1 of ${COLD_L1_MAX_ITEMS} items, ${COLD_KEYS} keys cycled)`,
      count: COLD_KEYS,
      batch: BATCH_L2,
      contenders: [
        { name: RUSTO, op: (i) => r('coldL1').get({ key: coldKeys[i] }), check: isValue, store: r('coldL1'), batchedReads: 1, l1Hits: 0, l2Hits: 1 },
        { name: BENTO, op: (i) => b('coldL1').get({ key: coldKeys[i] }), check: isValue, expect: { get: 1 } },
        floorGet,
      ],
    },
    {
      id: 'getOrSet.l1',
      title: 'getOrSet, L1 hit',
      count: HOT_KEYS,
      batch: BATCH_L1,
      contenders: [
        { name: RUSTO, op: (i) => r('tiered').getOrSet({ key: hotKeys[i], factory: missFactory }), store: r('tiered'), expect: {}, l1Hits: 1, l2Hits: 0 },
        { name: BENTO, op: (i) => b('tiered').getOrSet({ key: hotKeys[i], factory: missFactory }), expect: {} },
      ],
    },
    {
      id: 'set',
      title: 'set (L1 + L2 write)',
      count: HOT_KEYS,
      batch: BATCH_L2,
      contenders: [
        { name: RUSTO, op: (i) => r('tiered').set({ key: hotKeys[i], value: hotValues[i] }), store: r('tiered'), writes: true },
        { name: BENTO, op: (i) => b('tiered').set({ key: hotKeys[i], value: hotValues[i] }), writes: true },
      ],
    },
    {
      id: 'getMany',
      title: `getMany of ${MANY} keys, L2 only (bentocache: Promise.all of ${MANY} gets)`,
      count: WINDOWS,
      batch: BATCH_L2,
      contenders: [
        { name: RUSTO, op: (w) => r('l2only').getMany({ keys: windows[w] }), check: isWindow, store: r('l2only'), batchedReads: MANY, l2Hits: MANY },
        {
          name: BENTO,
          op: (w) => Promise.all(windows[w].map((key) => b('l2only').get({ key }))),
          check: isWindow,
          expect: { get: MANY },
        },
        { name: FLOOR, op: (w) => redis.mget(rawWindows[w]), check: isRawWindow, expect: { mget: 1 } },
      ],
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Task functions. `counter.ops` counts the calls made (warmup included), for the checks;
// `cursor.at` is the index of the last key (or window) used.

function failed(scenario, contender, i, value) {
  return new Error(`${scenario.id} | ${contender.name}: call #${i} returned ${JSON.stringify(value)?.slice(0, 200)}`)
}

function latencyTask(scenario, contender, counter, cursor) {
  const { op, check } = contender
  const count = scenario.count
  if (!check) {
    return () => {
      const i = (cursor.at = cursor.at + 1 === count ? 0 : cursor.at + 1)
      counter.ops++
      return op(i)
    }
  }
  return async () => {
    const i = (cursor.at = cursor.at + 1 === count ? 0 : cursor.at + 1)
    counter.ops++
    const value = await op(i)
    if (!check(value, i)) throw failed(scenario, contender, i, value)
  }
}

function sequentialTask(scenario, contender, counter, cursor) {
  const step = latencyTask(scenario, contender, counter, cursor)
  const batch = scenario.batch
  return async () => {
    for (let n = 0; n < batch; n++) await step()
  }
}

function inFlightTask(scenario, contender, counter, cursor) {
  const { op, check } = contender
  const count = scenario.count
  return async () => {
    const calls = new Array(IN_FLIGHT)
    const first = cursor.at
    let i = first
    for (let n = 0; n < IN_FLIGHT; n++) {
      i = i + 1 === count ? 0 : i + 1
      calls[n] = op(i)
    }
    cursor.at = i
    counter.ops += IN_FLIGHT
    const values = await Promise.all(calls)
    if (check) {
      let k = first
      for (let n = 0; n < IN_FLIGHT; n++) {
        k = k + 1 === count ? 0 : k + 1
        if (!check(values[n], k)) throw failed(scenario, contender, k, values[n])
      }
    }
  }
}

const MODES = [
  { name: 'latency', create: latencyTask },
  { name: 'sequential', create: sequentialTask },
  { name: 'in flight', create: inFlightTask },
]

// ---------------------------------------------------------------------------------------------
// Checks of what each task made happen.

/** Counts before a task: calls made, Redis commands executed, rustocache's counters. */
async function snapshot(redis, contender, counter) {
  const stats = contender.store?.getStats()
  return { ops: counter.ops, commands: await commandStats(redis), stats }
}

/**
 * What the task did, per op: Redis commands executed, and rustocache's counters. Throws if
 * it is not what the scenario means to measure.
 */
function verify(task, contender, before, after) {
  const ops = after.ops - before.ops
  const commands = {}
  for (const [name, calls] of Object.entries(after.commands)) {
    const delta = calls - (before.commands[name] ?? 0)
    if (delta > 0 && name !== 'info') commands[name] = delta
  }
  const perOp = Object.entries(commands)
    .map(([name, n]) => `${name.toUpperCase()} ${(n / ops).toFixed(2)}`)
    .join(', ')
  const problems = []
  if (ops <= 0) problems.push('no op was made')
  if (contender.expect) {
    const expected = Object.fromEntries(Object.entries(contender.expect).map(([name, n]) => [name, n * ops]))
    const names = new Set([...Object.keys(expected), ...Object.keys(commands)])
    for (const name of names) {
      if ((commands[name] ?? 0) !== (expected[name] ?? 0)) {
        problems.push(`Redis ${name.toUpperCase()} calls: ${commands[name] ?? 0}, expected ${expected[name] ?? 0}`)
      }
    }
  }
  if (contender.batchedReads) {
    // rustocache sends the reads issued in one turn of the event loop as MGETs of up to 32 keys: the keys
    // read are checked by its L2 hit counter; here, that nothing else reached Redis and that
    // no more commands than keys did.
    const others = Object.keys(commands).filter((name) => name !== 'get' && name !== 'mget')
    const reads = (commands.get ?? 0) + (commands.mget ?? 0)
    if (others.length > 0) problems.push(`unexpected Redis commands: ${others.join(', ')}`)
    if (reads < 1 || reads > contender.batchedReads * ops) problems.push(`${reads} GET/MGET calls for ${contender.batchedReads * ops} keys`)
  }
  if (contender.writes && !(Object.values(commands).reduce((a, b) => a + b, 0) >= ops)) {
    problems.push(`only ${perOp || 'no command'} per op reached Redis`)
  }
  let counters = ''
  if (contender.store) {
    const s0 = before.stats
    const s1 = after.stats
    const l1Hits = s1.l1 ? s1.l1.hits - s0.l1.hits : 0
    const l2Hits = s1.l2.hits - s0.l2.hits
    const l2Errors = s1.l2.errors + s1.l2.skipped + s1.l2.unreadable - (s0.l2.errors + s0.l2.skipped + s0.l2.unreadable)
    counters = `l1.hits ${s1.l1 ? l1Hits : '-'}, l2.hits ${l2Hits}, l2 errors ${l2Errors}`
    if (contender.l1Hits !== undefined && l1Hits !== contender.l1Hits * ops) problems.push(`L1 hits ${l1Hits}, expected ${contender.l1Hits * ops}`)
    if (contender.l2Hits !== undefined && l2Hits !== contender.l2Hits * ops) problems.push(`L2 hits ${l2Hits}, expected ${contender.l2Hits * ops}`)
    if (l2Errors !== 0) problems.push(`${l2Errors} L2 errors`)
    if (s1.factory.runs !== s0.factory.runs) problems.push('a factory ran')
  }
  if (problems.length > 0) throw new Error(`${task}: ${problems.join('; ')}`)
  return [task, integer.format(ops), perOp || 'none', counters]
}

// ---------------------------------------------------------------------------------------------
// Reporting.


const micros = (ms) => (ms * 1000).toFixed(1)
const ratio = (x) => x.toFixed(2) + 'x'



// ---------------------------------------------------------------------------------------------
// Main.

async function main() {
  const server = await startRedis()
  const { port } = server
  const redis = new Redis({ host: '127.0.0.1', port })
  const caches = createCaches(port)
  try {
    await run(port, redis, caches)
  } finally {
    await Promise.allSettled([caches.bento.disconnectAll(), caches.rusto.disconnectAll(), redis.quit()])
    await server.stop()
  }
}

async function run(port, redis, caches) {
  await fill(caches)
  // The floor reads bentocache's cold keys as stored: make sure they are where it looks.
  assert.equal(await redis.exists(bentoRedisKey('bento-cold', coldKeys[0]), bentoRedisKey('bento-cold', coldKeys[COLD_KEYS - 1])), 2)
  await checkAll(caches)

  const all = scenarios(caches, redis)
  const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, iterations: 8, warmupIterations: 2, throws: true })
  const plan = []
  for (const scenario of all) {
    for (const contender of scenario.contenders) {
      // One key cursor for the three tasks of a contender: each task goes on where the last
      // one stopped, so a cold key comes back only after the whole cycle.
      const cursor = { at: 0 }
      for (const mode of MODES) {
        const counter = { ops: 0 }
        const name = `${scenario.id} | ${contender.name} | ${mode.name}`
        bench.add(name, mode.create(scenario, contender, counter, cursor), { async: true })
        plan.push({ name, contender, counter })
      }
    }
  }

  const server = (await redis.info('server')).match(/redis_version:(\S+)/)[1]
  console.log(
    `L2 benchmark: redis-server ${server} on 127.0.0.1:${port} (--save '' --appendonly no), ` +
      `${HOT_KEYS} hot keys (tiered, in L1), ${COLD_KEYS} cold keys (Redis only), ~${JSON.stringify(hotValues[0]).length}-byte values; ` +
      `${TIME_MS} ms per task after ${WARMUP_MS} ms warmup; sequential ops/s from batches of ${BATCH_L1} (L1 ops) or ${BATCH_L2} (Redis ops) awaited calls, ` +
      `${IN_FLIGHT} in flight = ${IN_FLIGHT} calls launched then awaited together; node ${process.version}\n`,
  )

  const checks = [['task', 'ops (warmup incl.)', 'Redis commands per op', 'rustocache counters (deltas)']]
  const tasks = new Map(bench.tasks.map((task) => [task.name, task]))
  for (const { name, contender, counter } of plan) {
    const task = tasks.get(name)
    const before = await snapshot(redis, contender, counter)
    await task.warmup()
    await task.run()
    checks.push(verify(name, contender, before, await snapshot(redis, contender, counter)))
  }
  await checkAll(caches)

  const stats = (scenario, contender) => {
    const at = (mode) => resultOf(tasks.get(`${scenario.id} | ${contender} | ${mode}`)).latency
    const latency = at('latency')
    return {
      seqOpsPerSec: (scenario.batch * 1000) / at('sequential').mean,
      inFlightOpsPerSec: (IN_FLIGHT * 1000) / at('in flight').mean,
      p50: latency.p50,
      p99: latency.p99,
      p999: latency.p999,
    }
  }

  const rows = [['scenario', 'contender', 'seq ops/s', 'p50 (us)', 'p99 (us)', `${IN_FLIGHT}-in-flight ops/s`, 'seq vs bento', 'p50 vs bento', `${IN_FLIGHT}-fl vs bento`]]
  const summary = { timeMs: TIME_MS }
  const measured = {}
  for (const scenario of all) {
    const bento = stats(scenario, BENTO)
    for (const contender of scenario.contenders) {
      const s = stats(scenario, contender.name)
      measured[`${scenario.id} | ${contender.name}`] = s
      rows.push([
        scenario.id,
        contender.name,
        integer.format(s.seqOpsPerSec),
        micros(s.p50),
        micros(s.p99),
        integer.format(s.inFlightOpsPerSec),
        ratio(s.seqOpsPerSec / bento.seqOpsPerSec),
        ratio(s.p50 / bento.p50),
        ratio(s.inFlightOpsPerSec / bento.inFlightOpsPerSec),
      ])
    }
    const rusto = stats(scenario, RUSTO)
    summary[`${scenario.id}.seq`] = Number((rusto.seqOpsPerSec / bento.seqOpsPerSec).toFixed(3))
    summary[`${scenario.id}.p50`] = Number((rusto.p50 / bento.p50).toFixed(3))
    summary[`${scenario.id}.inFlight${IN_FLIGHT}`] = Number((rusto.inFlightOpsPerSec / bento.inFlightOpsPerSec).toFixed(3))
  }
  console.log('Scenarios:')
  for (const scenario of all) console.log(`  ${scenario.id.padEnd(12)} ${scenario.title}`)
  console.log()
  printTable(rows)
  console.log(
    `\nops/s: calls per second (getMany: calls of ${MANY} keys each, so keys/s = ${MANY} x ops/s). ` +
      `"vs bento": the row over bentocache's in the same scenario (ops/s ratios: higher is better; p50 ratio: lower is better).` +
      `\nbentocache has no getMany: its getMany row is Promise.all of ${MANY} gets. ioredis (raw): GET (MGET for getMany) of bentocache's stored keys, no cache work.`,
  )

  console.log('\nChecks (per task, warmup included; all passed):')
  printTable(checks, 4)

  // The targets of the issue, on both L2-hit get scenarios. 2b (L1 miss -> L2 hit) is the
  // "L2-hit get with the L1 empty"; 2a (no L1) is the bare L2 read path.
  console.log('\nTargets:')
  const targets = []
  for (const id of ['get.l1miss', 'get.l2']) {
    const rusto = measured[`${id} | ${RUSTO}`]
    const bento = measured[`${id} | ${BENTO}`]
    const throughput = rusto.inFlightOpsPerSec / bento.inFlightOpsPerSec
    const p50 = rusto.p50 / bento.p50
    targets.push({
      key: `target.${id}.inFlight${IN_FLIGHT}.atLeast3x`,
      pass: throughput >= 3,
      text:
        `L2-hit get throughput at ${IN_FLIGHT} in flight >= 3x bentocache's [${id}]: ` +
        `${integer.format(rusto.inFlightOpsPerSec)} vs ${integer.format(bento.inFlightOpsPerSec)} ops/s = ${throughput.toFixed(2)}x`,
    })
    targets.push({
      key: `target.${id}.seqP50.atMostHalf`,
      pass: p50 <= 0.5,
      text: `sequential L2-hit get p50 <= 0.5x bentocache's [${id}]: ${micros(rusto.p50)} vs ${micros(bento.p50)} us = ${p50.toFixed(2)}x`,
    })
  }
  for (const target of targets) {
    console.log(`  ${target.pass ? 'PASS' : 'FAIL'}  ${target.text}`)
    summary[target.key] = target.pass
  }
  console.log('SUMMARY ' + JSON.stringify(summary))
  // For bench/run.js: every (scenario, contender)'s figures (latencies in ms).
  console.log('RESULTS ' + JSON.stringify(measured))
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
