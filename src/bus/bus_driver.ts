import type { Wire } from '../drivers/memory.js'
import type { ResolvedRetryQueue } from './cache_bus.js'
import type { BusTransport } from './transport.js'

/** What a bus driver factory is given when its store is built. */
export interface BusDriverConfig {
  /** The store's name: its processes share one channel. */
  store: string
  /** The store's key prefix (bentocache's frames name namespaces by it). */
  prefix: string
  /** The frames to speak: ours, or bentocache's. */
  wire: Wire
}

/** A bus driver, as `bentostore().useBus()` takes it. */
export interface CreateBusDriverResult<Options> {
  options: Options
  factory: (config: BusDriverConfig) => { transport: BusTransport; retryQueue: ResolvedRetryQueue }
}

/**
 * The channel of a store's messages: ours, or with `wire: 'bentocache'` bentocache's own
 * (`bentocache.notifications:<store>`), where its nodes publish.
 */
export function busChannel(store: string, wire: Wire = 'rustocache'): string {
  return `${wire === 'bentocache' ? 'bentocache' : 'rustocache'}.notifications:${store}`
}
