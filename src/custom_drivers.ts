import { RemoteTier } from './remote_tier.js'
import { DriverBackend, isL2CacheDriver } from './driver_backend.js'
import { InvalidOptionError } from './errors.js'
import { parseDuration } from './duration.js'
import type { DriverConfig } from './drivers/memory.js'
import { busChannel, type BusDriverConfig } from './bus/bus_driver.js'
import { resolveRetryQueue, type ResolvedRetryQueue } from './bus/cache_bus.js'
import { isTransport, TransportAdapter } from './bus/transport_adapter.js'
import type { BusTransport } from './bus/transport.js'

/**
 * A layer as `useL2Layer()`/`useBus()` take it: ours (`redisDriver()`, `redisBusDriver()`)
 * or a bentocache-style one whose factory returns a JS driver or transport.
 */
export interface LayerDriver<Made> {
  options?: any
  factory: (config: any) => Made
}

/** How long a call of a JS L2 driver may take (its `timeout` option), by default. */
const DEFAULT_DRIVER_TIMEOUT = '1s'

/**
 * The L2 tier a `useL2Layer()` driver makes. The factory gets what bentocache gives it
 * (`prefix`, `logger`, its own options) plus our `serializer`; what it returns is either
 * our tier or a bentocache `L2CacheDriver`, run through {@link DriverBackend}.
 */
export function l2TierOf(layer: LayerDriver<unknown>, config: DriverConfig, logger: unknown): RemoteTier {
  const made = layer.factory({ ...config, logger, ...layer.options })
  if (made instanceof RemoteTier) return made
  if (config.wire === 'bentocache') {
    throw new InvalidOptionError('wire', config.wire, "redisDriver() as the L2 layer: a JS driver's entries are not bentocache's")
  }
  if (!isL2CacheDriver(made)) {
    throw new InvalidOptionError(
      'useL2Layer',
      made,
      'redisDriver(), or a factory returning a driver with namespace, get, set, delete, deleteMany, clear and disconnect',
    )
  }
  const timeout = parseDuration(layer.options?.timeout ?? DEFAULT_DRIVER_TIMEOUT, 'timeout')
  if (!(timeout > 0)) throw new InvalidOptionError('timeout', layer.options?.timeout, 'a positive duration')
  return new RemoteTier(new DriverBackend(made, timeout), config.serializer)
}

/**
 * The bus a `useBus()` driver makes: ours, or a bentocache-style one whose factory returns
 * an `@boringnode/bus` transport (its `retryQueue` option is honoured as ours).
 */
export function busOf(
  layer: LayerDriver<unknown>,
  config: BusDriverConfig,
): { transport: BusTransport; retryQueue: ResolvedRetryQueue } {
  const made = layer.factory({ ...layer.options, ...config })
  if (typeof made === 'object' && made !== null && 'transport' in made) {
    return made as { transport: BusTransport; retryQueue: ResolvedRetryQueue }
  }
  if (!isTransport(made)) {
    throw new InvalidOptionError('useBus', made, 'redisBusDriver(), or a factory returning a transport with publish, subscribe and disconnect')
  }
  if (config.wire === 'bentocache') {
    throw new InvalidOptionError('wire', config.wire, "RustoCache's redisBusDriver() as the bus (it speaks bentocache's frames in this mode)")
  }
  return { transport: new TransportAdapter(made, busChannel(config.store)), retryQueue: resolveRetryQueue(layer.options?.retryQueue) }
}
