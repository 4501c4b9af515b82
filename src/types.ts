/**
 * `rustocache/types`: the type names of `bentocache/types`, for code that imports its types
 * from there. Types only: the module has no runtime content.
 */
import type { BentoCacheOptions, Logger } from './bento_cache.js'
import type { BentoStore } from './bento_store.js'
import type { Factory as GetSetFactoryType, GetOptions, GetOrSetOptions, KeyOptions, SetOptions } from './cache.js'
import type { CallOptions, CacheOptions } from './options.js'
import type { FactoryContext } from './factory_context.js'
import type { Serializer } from './serializer.js'

export type { BentoCacheOptions, Logger, BentoStore, GetOptions, GetOrSetOptions, SetOptions, KeyOptions, CacheOptions, CallOptions, FactoryContext, Serializer }
export type { GetManyOptions, SetManyOptions } from './cache.js'
export type { CacheEvents, Emitter } from './events.js'
export type { Duration } from './duration.js'
export type { CacheStats } from './stats.js'
export type { MetricsOptions } from './metrics.js'
export type { CacheOperationMessage } from './tracing_channels.js'
export type { CreateDriverResult, MemoryDriverOptions, MemoryBusDriverOptions } from './drivers/memory.js'
export type { RedisConnection, RedisConnectionOptions, RedisDriverOptions, RedisBusDriverOptions } from './drivers/redis.js'
export type { CreateBusDriverResult } from './bus/bus_driver.js'

// bentocache's names for the same things.

/** A `getOrSet` factory (bentocache: `GetSetFactory`). */
export type GetSetFactory<T = any> = GetSetFactoryType<T>
/** What a factory receives (bentocache: `GetSetFactoryContext`). */
export type GetSetFactoryContext = FactoryContext
/** A `get` default value: the value, or a function returning it (bentocache: `Factory`). */
export type Factory<T = any> = T | (() => T) | Promise<T> | (() => Promise<T>)
/** Options of `getOrSetForever` (its ttl is forever). */
export type GetOrSetForeverOptions<T> = Omit<GetOrSetOptions<T>, 'ttl'>
export type DeleteOptions = KeyOptions
export type HasOptions = KeyOptions
export type ExpireOptions = KeyOptions
export type DeleteManyOptions = { keys: string[] }
export type DeleteByTagOptions = { tags: string[] }
/** Options every operation takes (bentocache: `RawCommonOptions`). */
export type RawCommonOptions = CallOptions
/** The constructor's options without `default` and `stores` (bentocache: `RawBentoCacheOptions`). */
export type RawBentoCacheOptions = Omit<BentoCacheOptions<Record<string, BentoStore>>, 'default' | 'stores'>
/** A value serializer (bentocache: `CacheSerializer`). */
export type CacheSerializer = Serializer
