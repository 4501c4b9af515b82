import { BentoCache, bentostore, type BentoCacheOptions, type BentoStore, type StoreOptions } from '../src/index.js'
import { memoryDriver, type MemoryDriverOptions } from '../src/drivers/memory.js'

/** Options of {@link createCache}: the global options, plus the store's and the driver's. */
export interface TestCacheOptions extends Omit<BentoCacheOptions<Record<string, BentoStore>>, 'default' | 'stores'> {
  /** Options of the one store, named `memory`. */
  store?: StoreOptions
  /** Options of its memory driver. */
  driver?: MemoryDriverOptions
}

/** A cache with one in-memory store named `memory`, the default. */
export function createCache(options: TestCacheOptions = {}) {
  const { store, driver, ...global } = options
  return new BentoCache({
    default: 'memory',
    stores: { memory: bentostore(store).useL1Layer(memoryDriver(driver)) },
    ...global,
  })
}

/** Resolves after `ms` ms of real time (the engine's clock is Rust's wall clock). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check` every 5 ms until it holds; fails after `ms` ms (generous: a loaded 2-core machine is slow, and a condition that holds returns at once). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(5)
  }
}

/**
 * Waits until every cache of `nodes` hears every other on the bus: each deletes a probe key
 * in turn, until the others have received a message from it. Pub/sub keeps nothing for a
 * subscriber not yet subscribed, so a probe unheard after a second is sent again (a loaded
 * machine can take that long to subscribe); if one was, the wait ends only once the counts
 * have been still for 200 ms, so that no late copy reaches the test's own counts.
 */
export async function busConnected(nodes: BentoCache<any>[]): Promise<void> {
  const received = () => nodes.map((m) => m.getStats().bus!.received)
  for (const [i, n] of nodes.entries()) {
    const before = received()
    let sentAt = 0
    let sent = 0
    await eventually(async () => {
      if (Date.now() - sentAt >= 1000) {
        sentAt = Date.now()
        sent++
        await n.delete({ key: `__probe${i}` })
      }
      return nodes.every((m, j) => j === i || m.getStats().bus!.received > before[j])
    }, 15_000)
    if (sent > 1) {
      let last = received().join()
      let stillSince = Date.now()
      await eventually(async () => {
        const now = received().join()
        if (now !== last) [last, stillSince] = [now, Date.now()]
        return Date.now() - stillSince >= 200
      })
    }
  }
}

/** A promise and the functions that settle it. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/**
 * The error `fn`'s promise rejects with. Fails when `fn` throws synchronously (every cache
 * method returns a promise, so errors must come as rejections) or when the promise resolves.
 */
export async function rejectionOf(fn: () => unknown): Promise<any> {
  let promise: unknown
  try {
    promise = fn()
  } catch (error) {
    throw new Error(`threw synchronously instead of returning a rejected promise: ${String(error)}`)
  }
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** The error `fn` throws synchronously. */
export function thrownBy(fn: () => unknown): any {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a synchronous throw, but nothing was thrown')
}

/** Every event emitted on `bento`, in order, as `[name, payload]`. */
export function recordEvents(bento: BentoCache<any>) {
  const names = ['cache:hit', 'cache:miss', 'cache:written', 'cache:deleted', 'cache:cleared', 'cache:expire'] as const
  const events: Array<[string, any]> = []
  for (const name of names) bento.on(name, (payload: any) => events.push([name, payload]))
  return events
}
