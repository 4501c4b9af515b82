/**
 * The knex L2 driver (bentocache's `knexDriver`, on the JS driver contract) against SQLite
 * (better-sqlite3, a file in a temporary directory) and a real PostgreSQL server started
 * for this file: the same scenarios on both.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knex, { type Knex } from 'knex'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { knexDriver } from '../src/drivers/knex.js'
import { sleep } from './helpers.js'
import { startPostgres, type PostgresServer } from './support/postgres_server.js'

let postgres: PostgresServer
let sqliteDir: string

beforeAll(async () => {
  postgres = await startPostgres()
  sqliteDir = mkdtempSync(join(tmpdir(), 'rustocache-sqlite-'))
}, 30_000)

afterAll(async () => {
  await postgres?.stop()
  if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true })
})

const dialects: Record<string, () => Knex> = {
  sqlite: () => knex({ client: 'better-sqlite3', connection: { filename: join(sqliteDir, 'cache.db') }, useNullAsDefault: true }),
  postgres: () => knex({ client: 'pg', connection: postgres.connection, pool: { min: 0, max: 4 } }),
}

describe.each(Object.keys(dialects))('knexDriver on %s', (dialect) => {
  const open: Knex[] = []
  /** A new knex instance (as another process would have). */
  function db() {
    const instance = dialects[dialect]()
    open.push(instance)
    return instance
  }
  function cache(options: { l1?: boolean; db?: Knex; driver?: Record<string, unknown> } = {}) {
    let store = bentostore()
    if (options.l1 !== false) store = store.useL1Layer(memoryDriver())
    store = store.useL2Layer(knexDriver({ connection: options.db ?? db(), ...options.driver }))
    return new BentoCache({ default: 'main', stores: { main: store } })
  }

  beforeEach(async () => {
    const admin = db()
    if (await admin.schema.hasTable('bentocache')) await admin('bentocache').delete()
  })

  afterAll(async () => {
    await Promise.all(open.map((instance) => instance.destroy()))
  })

  it('creates its table, and an entry written by one cache is read by another', async () => {
    const writer = cache()
    await writer.set({ key: 'user:1', value: { name: 'Ada' }, ttl: '1m', grace: '1h' })
    const row = await db()('bentocache').where('key', 'bentocache:user:1').first()
    expect(row.value).toContain('"rc":1')
    expect(await cache({ l1: false }).get({ key: 'user:1' })).toEqual({ name: 'Ada' })
    let runs = 0
    expect(await cache().getOrSet({ key: 'user:1', factory: () => ++runs })).toEqual({ name: 'Ada' })
    expect(runs).toBe(0)
  })

  it('batches, deletes, tags and namespaces', async () => {
    const c = cache({ l1: false })
    await c.setMany({ items: [{ key: 'a', value: 1 }, { key: 'b', value: 2, tags: ['t'] }, { key: 'c', value: 3, tags: ['t'] }] })
    expect(await c.getMany({ keys: ['a', 'b', 'c', 'd'] })).toEqual([1, 2, 3, undefined])
    await c.deleteByTag({ tags: ['t'] })
    expect(await c.getMany({ keys: ['a', 'b', 'c'] })).toEqual([1, undefined, undefined])
    await c.deleteMany({ keys: ['a'] })
    expect(await c.get({ key: 'a' })).toBeUndefined()

    await c.set({ key: 'k', value: 'root' })
    await c.namespace('users').set({ key: 'k', value: 'user' })
    await c.namespace('us_rs').set({ key: 'k', value: 'not users' }) // `_` is not a wildcard
    await c.namespace('users').clear()
    expect(await c.get({ key: 'k' })).toBe('root')
    expect(await c.namespace('users').get({ key: 'k' })).toBeUndefined()
    expect(await c.namespace('us_rs').get({ key: 'k' })).toBe('not users')
  })

  it('expired rows are never read, and prune() deletes them', async () => {
    const c = cache({ l1: false })
    await c.set({ key: 'short', value: 1, ttl: 50 })
    await c.set({ key: 'long', value: 2, ttl: '1h' })
    await sleep(120)
    expect(await c.get({ key: 'short' })).toBeUndefined()
    await c.prune()
    const keys = (await db()('bentocache').select('key')).map((row: { key: string }) => row.key)
    expect(keys.filter((key: string) => !key.startsWith('bentocache:__rustocache'))).toEqual(['bentocache:long'])
  })

  it('a table that does not exist with autoCreateTable: false is an L2 error, not a crash', async () => {
    const c = new BentoCache({
      default: 'main',
      stores: { main: bentostore().useL2Layer(knexDriver({ connection: db(), tableName: 'absent', autoCreateTable: false })) },
    })
    await expect(c.get({ key: 'k' })).rejects.toMatchObject({ code: 'E_L2_CACHE_ERROR' })
    // With an L1, the same failure is hidden and the L1 serves.
    const tiered = new BentoCache({
      default: 'main',
      stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(knexDriver({ connection: db(), tableName: 'absent', autoCreateTable: false })) },
    })
    await tiered.set({ key: 'k', value: 'v' })
    expect(await tiered.get({ key: 'k' })).toBe('v')
    expect(tiered.getStats().l2.errors).toBeGreaterThan(0)
  })

  it('refuses what is not a knex instance, and misspelt options', () => {
    expect(() => cache({ db: {} as Knex })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'connection' }))
    expect(() => cache({ driver: { tablename: 'x' } })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }))
  })
})
