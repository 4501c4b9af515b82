import type { Knex } from 'knex'
import { parseDuration, type Duration } from '../duration.js'
import { InvalidOptionError } from '../errors.js'
import { rejectUnknownOptions } from '../options.js'
import type { L2CacheDriver } from '../driver_backend.js'

/** Options of {@link knexDriver}, as bentocache's `knexDriver` takes them. */
export interface KnexDriverOptions {
  /** A knex instance (any dialect knex supports: PostgreSQL, MySQL, SQLite...). Required. */
  connection: Knex
  /** The table holding the entries. Default `'bentocache'`. */
  tableName?: string
  /** Create the table (`key` varchar(255) primary key, `value` text, `expires_at` timestamp) at first use when missing. Default `true`. */
  autoCreateTable?: boolean
  /** How often expired rows are deleted (a duration), or `false` for never but on `prune()`. Default `false`. */
  pruneInterval?: Duration | false
  /** How long one query may take before it counts as failed, as every L2 call. Default `'1s'`. */
  timeout?: Duration
}

/**
 * An L2 tier in a SQL database, through knex: a bentocache-compatible `knexDriver` on the
 * JS driver contract (the slow path beside the engine's Redis tier). Same options and table
 * layout as bentocache's; the values are RustoCache entries (see the README).
 */
export function knexDriver(options: KnexDriverOptions) {
  return {
    options,
    factory: (config: { prefix: string }): L2CacheDriver => {
      rejectUnknownOptions(options, ['connection', 'tableName', 'autoCreateTable', 'pruneInterval', 'timeout'], 'knexDriver()')
      if (typeof options.connection?.from !== 'function') throw new InvalidOptionError('connection', options.connection, 'a knex instance')
      const table = new KnexTable(options.connection, options.tableName ?? 'bentocache', options.autoCreateTable !== false)
      const pruneEvery = options.pruneInterval === undefined || options.pruneInterval === false ? null : parseDuration(options.pruneInterval, 'pruneInterval')
      if (pruneEvery !== null && !(pruneEvery > 0)) throw new InvalidOptionError('pruneInterval', options.pruneInterval, 'a positive duration or false')
      if (pruneEvery !== null) table.prunePeriodically(pruneEvery)
      return new KnexDriver(table, config.prefix)
    },
  }
}

/** The table, shared by a driver and its namespaces. */
class KnexTable {
  #ready: Promise<void> | undefined
  #pruner: NodeJS.Timeout | undefined

  constructor(
    readonly db: Knex,
    readonly name: string,
    private readonly autoCreate: boolean,
  ) {}

  /** Resolves once the table exists (created at first use when allowed). */
  ready(): Promise<void> {
    if (!this.autoCreate) return Promise.resolve()
    this.#ready ??= this.#create().catch((error) => {
      this.#ready = undefined // the next call tries again
      throw error
    })
    return this.#ready
  }

  async #create() {
    if (await this.db.schema.hasTable(this.name)) return
    await this.db.schema.createTable(this.name, (table) => {
      table.string('key', 255).notNullable().primary()
      table.text('value', 'longtext')
      table.timestamp('expires_at').nullable()
    })
  }

  rows() {
    return this.db.from(this.name)
  }

  async prune() {
    await this.ready()
    await this.rows().where('expires_at', '<', new Date()).delete()
  }

  prunePeriodically(everyMs: number) {
    this.#pruner = setInterval(() => this.prune().catch(() => undefined), everyMs)
    this.#pruner.unref()
  }

  async close() {
    clearInterval(this.#pruner)
    await this.db.destroy()
  }
}

/** One namespace of the table: rows whose key starts with `<prefix>:`. */
class KnexDriver implements L2CacheDriver {
  readonly type = 'l2'

  constructor(
    private readonly table: KnexTable,
    private readonly prefix: string,
  ) {}

  #key(key: string) {
    return this.prefix ? `${this.prefix}:${key}` : key
  }

  namespace(namespace: string): KnexDriver {
    return new KnexDriver(this.table, this.prefix ? `${this.prefix}:${namespace}` : namespace)
  }

  async get(key: string): Promise<string | undefined> {
    await this.table.ready()
    const row = await this.table.rows().select('value', 'expires_at').where('key', this.#key(key)).first()
    if (!row) return undefined
    if (row.expires_at !== null && toMs(row.expires_at) <= Date.now()) return undefined
    return row.value
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    await this.table.ready()
    const expires_at = ttl === undefined ? null : new Date(Date.now() + ttl)
    await this.table.rows().insert({ key: this.#key(key), value, expires_at }).onConflict('key').merge(['value', 'expires_at'])
    return true
  }

  async delete(key: string): Promise<boolean> {
    await this.table.ready()
    return (await this.table.rows().where('key', this.#key(key)).delete()) > 0
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false
    await this.table.ready()
    return (await this.table.rows().whereIn('key', keys.map((key) => this.#key(key))).delete()) > 0
  }

  async clear(): Promise<void> {
    await this.table.ready()
    if (!this.prefix) return void (await this.table.rows().delete())
    // LIKE with the prefix's own % and _ escaped, so `a_b` does not clear `aXb`.
    const pattern = `${this.prefix.replace(/[!%_]/g, '!$&')}:%`
    await this.table.rows().whereRaw('?? like ? escape ?', ['key', pattern, '!']).delete()
  }

  prune(): Promise<void> {
    return this.table.prune()
  }

  disconnect(): Promise<void> {
    return this.table.close()
  }
}

/** A timestamp column as ms since the epoch: drivers give a Date, a number or a string. */
function toMs(value: Date | number | string): number {
  return value instanceof Date ? value.getTime() : typeof value === 'number' ? value : new Date(value).getTime()
}
