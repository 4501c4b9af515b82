/**
 * The file (embedded, persistent) L2 driver: entries on disk survive the process that wrote
 * them, expired entries are never served and are pruned, a writer killed with SIGKILL leaves
 * a whole, usable store, and tags, namespaces, clear and expire behave as on Redis. Child
 * processes run the compiled package (`npm run build` first), as in multi_process.test.ts.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { fileCreate, fileReport, l2Prune } from '../src/native.js'
import { BentoCache, bentostore, errors } from '../src/index.js'
import { fileDriver, type FileDriverOptions } from '../src/drivers/file.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { sleep } from './helpers.js'

const WRITER = fileURLToPath(new URL('./support/file_writer.mjs', import.meta.url))

const directories: string[] = []
const caches: BentoCache<any>[] = []

function tempDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'rustocache-file-'))
  directories.push(directory)
  return directory
}

/** A cache whose one store, `file`, is the file driver (with an L1 when `l1`). */
function fileCache(options: FileDriverOptions, l1 = false, prefix?: string) {
  const store = bentostore(prefix === undefined ? {} : { prefix }).useL2Layer(fileDriver(options))
  const cache = new BentoCache({ default: 'file', stores: { file: l1 ? store.useL1Layer(memoryDriver()) : store } })
  caches.push(cache)
  return cache
}

/** What the database in `directory` holds, through a second handle on it. */
function report(directory: string) {
  return fileReport(fileCreate({ directory, prefix: '', pruneInterval: undefined }))
}

/** Runs the writer script to its end; its stdout. */
function runWriter(directory: string, mode: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, directory, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer exited with ${code}`))))
  })
}

afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.disconnectAll()))
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

describe('file driver: persistence', () => {
  it('serves, in a new process, what another process wrote and then exited', async () => {
    const directory = tempDirectory()
    // This process has the store open while the other one writes: both may share it.
    const cache = fileCache({ directory, pruneInterval: false })
    expect(await cache.get({ key: 'plain' })).toBeUndefined()
    expect(await runWriter(directory, 'fill')).toBe('done\n')

    expect(await cache.get({ key: 'plain' })).toEqual({ hello: 'disk' })
    expect(await cache.get({ key: 'forever' })).toEqual([1, 2, 3])
    expect(await cache.namespace('users').get({ key: '1' })).toEqual({ id: 1 })
    // 50 ms of ttl and no grace: gone after that, never served, though not pruned yet.
    await sleep(60)
    expect(await cache.get({ key: 'short' })).toBeUndefined()
    expect(await report(directory)).toEqual({ entries: 5, expired: 1, integrity: 'ok' })
    // The tag index persisted too.
    await cache.deleteByTag({ tags: ['t1'] })
    expect(await cache.get({ key: 'tagged' })).toBeUndefined()
    expect(await cache.get({ key: 'plain' })).toEqual({ hello: 'disk' })
  })

  it('keeps tag invalidations across a restart', async () => {
    const directory = tempDirectory()
    await runWriter(directory, 'fill')
    const handle = fileCreate({ directory, prefix: 'bentocache', pruneInterval: undefined })
    const { fields } = await (await import('../src/native.js')).l2Invalidations(handle)
    expect(fields).toEqual(['delete:old'])
  })
})

describe('file driver: expiry and pruning', () => {
  it('prunes expired entries on its interval, without any read', async () => {
    const directory = tempDirectory()
    const cache = fileCache({ directory, pruneInterval: '20ms' })
    await cache.set({ key: 'brief', value: 1, ttl: 10, grace: false })
    await cache.set({ key: 'lasting', value: 2, ttl: '1h' })
    const deadline = Date.now() + 10_000
    let held = await report(directory)
    while (held.entries !== 1) {
      if (Date.now() > deadline) throw new Error(`never pruned: ${JSON.stringify(held)}`)
      await sleep(10)
      held = await report(directory)
    }
    expect(held).toEqual({ entries: 1, expired: 0, integrity: 'ok' })
    expect(await cache.get({ key: 'lasting' })).toBe(2)
  })

  it('prune() removes expired entries when the interval is off', async () => {
    const directory = tempDirectory()
    const cache = fileCache({ directory, pruneInterval: false })
    await cache.set({ key: 'brief', value: 1, ttl: 50, grace: false })
    await cache.set({ key: 'lasting', value: 2 })
    await sleep(120)
    expect(await report(directory)).toMatchObject({ entries: 2, expired: 1 })
    await cache.prune()
    expect(await report(directory)).toMatchObject({ entries: 1, expired: 0 })
    // Nothing left for another prune.
    expect(await l2Prune(fileCreate({ directory, prefix: '', pruneInterval: undefined }))).toBe(0)
  })
})

describe('file driver: a writer killed with SIGKILL', () => {
  it('leaves a whole store holding every acknowledged write, and usable', async () => {
    const directory = tempDirectory()
    const child = spawn(process.execPath, [WRITER, directory, 'loop'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let acknowledged = -1
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject)
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited: ${code} ${signal}`))))
      child.stdout!.on('data', (chunk) => {
        out += chunk
        const lines = out.split('\n')
        out = lines.pop()!
        for (const line of lines) acknowledged = Number(line)
        // Killed in the middle of its writes, once it has made a good number of them.
        if (acknowledged >= 2000 && child.exitCode === null && !child.killed) child.kill('SIGKILL')
      })
    })
    expect(acknowledged).toBeGreaterThanOrEqual(2000)

    expect((await report(directory)).integrity).toBe('ok')
    const cache = fileCache({ directory, pruneInterval: false })
    const keys = Array.from({ length: acknowledged + 1 }, (_, n) => `k${n}`)
    const values = await cache.getMany({ keys })
    const pad = 'x'.repeat(200)
    values.forEach((value, n) => expect(value, `k${n}`).toEqual({ n, pad }))
    // Writes in flight when it died: each whole or absent, never torn.
    const inFlight = await cache.getMany({ keys: Array.from({ length: 200 }, (_, n) => `k${acknowledged + 1 + n}`) })
    inFlight.forEach((value, n) => {
      if (value !== undefined) expect(value).toEqual({ n: acknowledged + 1 + n, pad })
    })
    expect(cache.getStats().l2.unreadable).toBe(0)
    await cache.set({ key: 'after', value: 'still usable' })
    expect(await cache.get({ key: 'after' })).toBe('still usable')
  })
})

