// Memory pressure: values of 10 MB each, written one after another (each read back once) into
// a cache bounded to 100 MB by bytes (rustocache and bentocache: memoryDriver({ maxSize });
// lru-cache: maxSize with the value's length as its size). Each contender runs in a child
// process of its own, so that its peak RSS (getrusage's maxrss) is its own. The run FAILS if a
// child crashes, if a value reads back wrong, or if rustocache's peak RSS grows by more than
// RSS_BOUND_FACTOR x maxSize (what was written is many times that), or its store holds more
// than maxSize bytes.
import { BENTO, LRU, RUSTO, createContender } from '../lib/contenders.js'
import { isMain, nodeChild } from '../lib/common.js'

const VALUE_BYTES = 10 * 2 ** 20
const MAX_SIZE = 100 * 2 ** 20
const RSS_BOUND_FACTOR = 5
const CONTENDERS = [RUSTO, BENTO, LRU]
const MB = 2 ** 20

/** In a child: the writes, then what happened, as JSON on stdout. */
async function child(name, writes) {
  const cache = createContender(name, { maxSize: MAX_SIZE })
  const rssStart = process.memoryUsage().rss
  let rssPeakSampled = rssStart
  const started = Date.now()
  for (let i = 0; i < writes; i++) {
    const key = `big:${i}`
    const value = String.fromCharCode(97 + (i % 26)).repeat(VALUE_BYTES - 8) + String(i).padStart(8, '0')
    await cache.set(key, value)
    const back = await cache.get(key)
    if (back !== undefined && (back.length !== value.length || !back.endsWith(String(i).padStart(8, '0')))) {
      throw new Error(`${name}: ${key} read back wrong (${back.length} chars)`)
    }
    rssPeakSampled = Math.max(rssPeakSampled, process.memoryUsage().rss)
  }
  const seconds = (Date.now() - started) / 1000
  const storeBytes = name === RUSTO ? cache.cache.getStats().l1.bytes : null
  let held = 0
  for (let i = 0; i < writes; i++) if ((await cache.has(`big:${i}`)) === true) held++
  await cache.close()
  const peak = Math.max(rssPeakSampled, process.resourceUsage().maxRSS * 1024)
  console.log(JSON.stringify({ rssStartMb: rssStart / MB, rssPeakMb: peak / MB, rssEndMb: process.memoryUsage().rss / MB, held, storeBytes, seconds }))
}

export const id = 'pressure'
export const title = 'Memory pressure (10 MB values, 100 MB maxSize)'

export async function run({ quick, log }) {
  const writes = quick ? 50 : 200
  const rows = []
  for (const name of CONTENDERS) {
    log(`pressure: ${name}, ${writes} writes of 10 MB`)
    const r = await nodeChild(import.meta.url, [name, String(writes)])
    const growth = r.rssPeakMb - r.rssStartMb
    rows.push({
      case: `${writes} x 10 MB into 100 MB`,
      contender: name,
      values: { peakRssMb: r.rssPeakMb, growthMb: growth, endRssMb: r.rssEndMb, held: r.held, writesPerSec: writes / r.seconds },
    })
    if (name === RUSTO) {
      if (growth > RSS_BOUND_FACTOR * (MAX_SIZE / MB)) throw new Error(`memory pressure: rustocache's RSS grew by ${growth.toFixed(0)} MB, over ${RSS_BOUND_FACTOR} x maxSize`)
      if (r.storeBytes > MAX_SIZE) throw new Error(`memory pressure: rustocache's store holds ${r.storeBytes} bytes, over maxSize ${MAX_SIZE}`)
    }
  }
  return {
    description: `${writes} distinct 10 MB string values written (and each read back) under maxSize 100 MB, one child process per contender (${((writes * VALUE_BYTES) / MB).toLocaleString('en')} MB written in all). RSS in MB.`,
    columns: [
      { key: 'peakRssMb', label: 'peak RSS MB', format: 'mb', better: 'lower' },
      { key: 'growthMb', label: 'peak growth MB', format: 'mb' },
      { key: 'endRssMb', label: 'end RSS MB', format: 'mb' },
      { key: 'held', label: 'values held', format: 'int' },
      { key: 'writesPerSec', label: 'writes/s', format: 'int' },
    ],
    primary: 'peakRssMb',
    rows,
    notes: [`Checked: no child crashed, every value read back intact; rustocache's peak RSS grew by at most ${RSS_BOUND_FACTOR} x maxSize and its store held at most maxSize bytes.`],
  }
}

if (isMain(import.meta.url)) await child(process.argv[2], Number(process.argv[3]))
