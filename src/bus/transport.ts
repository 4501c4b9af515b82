import type { BusKind } from '../native.js'

export type { BusKind }

/**
 * What one cache operation tells the other processes: keys (tags, for the tag kinds) of
 * a namespace of a store, and when it happened (ms since the epoch, the sender's clock).
 */
export interface BusMessage {
  kind: BusKind
  store: string
  /** The namespace's path (`users:`), empty at the root. */
  namespace: string
  keys: string[]
  at: number
}

/**
 * What a subscription reports. After `gap` (a sender's messages were lost), `lost` (the
 * subscription dropped) or `resubscribed` (it is back, having missed whatever was sent
 * meanwhile) the local L1 can no longer be trusted.
 */
export type BusNotice =
  | { type: 'message'; message: BusMessage }
  | { type: 'gap'; sender: string; expected: number; got: number }
  | { type: 'unreadable'; reason: string }
  | { type: 'lost' }
  | { type: 'resubscribed' }

/** How messages travel between processes (Redis pub/sub) or caches of one process (memory). */
export interface BusTransport {
  /** This transport's sender id; its own messages never come back to it. */
  readonly id: string
  /** Sends `message` to every other subscriber of the channel. Rejects when it could not. */
  publish(message: BusMessage): Promise<void>
  /**
   * Tells the subscribers that `count` messages were lost before they could be sent
   * (dropped from the retry queue), so they stop trusting their L1 as after a `gap`.
   * Optional: a transport without sequence numbers cannot say so.
   */
  skip?(count: number): void
  /** Delivers what arrives to `listener` until {@link disconnect}. */
  subscribe(listener: (notice: BusNotice) => void): Promise<void>
  disconnect(): Promise<void>
}
