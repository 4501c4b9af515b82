import { EventEmitter } from 'node:events'
import type { Duration } from './duration.js'

/**
 * What the adapter needs of a cache: a `BentoCache`, a store (`bento.use(name)`) or a
 * namespace of one (`bento.namespace(name)`) all qualify.
 */
export interface KeyvTarget {
  get(options: { key: string }): Promise<any>
  getMany(options: { keys: string[] }): Promise<any[]>
  set(options: { key: string; value: unknown; ttl?: Duration | null }): Promise<boolean>
  setMany(options: { items: Array<{ key: string; value: unknown; ttl?: Duration | null }> }): Promise<boolean>
  has(options: { key: string }): Promise<boolean>
  delete(options: { key: string }): Promise<boolean>
  deleteMany(options: { keys: string[] }): Promise<boolean>
  clear(): Promise<void>
  disconnect(): Promise<void>
  namespace(name: string): KeyvTarget
}

export interface KeyvRustoCacheOptions {
  /**
   * The ttl of an entry Keyv writes without one (ms or a string like `'10m'`). Default
   * `null`: forever, as Keyv's own stores keep such entries (the cache may still evict
   * them past `maxItems`/`maxSize`).
   */
  ttl?: Duration | null
}

/**
 * A Keyv storage adapter (Keyv 5's `KeyvStoreAdapter`) over a RustoCache cache, so that
 * Keyv, cache-manager 7 and cacheable users keep their code and put the engine under it:
 *
 *     new Keyv({ store: new KeyvRustoCache(bento) })
 *
 * Keyv hands over keys already prefixed with its namespace (`keyv:user:1`) and values
 * already serialized (a JSON string with `expires`; Keyv checks that expiry itself). The
 * adapter stores them in the cache's namespace of that name (`user:1` there), so `clear()`
 * clears that namespace only, as Keyv requires, through both tiers and the bus.
 */
export class KeyvRustoCache extends EventEmitter {
  /** Read by Keyv; `dialect` names the store. */
  readonly opts: { dialect: 'rustocache' } & KeyvRustoCacheOptions
  /** Set by Keyv: the namespace its keys are prefixed with. */
  namespace?: string

  readonly #cache: KeyvTarget
  readonly #ttl: Duration | null
  #namespaced: { name: string; cache: KeyvTarget } | undefined

  constructor(cache: KeyvTarget, options: KeyvRustoCacheOptions = {}) {
    super()
    this.#cache = cache
    this.#ttl = options.ttl ?? null
    this.opts = { dialect: 'rustocache', ...options }
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return this.#target().get({ key: this.#key(key) })
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    return this.#target().getMany({ keys: keys.map((key) => this.#key(key)) })
  }

  /** `ttl` in ms, as Keyv gives it; none: the adapter's `ttl` option. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    return this.#target().set({ key: this.#key(key), value, ttl: this.#ttlOf(ttl) })
  }

  /** One batch write (one L2 round trip); resolves nothing, as Keyv's adapter type declares. */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const items = entries.map(({ key, value, ttl }) => ({ key: this.#key(key), value, ttl: this.#ttlOf(ttl) }))
    await this.#target().setMany({ items })
  }

  async has(key: string): Promise<boolean> {
    return this.#target().has({ key: this.#key(key) })
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)))
  }

  /** Resolves whether the key existed, as Keyv's stores do. */
  async delete(key: string): Promise<boolean> {
    const target = this.#target()
    const stored = this.#key(key)
    const existed = await target.has({ key: stored })
    await target.delete({ key: stored })
    return existed
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return this.#target().deleteMany({ keys: keys.map((key) => this.#key(key)) })
  }

  /** Clears Keyv's namespace (the whole cache when Keyv has none). */
  async clear(): Promise<void> {
    await this.#target().clear()
  }

  async disconnect(): Promise<void> {
    await this.#cache.disconnect()
  }

  /** The cache's namespace named as Keyv's, made once per name. */
  #target(): KeyvTarget {
    const name = this.namespace
    if (!name) return this.#cache
    if (this.#namespaced?.name !== name) this.#namespaced = { name, cache: this.#cache.namespace(name) }
    return this.#namespaced.cache
  }

  /** The key without Keyv's `<namespace>:` prefix (the cache's namespace stands for it). */
  #key(key: string): string {
    const name = this.namespace
    return name && key.startsWith(`${name}:`) ? key.slice(name.length + 1) : key
  }

  #ttlOf(ttl: number | undefined): Duration | null {
    return typeof ttl === 'number' && ttl > 0 ? ttl : this.#ttl
  }
}
