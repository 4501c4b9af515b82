/**
 * The retry queue's ordering rule: a retry never lands after a newer write of its key.
 * The backend here is a plain in-memory store whose calls answer when the test says, so the
 * interleavings that an outage produces by chance (CI once lost one write in 2,000 to one)
 * are played on purpose. Redis itself is exercised by l2.test.ts and the chaos suite.
 */
import { describe, expect, it } from 'vitest'
import type { L2Write } from '../src/l2_backend.js'
import { WriteRetryQueue } from '../src/write_retry_queue.js'

/** A key-value store whose calls are applied when sent, and answer when `answer` is called. */
class ControlledStore {
  readonly values = new Map<string, string>()
  failing = false
  readonly #waiting: Array<() => void> = []

  setMany = (items: L2Write[]) => this.#call(() => items.forEach((item) => this.values.set(item.key, String(item.value))))
  deleteMany = (keys: string[]) => this.#call(() => keys.filter((key) => this.values.delete(key)).length)

  #call<T>(apply: () => T): Promise<T> {
    if (this.failing) return Promise.reject(new Error('down'))
    const result = apply()
    return new Promise((resolve) => this.#waiting.push(() => resolve(result)))
  }

  /** Answers every call sent so far. */
  async answer() {
    for (const resolve of this.#waiting.splice(0)) resolve()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

const write = (key: string, value: string): L2Write => ({ key, value })

describe('WriteRetryQueue', () => {
  it('queues a failed write and retries it', async () => {
    const store = new ControlledStore()
    const queue = new WriteRetryQueue(store)
    queue.failed([write('k', 'v1')], queue.begin(['k']))
    expect(queue.size).toBe(1)
    const flushed = queue.flush()
    await store.answer()
    await flushed
    expect(store.values.get('k')).toBe('v1')
    expect(queue.size).toBe(0)
  })

  it('drops a pending retry as soon as a newer write of its key is sent', async () => {
    const store = new ControlledStore()
    const queue = new WriteRetryQueue(store)
    queue.failed([write('k', 'old')], queue.begin(['k']))
    // A newer write is sent; before it answers, the retry timer fires.
    store.values.set('k', 'new')
    const ticket = queue.begin(['k'])
    const flushed = queue.flush()
    await store.answer()
    await flushed
    queue.succeeded(['k'], ticket)
    expect(store.values.get('k')).toBe('new')
    expect(queue.size).toBe(0)
  })

  it('does not queue an older write that fails after a newer one was sent', () => {
    const store = new ControlledStore()
    const queue = new WriteRetryQueue(store)
    const older = queue.begin(['k'])
    const newer = queue.begin(['k'])
    queue.succeeded(['k'], newer)
    queue.failed([write('k', 'older')], older)
    expect(queue.size).toBe(0)
  })

  it('keeps the newer of two failed writes, whatever order they fail in', () => {
    const queue = new WriteRetryQueue(new ControlledStore())
    const older = queue.begin(['k'])
    const newer = queue.begin(['k'])
    queue.failed([write('k', 'newer')], newer)
    queue.failed([write('k', 'older')], older)
    expect(queue.size).toBe(1)
  })

  it('a write queued while the breaker is open replaces a failed older one', async () => {
    const store = new ControlledStore()
    const queue = new WriteRetryQueue(store)
    const inFlight = queue.begin(['k'])
    queue.failed([write('k', 'queued')], queue.begin(['k'])) // breaker open: queued, not tried
    queue.failed([write('k', 'in flight')], inFlight) // the older write fails afterwards
    const flushed = queue.flush()
    await store.answer()
    await flushed
    expect(store.values.get('k')).toBe('queued')
  })

  it('does not delete a key that was set again while the retried sets were out', async () => {
    const store = new ControlledStore()
    const queue = new WriteRetryQueue(store)
    queue.failed([write('a', 'v1')], queue.begin(['a']))
    queue.failed(['k'], queue.begin(['k'])) // a delete of k, pending
    const flushed = queue.flush() // sends the set of a, then would send the delete of k
    store.values.set('k', 'fresh')
    queue.succeeded(['k'], queue.begin(['k']))
    await store.answer()
    await store.answer()
    await flushed
    expect(store.values.get('k')).toBe('fresh')
    expect(store.values.get('a')).toBe('v1')
  })

  it('keeps everything pending while the store is down, then delivers it', async () => {
    const store = new ControlledStore()
    const queue = new WriteRetryQueue(store)
    queue.failed([write('a', '1'), write('b', '2')], queue.begin(['a', 'b']))
    queue.failed(['c'], queue.begin(['c']))
    store.values.set('c', 'gone soon')
    store.failing = true
    await queue.flush()
    expect(queue.size).toBe(3)
    store.failing = false
    const flushed = queue.flush()
    await store.answer()
    await store.answer()
    await flushed
    expect(Object.fromEntries(store.values)).toEqual({ a: '1', b: '2' })
    expect(queue.size).toBe(0)
  })

  it('drops the oldest pending write past its capacity, and counts it', () => {
    const queue = new WriteRetryQueue(new ControlledStore(), 2)
    for (const key of ['a', 'b', 'c']) queue.failed([write(key, key)], queue.begin([key]))
    expect(queue.size).toBe(2)
    expect(queue.dropped).toBe(1)
  })
})
