import { l2Create } from '../native.js'
import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../options.js'
import { RemoteTier } from '../remote_tier.js'
import type { CreateDriverResult, DriverConfig } from './memory.js'
import { busChannel, type CreateBusDriverResult } from '../bus/bus_driver.js'
import { resolveRetryQueue, type RetryQueueOptions } from '../bus/cache_bus.js'
import { RedisTransport } from '../bus/redis_transport.js'

/** ioredis-style connection options, as bentocache's redis driver takes them. */
export interface RedisConnectionOptions {
  host?: string
  port?: number
  username?: string
  password?: string
  db?: number
  /**
   * Any truthy value: connect with TLS (`rediss://`), verifying the server's certificate
   * against the system's roots; `{ rejectUnauthorized: false }` skips that verification.
   */
  tls?: boolean | { rejectUnauthorized?: boolean }
  /** Prefix of every key, before the cache's own. */
  keyPrefix?: string
}

/**
 * Where the L2 tier connects: a `redis://` / `rediss://` URL, ioredis-style options, an
 * ioredis client (its `options` are read; the client itself is not used), a list of
 * cluster nodes, or an ioredis `Cluster` (its startup nodes are read).
 */
export type RedisConnection =
  | string
  | RedisConnectionOptions
  | { options: RedisConnectionOptions }
  | Array<string | RedisConnectionOptions>
  | { startupNodes: Array<string | RedisConnectionOptions>; options?: { redisOptions?: RedisConnectionOptions } }

/** Options of the Redis (L2) tier. */
export interface RedisDriverOptions {
  /** Where to connect. Default: `redis://127.0.0.1:6379`. */
  connection?: RedisConnection
  /** Key prefix of this tier, overriding the store's and the global `prefix`. */
  prefix?: string
  /**
   * Longest any Redis operation may take, connecting included; past it the operation
   * counts as failed (a miss for reads), so a slow Redis never stalls callers. Default `'1s'`.
   */
  timeout?: Duration
}

/** The Redis (L2) tier, run by the Rust engine (the `redis` crate on tokio). */
export function redisDriver(options: RedisDriverOptions = {}): CreateDriverResult<RedisDriverOptions, RemoteTier> {
  return { options, factory: (config) => createRemoteTier(options, config) }
}

function createRemoteTier(options: RedisDriverOptions, config: DriverConfig): RemoteTier {
  rejectUnknownOptions(options, ['connection', 'prefix', 'timeout'], 'redisDriver()')
  const timeout = parseDuration(options.timeout ?? '1s', 'timeout')
  if (!(timeout > 0)) throw new InvalidOptionError('timeout', options.timeout, 'a positive duration')
  const { urls, keyPrefix, cluster } = resolveConnection(options.connection ?? 'redis://127.0.0.1:6379')
  const prefix = [keyPrefix, options.prefix ?? config.prefix].filter(Boolean).join('')
  const { wire } = config
  const handle = l2Create(cluster ? { nodes: urls, prefix, timeout, wire } : { url: urls[0], prefix, timeout, wire })
  return new RemoteTier(handle, config.serializer)
}

/** The URLs a connection option names, and whether they are a cluster's. */
export function resolveConnection(connection: RedisConnection): { urls: string[]; keyPrefix: string; cluster: boolean } {
  if (typeof connection === 'string') return { urls: [checkedUrl(connection)], keyPrefix: '', cluster: false }
  if (Array.isArray(connection)) {
    return { urls: connection.map((node) => (typeof node === 'string' ? checkedUrl(node) : urlOf(node))), keyPrefix: '', cluster: true }
  }
  if ('startupNodes' in connection) {
    const shared = connection.options?.redisOptions ?? {}
    const urls = connection.startupNodes.map((node) => (typeof node === 'string' ? checkedUrl(node) : urlOf({ ...shared, ...node })))
    return { urls, keyPrefix: shared.keyPrefix ?? '', cluster: true }
  }
  const options = 'options' in connection && typeof connection.options === 'object' ? connection.options : (connection as RedisConnectionOptions)
  return { urls: [urlOf(options)], keyPrefix: options.keyPrefix ?? '', cluster: false }
}

function urlOf(options: RedisConnectionOptions): string {
  const auth = options.password
    ? `${encodeURIComponent(options.username ?? '')}:${encodeURIComponent(options.password)}@`
    : options.username
      ? `${encodeURIComponent(options.username)}@`
      : ''
  const host = options.host ?? '127.0.0.1'
  const insecure = typeof options.tls === 'object' && options.tls.rejectUnauthorized === false ? '#insecure' : ''
  return `${options.tls ? 'rediss' : 'redis'}://${auth}${host.includes(':') ? `[${host}]` : host}:${options.port ?? 6379}/${options.db ?? 0}${insecure}`
}

function checkedUrl(url: string): string {
  if (!/^rediss?:\/\//.test(url)) throw new InvalidOptionError('connection', url, 'a redis:// or rediss:// URL')
  return url
}

/** Options of the Redis bus, as bentocache's `redisBusDriver`. */
export interface RedisBusDriverOptions {
  /** Where to connect, as {@link RedisDriverOptions.connection}; a cluster's first node. */
  connection?: RedisConnection
  /** How messages that could not be sent are retried. */
  retryQueue?: RetryQueueOptions
  /** Longest a publish may take before it counts as failed (and is queued). Default `'1s'`. */
  timeout?: Duration
}

/**
 * The bus on Redis pub/sub, run by the Rust engine: keeps the L1 of every process of a
 * store coherent, and notices lost messages (the L1 is then cleared rather than trusted).
 */
export function redisBusDriver(options: RedisBusDriverOptions = {}): CreateBusDriverResult<RedisBusDriverOptions> {
  return {
    options,
    factory: (config) => {
      rejectUnknownOptions(options, ['connection', 'retryQueue', 'timeout'], 'redisBusDriver()')
      const timeout = parseDuration(options.timeout ?? '1s', 'timeout')
      if (!(timeout > 0)) throw new InvalidOptionError('timeout', options.timeout, 'a positive duration')
      const retryQueue = resolveRetryQueue(options.retryQueue)
      const { urls } = resolveConnection(options.connection ?? 'redis://127.0.0.1:6379')
      const transport = new RedisTransport({
        url: urls[0],
        channel: busChannel(config.store, config.wire),
        timeout,
        wire: config.wire,
        store: config.store,
        prefix: config.prefix,
      })
      return { transport, retryQueue }
    },
  }
}
