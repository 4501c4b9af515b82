import { busCreate, busDisconnect, busId, busPublish, busSkip, busSubscribe, type BusEventObject, type BusOptions, type ExternalObject, type RedisBus } from '../native.js'
import type { BusMessage, BusNotice, BusTransport } from './transport.js'

/**
 * Redis pub/sub, run by the Rust engine on its I/O thread: frames are numbered per sender,
 * so a lost message is noticed (`gap`), and a dropped subscription reconnects by itself
 * (`lost`, then `resubscribed`).
 */
export class RedisTransport implements BusTransport {
  readonly #handle: ExternalObject<RedisBus>
  readonly id: string

  constructor(options: BusOptions) {
    this.#handle = busCreate(options)
    this.id = busId(this.#handle)
  }

  publish(message: BusMessage): Promise<void> {
    return busPublish(this.#handle, message)
  }

  skip(count: number): void {
    busSkip(this.#handle, count)
  }

  subscribe(listener: (notice: BusNotice) => void): Promise<void> {
    return busSubscribe(this.#handle, (event) => listener(noticeOf(event)))
  }

  disconnect(): Promise<void> {
    return busDisconnect(this.#handle)
  }
}

function noticeOf(event: BusEventObject): BusNotice {
  switch (event.type) {
    case 'message':
      return {
        type: 'message',
        message: { kind: event.kind!, store: event.store ?? '', namespace: event.namespace ?? '', keys: event.keys ?? [], at: event.at ?? 0 },
      }
    case 'gap':
      return { type: 'gap', sender: event.sender ?? '', expected: event.expected ?? 0, got: event.got ?? 0 }
    case 'unreadable':
      return { type: 'unreadable', reason: event.reason ?? '' }
    default:
      return { type: event.type }
  }
}
