/**
 * `memoryDriver({ shared })`: one Rust L1 store for every thread of the process. Real
 * worker_threads (running the compiled package) write in one thread and read in another; a
 * differently named store, or a store of a thread's own, does not see the entries.
 */
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { InvalidOptionError } from '../src/errors.js'

const SCRIPT = fileURLToPath(new URL('./support/shared_store_worker.mjs', import.meta.url))

/** A worker thread, called like a cache on a named store: `await t.call('get', 'name', 'k')`. */
class Thread {
  private next = 0
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  readonly worker = new Worker(SCRIPT)
  constructor() {
    this.worker.on('message', ({ id, result, error }) => {
      const call = this.pending.get(id)!
      this.pending.delete(id)
      if (error) call.reject(new Error(error))
      else call.resolve(result)
    })
    this.worker.on('error', (error) => {
      for (const call of this.pending.values()) call.reject(error)
    })
  }
  call(op: string, shared: string | null, key?: string, value?: unknown): Promise<unknown> {
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, op, shared, key, value })
    })
  }
}

const cacheOn = (options: Parameters<typeof memoryDriver>[0]) =>
  new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver(options)) } })

describe('memoryDriver({ shared }) across worker threads', () => {
  let writer: Thread
  let reader: Thread
  beforeAll(() => {
    writer = new Thread()
    reader = new Thread()
  })
  afterAll(async () => {
    await Promise.all([writer.worker.terminate(), reader.worker.terminate()])
  })

  it('a value written in one worker is read in another', async () => {
    await writer.call('set', 'wt-users', 'user:1', { id: 1, name: 'Ada' })
    expect(await reader.call('get', 'wt-users', 'user:1')).toEqual({ id: 1, name: 'Ada' })
    expect(await reader.call('has', 'wt-users', 'user:1')).toBe(true)
    // And back: the reader writes, the writer reads.
    await reader.call('set', 'wt-users', 'user:2', 'two')
    expect(await writer.call('get', 'wt-users', 'user:2')).toBe('two')
    // One store: its counters are every thread's.
    const stats = (await writer.call('stats', 'wt-users')) as { entries: number }
    expect(stats.entries).toBe(2)
  })

  it('a differently named store does not see it, nor does a store of a thread of its own', async () => {
    await writer.call('set', 'wt-orders', 'order:1', 42)
    expect(await reader.call('get', 'wt-orders', 'order:1')).toBe(42)
    expect(await reader.call('get', 'wt-other', 'order:1')).toBeUndefined()
    expect(await reader.call('has', 'wt-other', 'order:1')).toBe(false)
    expect(await reader.call('get', null, 'order:1')).toBeUndefined()
  })

  it('the main thread shares it too', async () => {
    const main = cacheOn({ maxItems: 1000, shared: 'wt-users' })
    expect(await main.get({ key: 'user:1' })).toEqual({ id: 1, name: 'Ada' })
    await main.set({ key: 'user:3', value: 3 })
    expect(await reader.call('get', 'wt-users', 'user:3')).toBe(3)
    expect(await cacheOn({ maxItems: 1000 }).get({ key: 'user:3' })).toBeUndefined()
  })

  it('another worker opening it with other limits gets a typed error', async () => {
    const main = cacheOn({ maxItems: 1000, shared: 'wt-limits' })
    await main.set({ key: 'k', value: 1 })
    const thrown = (() => {
      try {
        cacheOn({ maxItems: 10, shared: 'wt-limits' })
      } catch (error) {
        return error
      }
    })()
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect((thrown as InvalidOptionError).option).toBe('shared')
    expect((thrown as Error).message).toMatch(/maxItems 1000.*asked for maxItems 10/)
  })
})

describe('memoryDriver({ shared }) option checks', () => {
  const rejects = (options: object, option: string, message: RegExp) => {
    let thrown: unknown
    try {
      cacheOn(options as Parameters<typeof memoryDriver>[0])
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect((thrown as InvalidOptionError).option).toBe(option)
    expect((thrown as InvalidOptionError).code).toBe('E_INVALID_OPTION')
    expect((thrown as Error).message).toMatch(message)
  }

  it('needs a non-empty name of at most 256 bytes', () => {
    rejects({ shared: '' }, 'shared', /non-empty string of at most 256 bytes/)
    rejects({ shared: 42 }, 'shared', /non-empty string/)
    rejects({ shared: 'é'.repeat(129) }, 'shared', /at most 256 bytes/)
    expect(() => cacheOn({ shared: 'x'.repeat(256) })).not.toThrow()
  })

  it('needs serialize: true', () => {
    rejects({ shared: 'wt-by-reference', serialize: false }, 'serialize', /cannot be read in another thread/)
  })
})
