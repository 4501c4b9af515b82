/**
 * Tags: deleteByTag really removes tagged entries from both tiers; expireByTag leaves them
 * to grace; a value computed before an invalidation is never cached after it, here or on a
 * node that starts later. Against a real redis-server.
 */
import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisDriver } from '../src/drivers/redis.js'
import { sleep } from './helpers.js'
import { redisForSuite } from './support/redis_server.js'

const redis = redisForSuite()

function node(options: { l1?: boolean; l2?: boolean; grace?: string } = {}) {
  let store = bentostore()
  if (options.l1 !== false) store = store.useL1Layer(memoryDriver())
  if (options.l2 !== false) store = store.useL2Layer(redisDriver({ connection: redis.url, prefix: 'tags' }))
  return new BentoCache({ default: 'main', stores: { main: store }, grace: options.grace ?? false })
}

/** Calls per Redis command, from INFO commandstats. */
async function commandCalls(): Promise<Record<string, number>> {
  const info = String(await redis.command('INFO', 'commandstats'))
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) calls[match[1]] = Number(match[2])
  return calls
}

describe('deleteByTag', () => {
  it.each([
    ['L1 only', { l2: false }],
    ['L2 only', { l1: false }],
    ['L1 + L2', {}],
  ])('%s: removes the entries under the tags, set or produced by a factory, and no other', async (_name, tiers) => {
    const cache = node(tiers)
    await cache.set({ key: 'a', value: 'a', tags: ['t1'] })
    await cache.set({ key: 'b', value: 'b', tags: ['t2'] })
    await cache.set({ key: 'c', value: 'c' })
    await cache.getOrSet({ key: 'd', factory: (ctx) => { ctx.setTags(['t1', 't3']); return 'd' } })
    await cache.setMany({ items: [{ key: 'e', value: 'e', tags: ['t3'] }] })
    expect(await cache.deleteByTag({ tags: ['t1', 't3'] })).toBe(true)
    const left = await cache.getMany({ keys: ['a', 'b', 'c', 'd', 'e'] })
    expect(left).toEqual([undefined, 'b', 'c', undefined, undefined])
    // A value written after the invalidation, even in the same millisecond, is kept.
    await cache.set({ key: 'a', value: 'a2', tags: ['t1'] })
    expect(await cache.get({ key: 'a' })).toBe('a2')
    await cache.disconnect()
  })

  it('removes the keys from Redis itself, and the entries another node wrote', async () => {
    const writer = node()
    const other = node()
    await other.set({ key: 'x', value: 1, tags: ['group'] })
    await writer.set({ key: 'y', value: 2, tags: ['group'] })
    expect(await redis.command('EXISTS', 'tags:x', 'tags:y')).toBe(2)
    await writer.deleteByTag({ tags: ['group'] })
    expect(await redis.command('EXISTS', 'tags:x', 'tags:y')).toBe(0)
    // A node with an empty L1 finds nothing, grace or not.
    const late = node({ grace: '1h' })
    expect(await late.get({ key: 'x' })).toBeUndefined()
    await Promise.all([writer.disconnect(), other.disconnect(), late.disconnect()])
  })

  it('tags are scoped to their namespace', async () => {
    const cache = node()
    const users = cache.namespace('users')
    const posts = cache.namespace('posts')
    await users.set({ key: '1', value: 'u', tags: ['t'] })
    await posts.set({ key: '1', value: 'p', tags: ['t'] })
    await users.deleteByTag({ tags: ['t'] })
    expect(await users.get({ key: '1' })).toBeUndefined()
    expect(await posts.get({ key: '1' })).toBe('p')
    await cache.disconnect()
  })

  it('a factory that started before deleteByTag returns its value but does not cache it', async () => {
    const cache = node()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow = cache.getOrSet({ key: 'k', tags: ['t'], factory: async () => { await gate; return 'old' } })
    await sleep(5)
    await cache.deleteByTag({ tags: ['t'] })
    release()
    expect(await slow).toBe('old')
    expect(await cache.get({ key: 'k' })).toBeUndefined()
    expect(await redis.command('EXISTS', 'tags:k')).toBe(0)
    let runs = 0
    expect(await cache.getOrSet({ key: 'k', tags: ['t'], factory: () => { runs++; return 'new' } })).toBe('new')
    expect(runs).toBe(1)
    await cache.disconnect()
  })

  it('a value computed before deleteByTag on another node is refused by a node that starts later', async () => {
    const slowNode = node()
    const invalidator = node()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow = slowNode.getOrSet({ key: 'k', tags: ['t'], factory: async () => { await gate; return 'old' } })
    await sleep(5)
    await invalidator.deleteByTag({ tags: ['t'] })
    release()
    await slow
    // The slow node did not know (no bus here): its write reached Redis...
    expect(await redis.command('EXISTS', 'tags:k')).toBe(1)
    // ...but a node started afterwards loads the invalidation and refuses the entry.
    const late = node({ grace: '1h' })
    await sleep(50)
    expect(await late.get({ key: 'k' })).toBeUndefined()
    expect(late.getStats().l2.misses).toBe(1)
    await Promise.all([slowNode.disconnect(), invalidator.disconnect(), late.disconnect()])
  })

  it('reading a tagged entry costs one GET and nothing more', async () => {
    const writer = node()
    for (let i = 0; i < 20; i++) await writer.set({ key: `k${i}`, value: i, tags: ['t'] })
    await writer.deleteByTag({ tags: ['other'] })
    const reader = node({ l1: false })
    await sleep(50)
    const before = await commandCalls()
    for (let i = 0; i < 20; i++) expect(await reader.get({ key: `k${i}` })).toBe(i)
    const after = await commandCalls()
    const grown = Object.keys(after).filter((cmd) => after[cmd] !== (before[cmd] ?? 0) && cmd !== 'info')
    expect(grown).toEqual(['mget'])
    expect(after.mget - (before.mget ?? 0)).toBe(20)
    await Promise.all([writer.disconnect(), reader.disconnect()])
  })
})

