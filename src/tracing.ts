import { cacheOperation, type CacheOperationMessage } from './tracing_channels.js'

type Operation = CacheOperationMessage['operation']

/**
 * Whether anyone subscribes to `bentocache.cache.operation`. Read once per operation: when
 * nobody does, the operation takes its untraced path and builds no message. (Each channel is
 * asked, as `TracingChannel#hasSubscribers` does, which Node 20 before 20.13 lacks.)
 */
export function tracing(): boolean {
  const { start, end, asyncStart, asyncEnd, error } = cacheOperation
  return start.hasSubscribers || end.hasSubscribers || asyncStart.hasSubscribers || asyncEnd.hasSubscribers || error.hasSubscribers
}

/**
 * Traces the operations of one store, or of one namespace of it. Keys in messages carry the
 * prefix as bentocache's do: the store's (or global) `prefix`, then the namespaces, each
 * followed by `:` — not the drivers' own `prefix` option, which bentocache leaves out too.
 */
export class Tracer {
  /** `prefix` without trailing colons, as bentocache sanitizes it; empty for none. */
  readonly #prefix: string

  constructor(
    readonly store: string,
    prefix: string,
  ) {
    this.#prefix = prefix.replace(/:+$/, '')
  }

  /** The tracer of namespace `name`, nested in this one. */
  namespace(name: string): Tracer {
    return new Tracer(this.store, this.#prefix ? `${this.#prefix}:${name}` : name)
  }

  /** `key` as messages show it. */
  fullKey(key: unknown): string {
    return this.#prefix ? `${this.#prefix}:${String(key)}` : String(key)
  }

  /**
   * Runs `operation` on `key` (or on `keys`, for `deleteMany`; on neither, for `clear`) as a
   * traced operation: `run` gets the message, to record the outcome of a read in it.
   */
  trace<R>(operation: Operation, key: unknown, run: (message: CacheOperationMessage | undefined) => Promise<R>): Promise<R> {
    // Fields in bentocache's order, for whoever prints them.
    let message: CacheOperationMessage
    try {
      if (operation === 'clear') message = { operation, store: this.store }
      else if (operation === 'deleteMany') message = { operation, keys: Array.from(key as ArrayLike<unknown>, (k) => this.fullKey(k)), store: this.store }
      else message = { operation, key: this.fullKey(key), store: this.store }
    } catch {
      // Keys that cannot even be shown are refused by the operation itself: untraced.
      return run(undefined)
    }
    return cacheOperation.tracePromise(run, message, undefined, message)
  }
}

/** Records in `message` (if the operation is traced) that a value was found. */
export function traceHit(message: CacheOperationMessage | undefined, tier: 'l1' | 'l2', graced: boolean) {
  if (message) {
    message.hit = true
    message.tier = tier
    message.graced = graced
  }
}

/** Records in `message` (if the operation is traced) that no value was found. */
export function traceMiss(message: CacheOperationMessage | undefined) {
  if (message) message.hit = false
}
