import type { Logger } from '../bento_cache.js'
import { parseDuration, type Duration } from '../duration.js'
import { InvalidOptionError } from '../errors.js'
import { rejectUnknownOptions } from '../options.js'
import type { EventSink } from '../events.js'
import type { BusMessage, BusNotice, BusTransport } from './transport.js'

/** How failed publishes are retried, as bentocache's `retryQueue` bus option. */
export interface ResolvedRetryQueue {
  enabled: boolean
  /** Most messages kept; past it the oldest is dropped (and counted). */
  maxSize: number
  /** ms between retries; `null`: only retried before the next publish. */
  retryInterval: number | null
}

/** What a store does with what other processes report. */
export interface BusReceiver {
  /** Applies another process's operation to the local L1. */
  apply(message: BusMessage): void
  /** The L1 may have missed messages: forget it. */
  distrust(reason: 'gap' | 'lost' | 'resubscribed'): void
}

/** A reading of a bus's counters, in `getStats().bus`. */
export interface BusStats {
  /** Messages sent. */
  published: number
  /** Messages received from other processes and applied. */
  received: number
  /** Publish attempts that failed (each queued for retry unless the queue is off). */
  publishErrors: number
  /** Messages waiting to be retried, and those dropped because the queue was full or off. */
  retries: { pending: number; dropped: number }
  /** Lost messages noticed (a sender's sequence skipped numbers): the L1 was cleared. */
  gaps: number
  /** Subscriptions dropped, and restored (each restore clears the L1). */
  disconnections: number
  resubscriptions: number
  /** Messages on the channel that were not ours to read. */
  unreadable: number
}

/**
 * One store's bus: publishes its operations (retrying failures), and applies what other
 * processes publish. Publishing never rejects: a message that cannot be sent is queued,
 * and what the queue cannot hold is counted, never lost silently.
 */
export class CacheBus {
  readonly #queue: BusMessage[] = []
  #timer: NodeJS.Timeout | undefined
  #retrying: Promise<void> | undefined
  #stats: Omit<BusStats, 'retries'> & { dropped: number } = {
    published: 0,
    received: 0,
    publishErrors: 0,
    dropped: 0,
    gaps: 0,
    disconnections: 0,
    resubscriptions: 0,
    unreadable: 0,
  }

  constructor(
    private readonly transport: BusTransport,
    private readonly retryQueue: ResolvedRetryQueue,
    private readonly events: EventSink,
    private readonly logger: Logger | undefined,
  ) {}

  /** Starts delivering other processes' messages to `receiver`. */
  start(receiver: BusReceiver): void {
    this.transport.subscribe((notice) => this.#onNotice(notice, receiver)).catch((error) => {
      // The engine keeps trying in the background and reports `resubscribed` when back.
      this.logger?.warn({ error }, 'bus: could not subscribe yet; retrying')
    })
  }

  /** Sends `message` after any queued ones; a failure queues it for retry. */
  async publish(message: BusMessage): Promise<void> {
    if (this.#queue.length > 0) await this.#retry()
    // Still some queued: Redis is unreachable; keep the order.
    if (this.#queue.length > 0) return this.#enqueue(message)
    try {
      await this.transport.publish(message)
    } catch (error) {
      this.#stats.publishErrors++
      this.logger?.warn({ error }, 'bus: publish failed')
      this.#enqueue(message)
      return
    }
    this.#stats.published++
    this.events.busPublished(message)
  }

  stats(): BusStats {
    const { dropped, ...counts } = this.#stats
    return { ...counts, retries: { pending: this.#queue.length, dropped } }
  }

  async disconnect(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.transport.disconnect()
  }

  #onNotice(notice: BusNotice, receiver: BusReceiver) {
    try {
      switch (notice.type) {
        case 'message':
          this.#stats.received++
          receiver.apply(notice.message)
          this.events.busReceived(notice.message)
          return
        case 'unreadable':
          this.#stats.unreadable++
          this.logger?.warn({ reason: notice.reason }, 'bus: unreadable message ignored')
          return
        case 'gap':
          this.#stats.gaps++
          break
        case 'lost':
          this.#stats.disconnections++
          break
        case 'resubscribed':
          this.#stats.resubscriptions++
          break
      }
      receiver.distrust(notice.type)
      this.events.busGap(notice as Extract<BusNotice, { type: typeof notice.type }>)
    } catch (error) {
      // Called from the engine's thread-safe callback: an exception here would be uncaught.
      this.logger?.warn({ error }, 'bus: applying a message failed')
    }
  }

  #enqueue(message: BusMessage) {
    if (!this.retryQueue.enabled) return this.#drop()
    this.#queue.push(message)
    if (this.#queue.length > this.retryQueue.maxSize) {
      this.#queue.shift()
      this.#drop()
    }
    if (this.#timer === undefined && this.retryQueue.retryInterval !== null) {
      this.#timer = setInterval(() => void this.#retry(), this.retryQueue.retryInterval)
      this.#timer.unref()
    }
  }

  /** Counts a message that will never be sent, and has the transport tell the others. */
  #drop() {
    this.#stats.dropped++
    this.transport.skip?.(1)
  }

  /** Sends the queued messages in order, stopping at the first failure; one pass at a time. */
  #retry(): Promise<void> {
    this.#retrying ??= this.#sendQueued().finally(() => (this.#retrying = undefined))
    return this.#retrying
  }

  async #sendQueued(): Promise<void> {
    while (this.#queue.length > 0) {
      try {
        await this.transport.publish(this.#queue[0])
      } catch {
        this.#stats.publishErrors++
        return
      }
      this.#stats.published++
      this.events.busPublished(this.#queue.shift()!)
    }
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}

/** bentocache's `retryQueue` bus option. */
export interface RetryQueueOptions {
  /** Retry messages that failed to be sent. Default `true`. */
  enabled?: boolean
  /** Most messages kept for retry; past it the oldest is dropped (and counted). Default 1000. */
  maxSize?: number
  /** Time between retries; `false`: only before the next publish. Default `'2s'`. */
  retryInterval?: Duration | false
}

/** Validated {@link RetryQueueOptions}. */
export function resolveRetryQueue(options: RetryQueueOptions = {}): ResolvedRetryQueue {
  rejectUnknownOptions(options, ['enabled', 'maxSize', 'retryInterval'], 'retryQueue')
  const maxSize = options.maxSize ?? 1000
  if (!Number.isInteger(maxSize) || maxSize < 0) throw new InvalidOptionError('retryQueue.maxSize', maxSize, 'a non-negative integer')
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
    throw new InvalidOptionError('retryQueue.enabled', options.enabled, 'a boolean')
  }
  const interval = options.retryInterval ?? '2s'
  const retryInterval = interval === false ? null : parseDuration(interval, 'retryQueue.retryInterval')
  if (retryInterval !== null && !(retryInterval > 0)) {
    throw new InvalidOptionError('retryQueue.retryInterval', interval, 'a positive duration or false')
  }
  return { enabled: options.enabled ?? true, maxSize, retryInterval }
}
