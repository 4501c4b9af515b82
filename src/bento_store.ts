import type { CreateDriverResult, MemoryDriverOptions } from './drivers/memory.js'
import type { MemoryTier } from './memory_tier.js'
import type { RedisDriverOptions } from './drivers/redis.js'
import type { RemoteTier } from './remote_tier.js'
import { CACHE_OPTION_NAMES, rejectUnknownOptions, type CacheOptions } from './options.js'
import type { CreateBusDriverResult } from './bus/bus_driver.js'
import type { LayerDriver } from './custom_drivers.js'
import type { L2CacheDriver } from './driver_backend.js'
import type { Transport } from './bus/transport_adapter.js'

/** Options of one store: the common options, and the prefix of its keys. */
export interface StoreOptions extends CacheOptions {
  prefix?: string
}

/** A store's layers, as `bentostore()` assembles them. */
export class BentoStore {
  #l1?: CreateDriverResult<MemoryDriverOptions, MemoryTier>
  #l2?: LayerDriver<RemoteTier | L2CacheDriver>
  #bus?: CreateBusDriverResult<unknown> | LayerDriver<Transport>

  constructor(readonly options: StoreOptions = {}) {
    rejectUnknownOptions(options, [...CACHE_OPTION_NAMES, 'prefix'], 'bentostore()')
  }

  /** The in-memory tier (`memoryDriver()`). */
  useL1Layer(driver: CreateDriverResult<MemoryDriverOptions, MemoryTier>): this {
    this.#l1 = driver
    return this
  }

  /**
   * The distributed tier: `redisDriver()`, or a bentocache-style driver whose factory
   * returns an `L2CacheDriver` written in JS (the slow path; see `driver_backend.ts`).
   */
  useL2Layer(driver: CreateDriverResult<RedisDriverOptions, RemoteTier> | LayerDriver<L2CacheDriver>): this {
    this.#l2 = driver
    return this
  }

  /**
   * The bus keeping the L1 of every process of the store coherent: `redisBusDriver()`,
   * `memoryBusDriver()`, or a factory returning an `@boringnode/bus` transport.
   */
  useBus(bus: CreateBusDriverResult<unknown> | LayerDriver<Transport>): this {
    this.#bus = bus
    return this
  }

  /** The layers, as bentocache's `BentoStore#entry`. */
  get entry() {
    return { options: this.options, l1: this.#l1, l2: this.#l2, bus: this.#bus }
  }
}

/** A new store builder: `bentostore().useL1Layer(memoryDriver())`. */
export function bentostore(options?: StoreOptions): BentoStore {
  return new BentoStore(options)
}