describe('file driver: tags, namespaces, clear, expire', () => {
  it('deletes by tag, clears a namespace or the store, and expires, as on Redis', async () => {
    const directory = tempDirectory()
    const cache = fileCache({ directory, pruneInterval: false })
    // A second store in the same directory, under another prefix: it must not be touched.
    const neighbour = fileCache({ directory, pruneInterval: false }, false, 'other')
    await neighbour.set({ key: 'a', value: 'neighbour', tags: ['t'] })

    const users = cache.namespace('users')
    await cache.setMany({ items: [{ key: 'a', value: 1, tags: ['t'] }, { key: 'b', value: 2, tags: ['u'] }] })
    await users.set({ key: 'a', value: 'user a', tags: ['t'] })
    await users.set({ key: 'b', value: 'user b' })

    await cache.deleteByTag({ tags: ['t'] })
    expect(await cache.getMany({ keys: ['a', 'b'] })).toEqual([undefined, 2])
    // Tags are per namespace, as in bentocache.
    expect(await users.get({ key: 'a' })).toBe('user a')
    await users.deleteByTag({ tags: ['t'] })
    expect(await users.get({ key: 'a' })).toBeUndefined()
    expect(await neighbour.get({ key: 'a' })).toBe('neighbour')

    expect(await cache.deleteMany({ keys: ['b', 'missing'] })).toBe(true)
    expect(await cache.get({ key: 'b' })).toBeUndefined()

    await cache.set({ key: 'root', value: 'r' })
    await users.clear()
    expect(await users.get({ key: 'b' })).toBeUndefined()
    expect(await cache.get({ key: 'root' })).toBe('r')

    await cache.set({ key: 'stale', value: 's' })
    await cache.expire({ key: 'stale' })
    expect(await cache.get({ key: 'stale' })).toBeUndefined() // stale, no grace
    expect(await cache.get({ key: 'stale', grace: '1h' })).toBe('s')

    await cache.clear()
    expect(await cache.get({ key: 'root' })).toBeUndefined()
    expect(await neighbour.get({ key: 'a' })).toBe('neighbour')
  })

  it('serves from disk after the L1 lost the entry, and backfills the L1', async () => {
    const directory = tempDirectory()
    const writer = fileCache({ directory, pruneInterval: false }, true)
    await writer.set({ key: 'k', value: { v: 1 } })
    const reader = fileCache({ directory, pruneInterval: false }, true)
    expect(await reader.get({ key: 'k' })).toEqual({ v: 1 })
    expect(await reader.get({ key: 'k' })).toEqual({ v: 1 })
    const stats = reader.getStats()
    expect([stats.l1!.hits, stats.l2.hits]).toEqual([1, 1])
  })
})

describe('file driver: options', () => {
  it('refuses a directory it cannot create, with a typed error naming it', () => {
    const file = join(tempDirectory(), 'a-file')
    writeFileSync(file, 'not a directory')
    const error = (() => {
      try {
        fileCache({ directory: join(file, 'cache') })
      } catch (error) {
        return error as InstanceType<typeof errors.E_INVALID_OPTION>
      }
    })()
    expect(error).toBeInstanceOf(errors.E_INVALID_OPTION)
    expect(error!.option).toBe('directory')
    expect(error!.message).toMatch(/cannot create the directory/)
  })

  it('refuses a missing directory, a bad pruneInterval and unknown options', () => {
    expect(() => fileCache({} as FileDriverOptions)).toThrow(errors.E_INVALID_OPTION)
    expect(() => fileCache({ directory: tempDirectory(), pruneInterval: 0 })).toThrow(/pruneInterval/)
    expect(() => fileCache({ directory: tempDirectory(), pruneInterval: 'soon' })).toThrow(/pruneInterval/)
    expect(() => fileCache({ directory: tempDirectory(), ttl: 1 } as FileDriverOptions)).toThrow(/ttl/)
  })
})
