import type { EventEmitter } from 'node:events'
import type { BusKind, BusMessage, BusNotice } from './bus/transport.js'

/** The events a cache emits, with bentocache's names and payloads. */
export interface CacheEvents {
  'cache:hit': { key: string; value: unknown; store: string; layer: 'l1' | 'l2'; graced: boolean }
  'cache:miss': { key: string; store: string }
  'cache:written': { key: string; value: unknown; store: string }
  'cache:deleted': { key: string; store: string }
  'cache:cleared': { store: string }
  'cache:expire': { key: string; store: string }
  /** Beyond bentocache: an L2 value that is not a valid entry (foreign or corrupted data), read as a miss. */
  'l2:unreadable': { key: string; store: string; reason: string }
  /**
   * Beyond bentocache: an L1 entry left the store without being deleted — evicted over
   * `maxItems`/`maxSize` (`size`) or past its ttl and grace (`expired`). Reported within
   * about 100 ms, from the engine's log, kept only while someone listens (10,000 at most
   * between two readings).
   */
  'cache:evicted': { key: string; store: string; reason: 'size' | 'expired' }
  'bus:message:published': { message: { keys: string[]; type: BusKind } }
  'bus:message:received': { message: { keys: string[]; type: BusKind } }
  /**
   * Beyond bentocache: this process may have missed bus messages — a sender's sequence
   * skipped numbers (`gap`), the subscription dropped (`lost`) or came back (`resubscribed`)
   * — so its L1 was cleared rather than left to serve stale values.
   */
  'bus:gap': { store: string; reason: 'gap' | 'lost' | 'resubscribed'; sender?: string; expected?: number; got?: number }
}

/** Anything with node's `EventEmitter` surface that events are emitted on. */
export type Emitter = Pick<EventEmitter, 'on' | 'once' | 'off' | 'emit' | 'listenerCount'>

/**
 * Emits a store's events. Each payload is built only when someone listens, so an
 * unobserved cache pays one `listenerCount` lookup per operation and allocates nothing.
 */
export class EventSink {
  constructor(
    private readonly emitter: Emitter,
    private readonly store: string,
  ) {}

  hit(key: string, value: unknown, graced = false, layer: 'l1' | 'l2' = 'l1') {
    if (this.emitter.listenerCount('cache:hit') !== 0) {
      this.emitter.emit('cache:hit', { key, value, store: this.store, layer, graced })
    }
  }

  miss(key: string) {
    if (this.emitter.listenerCount('cache:miss') !== 0) this.emitter.emit('cache:miss', { key, store: this.store })
  }

  written(key: string, value: unknown) {
    if (this.emitter.listenerCount('cache:written') !== 0) {
      this.emitter.emit('cache:written', { key, value, store: this.store })
    }
  }

  deleted(key: string) {
    if (this.emitter.listenerCount('cache:deleted') !== 0) this.emitter.emit('cache:deleted', { key, store: this.store })
  }

  cleared() {
    if (this.emitter.listenerCount('cache:cleared') !== 0) this.emitter.emit('cache:cleared', { store: this.store })
  }

  unreadable(key: string, reason: string) {
    if (this.emitter.listenerCount('l2:unreadable') !== 0) this.emitter.emit('l2:unreadable', { key, store: this.store, reason })
  }

  expired(key: string) {
    if (this.emitter.listenerCount('cache:expire') !== 0) this.emitter.emit('cache:expire', { key, store: this.store })
  }

  evicted(key: string, reason: 'size' | 'expired') {
    if (this.emitter.listenerCount('cache:evicted') !== 0) this.emitter.emit('cache:evicted', { key, store: this.store, reason })
  }

  busPublished(message: BusMessage) {
    if (this.emitter.listenerCount('bus:message:published') !== 0) {
      this.emitter.emit('bus:message:published', { message: { keys: message.keys, type: message.kind } })
    }
  }

  busReceived(message: BusMessage) {
    if (this.emitter.listenerCount('bus:message:received') !== 0) {
      this.emitter.emit('bus:message:received', { message: { keys: message.keys, type: message.kind } })
    }
  }

  busGap(notice: Exclude<BusNotice, { type: 'message' | 'unreadable' }>) {
    if (this.emitter.listenerCount('bus:gap') === 0) return
    const { type: reason, ...detail } = notice
    this.emitter.emit('bus:gap', { store: this.store, reason, ...detail })
  }
}
