/**
 * Security: keys stay inside their namespace's prefix in both tiers; Redis AUTH with an ACL
 * user (made by the test) and TLS (a self-signed certificate made by the test, on a
 * TLS-enabled redis-server) work.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BentoCache, bentostore, errors } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisDriver } from '../src/drivers/redis.js'
import { rejectionOf } from './helpers.js'
import { freePort, redisForSuite, startRedis, type RedisServer } from './support/redis_server.js'

function twoTierCache(connection: unknown, prefix?: string) {
  return new BentoCache({
    default: 'main',
    ...(prefix === undefined ? {} : { prefix }),
    stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: connection as any })) },
  })
}

/** A cache with only the L2 tier, whose errors reach the caller. */
function l2OnlyCache(connection: unknown) {
  return new BentoCache({
    default: 'main',
    suppressL2Errors: false,
    stores: { main: bentostore().useL2Layer(redisDriver({ connection: connection as any, timeout: '2s' })) },
  })
}

describe('namespaces', () => {
  const redis = redisForSuite()
  let bento: BentoCache<any>
  beforeAll(() => {
    bento = twoTierCache(redis.url)
  })
  afterAll(async () => {
    await bento.disconnectAll()
  })

  // Keys that look like paths, other namespaces' prefixes, globs and separators.
  const tricky = ['', ':', 'b:1', '../b:1', 'bentocache:b:1', '*', 'b*', '?', '[b]', 'a\\:b', '\u0000', ' b:1 ']

  it('a key, whatever it contains, is stored under its namespace prefix and nowhere else', async () => {
    const a = bento.namespace('a')
    for (const key of tricky) await a.set({ key, value: `a/${key}` })
    const stored = (await redis.command('KEYS', '*')) as string[]
    const entries = stored.filter((k) => !k.includes('__rustocache') && !k.includes(':__'))
    expect(entries.length).toBeGreaterThanOrEqual(tricky.length)
    for (const key of entries) expect(key.startsWith('bentocache:a:')).toBe(true)
    // Nothing of namespace b, nor of the root, was written or is readable as such.
    const b = bento.namespace('b')
    expect(await b.get({ key: '1' })).toBeUndefined()
    expect(await bento.get({ key: 'bentocache:b:1' })).toBeUndefined()
    for (const key of tricky) expect(await a.get({ key })).toBe(`a/${key}`)
  })

  it("clear() of a namespace leaves every other namespace alone, even ones its name is a prefix or a glob of", async () => {
    const names = ['a', 'ab', 'a*', 'a?', '[a]', 'b']
    for (const name of names) await bento.namespace(name).set({ key: 'k', value: name })
    await bento.set({ key: 'root', value: 'root' })
    const clearedSoFar: string[] = []
    for (const cleared of ['a*', 'a?', '[a]', 'a']) {
      await bento.namespace(cleared).clear()
      clearedSoFar.push(cleared)
      expect(await bento.namespace(cleared).get({ key: 'k' })).toBeUndefined()
      // The others, in the L1 and in Redis (read through a fresh cache with an empty L1).
      const fresh = twoTierCache(redis.url)
      for (const name of names.filter((n) => !clearedSoFar.includes(n))) {
        expect(await bento.namespace(name).get({ key: 'k' }), `${name} after clearing ${cleared}`).toBe(name)
        expect(await fresh.namespace(name).get({ key: 'k' }), `${name} in Redis after clearing ${cleared}`).toBe(name)
      }
      expect(await fresh.get({ key: 'root' })).toBe('root')
      await fresh.disconnectAll()
    }
    expect(await bento.namespace('ab').get({ key: 'k' })).toBe('ab')
    expect(await bento.namespace('b').get({ key: 'k' })).toBe('b')
  })

  it('deleteMany and deleteByTag in one namespace touch nothing in another', async () => {
    const a = bento.namespace('a')
    const b = bento.namespace('b')
    await a.set({ key: 'x', value: 'ax', tags: ['t'] })
    await b.set({ key: 'x', value: 'bx', tags: ['t'] })
    await a.deleteMany({ keys: ['x', '../b:x', 'b:x'] })
    await a.deleteByTag({ tags: ['t'] })
    expect(await a.get({ key: 'x' })).toBeUndefined()
    expect(await b.get({ key: 'x' })).toBe('bx')
    const fresh = twoTierCache(redis.url)
    expect(await fresh.namespace('b').get({ key: 'x' })).toBe('bx')
    await fresh.disconnectAll()
  })

  it("two caches with prefixes 'app' and 'app2' on one Redis: clearing one leaves the other", async () => {
    const app = twoTierCache(redis.url, 'app')
    const app2 = twoTierCache(redis.url, 'app2')
    await app.set({ key: 'k', value: 'app' })
    await app2.set({ key: 'k', value: 'app2' })
    await app.clear()
    expect(await app.get({ key: 'k' })).toBeUndefined()
    const fresh2 = twoTierCache(redis.url, 'app2')
    expect(await fresh2.get({ key: 'k' })).toBe('app2')
    await Promise.all([app.disconnectAll(), app2.disconnectAll(), fresh2.disconnectAll()])
  })
})

