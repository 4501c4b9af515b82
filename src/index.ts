/**
 * RustoCache: a multi-tier cache for Node.js whose engine is Rust, behind bentocache's API.
 * Switch from bentocache by changing the import.
 */
export { BentoCache, BentoCache as RustoCache, type BentoCacheOptions } from './bento_cache.js'
export { BentoStore, bentostore, type StoreOptions } from './bento_store.js'
export type { Cache, Factory, GetOptions, GetOrSetOptions, SetOptions, KeyOptions } from './cache.js'
export { errors } from './errors.js'
export type { CacheEvents, Emitter } from './events.js'
export type { FactoryContext } from './factory_context.js'
export type { CacheOptions, CallOptions } from './options.js'
export type { Serializer } from './serializer.js'
export type { CacheStats } from './stats.js'
export { PROMETHEUS_CONTENT_TYPE, type MetricsOptions } from './metrics.js'
export * as tracingChannels from './tracing_channels.js'
export type { CacheOperationMessage } from './tracing_channels.js'
export type { Duration } from './duration.js'
