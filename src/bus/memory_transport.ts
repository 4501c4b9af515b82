import { randomUUID } from 'node:crypto'
import type { BusMessage, BusNotice, BusTransport } from './transport.js'

/** Subscribers by channel, for every cache of this process. */
const channels = new Map<string, Set<MemoryTransport>>()

/**
 * A bus between caches of one process (tests, or several `BentoCache` instances sharing a
 * process). Delivery is asynchronous, as over Redis, and never lost.
 */
export class MemoryTransport implements BusTransport {
  readonly id = randomUUID()
  #listener: ((notice: BusNotice) => void) | undefined

  constructor(private readonly channel: string) {}

  async publish(message: BusMessage): Promise<void> {
    for (const peer of channels.get(this.channel) ?? []) {
      if (peer !== this) peer.#deliver({ ...message, keys: [...message.keys] })
    }
  }

  async subscribe(listener: (notice: BusNotice) => void): Promise<void> {
    this.#listener = listener
    let peers = channels.get(this.channel)
    if (!peers) channels.set(this.channel, (peers = new Set()))
    peers.add(this)
  }

  async disconnect(): Promise<void> {
    this.#listener = undefined
    const peers = channels.get(this.channel)
    peers?.delete(this)
    if (peers?.size === 0) channels.delete(this.channel)
  }

  #deliver(message: BusMessage) {
    queueMicrotask(() => this.#listener?.({ type: 'message', message }))
  }
}