describe('expireByTag', () => {
  it('turns tagged entries stale: served only within grace, recomputed by getOrSet', async () => {
    const cache = node({ grace: '1h' })
    await cache.set({ key: 'a', value: 'a', tags: ['t'] })
    await cache.set({ key: 'b', value: 'b', tags: ['u'] })
    await cache.expireByTag({ tags: ['t'] })
    expect(await cache.get({ key: 'a' })).toBe('a')
    expect(await cache.get({ key: 'a', grace: false })).toBeUndefined()
    expect(await cache.get({ key: 'b', grace: false })).toBe('b')
    // As bentocache (timeout 0 with grace): the stale value now, the factory in the background.
    let runs = 0
    expect(await cache.getOrSet({ key: 'a', tags: ['t'], factory: () => { runs++; return 'a2' } })).toBe('a')
    await sleep(20)
    expect(runs).toBe(1)
    expect(await cache.get({ key: 'a', grace: false })).toBe('a2')
    // Another node reading from Redis sees the entry stale as well.
    await cache.set({ key: 'c', value: 'c', tags: ['v'] })
    await cache.expireByTag({ tags: ['v'] })
    await sleep(50)
    const otherNew = node({ grace: '1h' })
    await sleep(50)
    expect(await otherNew.get({ key: 'c', grace: false })).toBeUndefined()
    expect(await otherNew.get({ key: 'c' })).toBe('c')
    await Promise.all([cache.disconnect(), otherNew.disconnect()])
  })

  it('rejects tags that are not an array of strings', async () => {
    const cache = node({ l2: false })
    await expect(cache.deleteByTag({ tags: 'nope' as any })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    await expect(cache.expireByTag({ tags: [1] as any })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
  })
})