describe('Redis AUTH with an ACL user', () => {
  const redis = redisForSuite()

  beforeAll(async () => {
    await redis.command('ACL', 'SETUSER', 'app', 'on', '>s3cret-pa:ss@word', '~*', '&*', '+@all')
  })

  it('connects as that user with username and password (options or URL), and works', async () => {
    for (const connection of [
      { host: '127.0.0.1', port: redis.port, username: 'app', password: 's3cret-pa:ss@word' },
      `redis://app:${encodeURIComponent('s3cret-pa:ss@word')}@127.0.0.1:${redis.port}`,
    ]) {
      const bento = l2OnlyCache(connection)
      await bento.set({ key: 'k', value: { ok: true } })
      expect(await bento.get({ key: 'k' })).toEqual({ ok: true })
      const clients = String(await redis.command('CLIENT', 'LIST'))
      expect(clients).toMatch(/\buser=app\b/)
      await bento.disconnectAll()
    }
  })

  it('a wrong password is an L2 error for the caller, and the cache keeps working from L1', async () => {
    const wrong = l2OnlyCache({ host: '127.0.0.1', port: redis.port, username: 'app', password: 'nope' })
    const error = await rejectionOf(() => wrong.get({ key: 'k' }))
    expect(error).toBeInstanceOf(errors.E_L2_CACHE_ERROR)
    expect(String(error.cause?.message ?? error.cause)).toMatch(/WRONGPASS|auth|password/i)
    await wrong.disconnectAll()

    const withL1 = twoTierCache({ host: '127.0.0.1', port: redis.port, username: 'app', password: 'nope' })
    await withL1.set({ key: 'local', value: 1 })
    expect(await withL1.get({ key: 'local' })).toBe(1)
    expect(withL1.getStats().l2!.errors).toBeGreaterThan(0)
    await withL1.disconnectAll()
  })
})

describe('TLS (rediss://) with a self-signed certificate', () => {
  let redis: RedisServer
  let tlsPort: number
  let certDir: string

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'rustocache-tls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', 'key.pem', '-out', 'cert.pem'], {
      cwd: certDir,
      stdio: 'ignore',
    })
    tlsPort = await freePort()
    // The plain port stays for the harness's own PING; the cache uses the TLS port only.
    redis = await startRedis({
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(certDir, 'cert.pem'), '--tls-key-file', join(certDir, 'key.pem'), '--tls-ca-cert-file', join(certDir, 'cert.pem'), '--tls-auth-clients', 'no'],
    })
  })

  afterAll(async () => {
    await redis?.stop()
    rmSync(certDir, { recursive: true, force: true })
  })

  it('connects over TLS (certificate verification off for the self-signed one), through options and a rediss:// URL', async () => {
    for (const connection of [
      { host: '127.0.0.1', port: tlsPort, tls: { rejectUnauthorized: false } },
      `rediss://127.0.0.1:${tlsPort}/#insecure`,
    ]) {
      const bento = l2OnlyCache(connection)
      await bento.set({ key: 'secure', value: 'over tls' })
      expect(await bento.get({ key: 'secure' })).toBe('over tls')
      await bento.disconnectAll()
    }
  })

  it('verifies the certificate by default: the self-signed one is refused', async () => {
    const bento = l2OnlyCache({ host: '127.0.0.1', port: tlsPort, tls: true })
    const error = await rejectionOf(() => bento.get({ key: 'secure' }))
    expect(error).toBeInstanceOf(errors.E_L2_CACHE_ERROR)
    await bento.disconnectAll()
  })

  it('plain redis:// to the TLS port fails instead of talking in the clear', async () => {
    const bento = l2OnlyCache(`redis://127.0.0.1:${tlsPort}`)
    const error = await rejectionOf(() => bento.get({ key: 'secure' }))
    expect(error).toBeInstanceOf(errors.E_L2_CACHE_ERROR)
    await bento.disconnectAll()
  })
})
