import { randomUUID } from 'node:crypto'
import type { BusKind, BusMessage, BusNotice, BusTransport } from './transport.js'

/**
 * The transport contract of `@boringnode/bus`, which bentocache's bus drivers return from
 * their `factory`: existing custom transports plug into `useBus({ options, factory })`.
 */
export interface Transport {
  setId?(id: string): unknown
  publish(channel: string, message: unknown): Promise<void>
  subscribe(channel: string, handler: (message: unknown) => void): Promise<void>
  unsubscribe?(channel: string): Promise<void>
  disconnect(): Promise<void>
  onReconnect?(callback: () => void): void
}

/** Whether `value` has the methods of a {@link Transport}. */
export function isTransport(value: unknown): value is Transport {
  const transport = value as Record<string, unknown> | null
  return (
    typeof transport === 'object' &&
    transport !== null &&
    ['publish', 'subscribe', 'disconnect'].every((name) => typeof transport[name] === 'function')
  )
}

/** A message as it travels on a JS transport: ours, numbered per sender. */
interface NumberedMessage extends BusMessage {
  rustocache: 1
  sender: string
  seq: number
}

const KINDS: ReadonlySet<string> = new Set<BusKind>(['set', 'delete', 'expire', 'clear', 'deleteByTag', 'expireByTag'])
/** Senders remembered for gap detection; past it the longest silent is forgotten. */
const MAX_SENDERS = 10_000

/**
 * Our bus over a JavaScript transport (the slow path beside the engine's Redis bus). As on
 * Redis, messages carry their sender's id and a per-sender sequence number, so a receiver
 * notices a lost message (`gap`) and a reconnection (`resubscribed`, when the transport
 * reports it through `onReconnect`), and clears its L1 rather than trust it.
 */
export class TransportAdapter implements BusTransport {
  readonly id = randomUUID()
  #sent = 0
  /** The last sequence number seen per sender, in order of last message. */
  readonly #lastSeen = new Map<string, number>()

  constructor(
    private readonly transport: Transport,
    private readonly channel: string,
  ) {
    transport.setId?.(this.id)
  }

  async publish(message: BusMessage): Promise<void> {
    const seq = ++this.#sent
    const numbered: NumberedMessage = { rustocache: 1, sender: this.id, seq, ...message, keys: [...message.keys] }
    try {
      await this.transport.publish(this.channel, numbered)
    } catch (error) {
      // Most likely never delivered: the retry reuses the number, so no receiver sees a gap
      // (one that did receive it sees the retry as a repeat, which it applies again).
      if (this.#sent === seq) this.#sent--
      throw error
    }
  }

  async subscribe(listener: (notice: BusNotice) => void): Promise<void> {
    this.transport.onReconnect?.(() => listener({ type: 'resubscribed' }))
    await this.transport.subscribe(this.channel, (raw) => this.#receive(raw, listener))
  }

  async disconnect(): Promise<void> {
    await this.transport.unsubscribe?.(this.channel)
    await this.transport.disconnect()
  }

  #receive(raw: unknown, listener: (notice: BusNotice) => void) {
    const message = raw as Partial<NumberedMessage> | null
    const valid =
      typeof message === 'object' &&
      message !== null &&
      message.rustocache === 1 &&
      typeof message.sender === 'string' &&
      Number.isSafeInteger(message.seq) &&
      KINDS.has(message.kind as string) &&
      typeof message.store === 'string' &&
      typeof message.namespace === 'string' &&
      Array.isArray(message.keys) &&
      message.keys.every((key) => typeof key === 'string') &&
      typeof message.at === 'number'
    if (!valid) return listener({ type: 'unreadable', reason: 'not a rustocache bus message' })
    const { sender, seq, kind, store, namespace, keys, at } = message as NumberedMessage
    if (sender === this.id) return
    const last = this.#lastSeen.get(sender)
    if (last !== undefined && seq > last + 1) listener({ type: 'gap', sender, expected: last + 1, got: seq })
    this.#lastSeen.delete(sender) // re-inserted last: the map's order is the silence order
    this.#lastSeen.set(sender, Math.max(last ?? 0, seq))
    if (this.#lastSeen.size > MAX_SENDERS) this.#lastSeen.delete(this.#lastSeen.keys().next().value!)
    listener({ type: 'message', message: { kind, store, namespace, keys, at } })
  }
}
