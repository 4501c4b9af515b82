import type { ResolvedRetryQueue } from './cache_bus.js'
import type { BusTransport } from './transport.js'

/** What a bus driver factory is given when its store is built. */
export interface BusDriverConfig {
  /** The store's name: its processes share one channel. */
  store: string
}

/** A bus driver, as `bentostore().useBus()` takes it. */
export interface CreateBusDriverResult<Options> {
  options: Options
  factory: (config: BusDriverConfig) => { transport: BusTransport; retryQueue: ResolvedRetryQueue }
}

/**
 * The channel of a store's messages. Not bentocache's (`bentocache.notifications`): the
 * two libraries' messages are not the same format.
 */
export function busChannel(store: string): string {
  return `rustocache.notifications:${store}`
}
