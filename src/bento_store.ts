import type { CreateDriverResult, MemoryDriverOptions } from './drivers/memory.js'
import type { MemoryTier } from './memory_tier.js'
import type { RedisDriverOptions } from './drivers/redis.js'
import type { RemoteTier } from './remote_tier.js'
import { CACHE_OPTION_NAMES, rejectUnknownOptions, type CacheOptions } from './options.js'

/** Options of one store: the common options, and the prefix of its keys. */
export interface StoreOptions extends CacheOptions {
  prefix?: string
}

/** A store's layers, as `bentostore()` assembles them. */
export class BentoStore {
  #l1?: CreateDriverResult<MemoryDriverOptions, MemoryTier>
  #l2?: CreateDriverResult<RedisDriverOptions, RemoteTier>
  #bus?: CreateDriverResult<unknown, unknown>

  constructor(readonly options: StoreOptions = {}) {
    rejectUnknownOptions(options, [...CACHE_OPTION_NAMES, 'prefix'], 'bentostore()')
  }

  /** The in-memory tier (`memoryDriver()`). */
  useL1Layer(driver: CreateDriverResult<MemoryDriverOptions, MemoryTier>): this {
    this.#l1 = driver
    return this
  }

  /** The distributed tier (`redisDriver()`). */
  useL2Layer(driver: CreateDriverResult<RedisDriverOptions, RemoteTier>): this {
    this.#l2 = driver
    return this
  }

  /** The bus keeping several nodes' L1 coherent. Not available yet: see the README. */
  useBus(bus: CreateDriverResult<unknown, unknown>): this {
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
