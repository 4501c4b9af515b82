import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { createCache, deferred, sleep } from './helpers.js'

describe('namespaces', () => {
  it('isolate keys: the same key in two namespaces and at the root are three entries', async () => {
    const bento = createCache()
    const users = bento.namespace('users')
    const posts = bento.namespace('posts')
    await bento.set({ key: '1', value: 'root' })
    await users.set({ key: '1', value: 'user' })
    await posts.set({ key: '1', value: 'post' })
    expect(await bento.get({ key: '1' })).toBe('root')
    expect(await users.get({ key: '1' })).toBe('user')
    expect(await posts.get({ key: '1' })).toBe('post')
    expect(bento.getStats().l1.entries).toBe(3)
  })

  it('namespace(name) called again returns the same object, which sees the same entries', async () => {
    const bento = createCache()
    await bento.namespace('users').set({ key: '1', value: 'ada' })
    expect(await bento.namespace('users').get({ key: '1' })).toBe('ada')
    // Beyond bentocache (a new object per call there): one object per name and parent.
    expect(bento.namespace('users')).toBe(bento.namespace('users'))
    expect(bento.namespace('users').namespace('admins')).toBe(bento.namespace('users').namespace('admins'))
    expect(bento.namespace('users')).not.toBe(bento.namespace('posts'))
    expect(bento.use('memory').namespace('users')).toBe(bento.namespace('users'))
  })

  it('callers that each ask namespace(name) for a missing key share one factory run', async () => {
    const bento = createCache()
    const gate = deferred<string>()
    let runs = 0
    const factory = () => {
      runs++
      return gate.promise
    }
    const calls = Array.from({ length: 5 }, () => bento.namespace('users').getOrSet({ key: 'k', factory }))
    gate.resolve('value')
    expect(await Promise.all(calls)).toEqual(Array(5).fill('value'))
    expect(runs).toBe(1)
  })

  it('past the namespaces a cache keeps by name (1,024), each name still reads its own entries', async () => {
    const bento = createCache({ driver: { maxItems: 10_000 } })
    const names = Array.from({ length: 1_100 }, (_, i) => `tenant${i}`)
    for (const name of names) await bento.namespace(name).set({ key: 'k', value: name })
    for (const name of names) expect(await bento.namespace(name).get({ key: 'k' })).toBe(name)
    expect(await bento.get({ key: 'tenant0:k' })).toBe('tenant0')
    await bento.namespace('tenant0').clear()
    expect(await bento.namespace('tenant0').get({ key: 'k' })).toBeUndefined()
    expect(await bento.namespace('tenant1').get({ key: 'k' })).toBe('tenant1')
  })

  it('a namespace reports its store name', () => {
    const bento = createCache()
    expect(bento.namespace('users').name).toBe('memory')
    expect(bento.namespace('users').namespace('admins').name).toBe('memory')
  })

  it('nest: a nested namespace is distinct from its parent and from a sibling', async () => {
    const bento = createCache()
    const users = bento.namespace('users')
    const admins = users.namespace('admins')
    const guests = users.namespace('guests')
    await users.set({ key: 'k', value: 'users' })
    await admins.set({ key: 'k', value: 'admins' })
    await guests.set({ key: 'k', value: 'guests' })
    expect(await users.get({ key: 'k' })).toBe('users')
    expect(await admins.get({ key: 'k' })).toBe('admins')
    expect(await guests.get({ key: 'k' })).toBe('guests')
    // Keys are laid out as bentocache's: <prefix>:users:admins:<key>.
    expect(await bento.get({ key: 'users:admins:k' })).toBe('admins')
    expect(await users.get({ key: 'admins:k' })).toBe('admins')
  })

  it('clear on a namespace removes its entries and its nested namespaces, nothing else', async () => {
    const bento = createCache()
    const users = bento.namespace('users')
    const admins = users.namespace('admins')
    const posts = bento.namespace('posts')
    await bento.set({ key: 'root', value: 1 })
    await bento.set({ key: 'usersX', value: 'not in the namespace' })
    await users.set({ key: 'u', value: 2 })
    await admins.set({ key: 'a', value: 3 })
    await posts.set({ key: 'p', value: 4 })
    await users.clear()
    expect(await users.get({ key: 'u' })).toBeUndefined()
    expect(await admins.get({ key: 'a' })).toBeUndefined()
    expect(await bento.get({ key: 'root' })).toBe(1)
    expect(await bento.get({ key: 'usersX' })).toBe('not in the namespace')
    expect(await posts.get({ key: 'p' })).toBe(4)
  })

  it('clear on a nested namespace leaves its parent', async () => {
    const bento = createCache()
    const users = bento.namespace('users')
    const admins = users.namespace('admins')
    await users.set({ key: 'u', value: 1 })
    await admins.set({ key: 'a', value: 2 })
    await admins.clear()
    expect(await admins.get({ key: 'a' })).toBeUndefined()
    expect(await users.get({ key: 'u' })).toBe(1)
  })

  it('a write after a namespace clear is kept', async () => {
    const bento = createCache()
    const users = bento.namespace('users')
    await users.set({ key: 'k', value: 'old' })
    await users.clear()
    await users.set({ key: 'k', value: 'new' })
    bento.getStats() // runs the store's pending maintenance, the clear included
    expect(await users.get({ key: 'k' })).toBe('new')
  })

  it('clear at the root removes the namespaces too', async () => {
    const bento = createCache()
    await bento.set({ key: 'r', value: 1 })
    await bento.namespace('a').set({ key: 'k', value: 2 })
    await bento.namespace('a').namespace('b').set({ key: 'k', value: 3 })
    await bento.clear()
    expect(await bento.get({ key: 'r' })).toBeUndefined()
    expect(await bento.namespace('a').get({ key: 'k' })).toBeUndefined()
    expect(await bento.namespace('a').namespace('b').get({ key: 'k' })).toBeUndefined()
  })

  it('clear of a store does not touch another store', async () => {
    const bento = new BentoCache({
      default: 'one',
      stores: { one: bentostore().useL1Layer(memoryDriver()), two: bentostore().useL1Layer(memoryDriver()) },
    })
    await bento.namespace('ns').set({ key: 'k', value: 1 })
    await bento.use('two').namespace('ns').set({ key: 'k', value: 2 })
    await bento.namespace('ns').clear()
    expect(await bento.namespace('ns').get({ key: 'k' })).toBeUndefined()
    expect(await bento.use('two').namespace('ns').get({ key: 'k' })).toBe(2)
  })

  it('every method works through a namespace', async () => {
    const bento = createCache({ grace: '2s', timeout: '1s' })
    const ns = bento.namespace('ns')
    let calls = 0
    expect(await ns.getOrSet({ key: 'a', factory: () => (calls++, 'A') })).toBe('A')
    expect(await ns.getOrSet({ key: 'a', factory: () => (calls++, 'A2') })).toBe('A')
    expect(calls).toBe(1)
    expect(await ns.getOrSetForever({ key: 'b', factory: () => 'B' })).toBe('B')
    expect(await ns.setForever({ key: 'c', value: 'C' })).toBe(true)
    expect(await ns.has({ key: 'a' })).toBe(true)
    expect(await ns.missing({ key: 'zz' })).toBe(true)
    expect(await bento.has({ key: 'a' })).toBe(false)
    expect(await ns.pull('c')).toBe('C')
    expect(await ns.has({ key: 'c' })).toBe(false)
    expect(await ns.expire({ key: 'a' })).toBe(true)
    expect(await ns.has({ key: 'a' })).toBe(false)
    expect(await ns.get({ key: 'a' })).toBe('A') // stale, by grace
    expect(await ns.delete({ key: 'a' })).toBe(true)
    expect(await ns.get({ key: 'a' })).toBeUndefined()
    await ns.set({ key: 'd', value: 'D' })
    await ns.set({ key: 'e', value: 'E' })
    expect(await ns.deleteMany({ keys: ['b', 'd'] })).toBe(true)
    expect(await ns.get({ key: 'b' })).toBeUndefined()
    expect(await ns.get({ key: 'd' })).toBeUndefined()
    expect(await ns.get({ key: 'e' })).toBe('E')
    expect(await ns.get({ key: 'nothing', defaultValue: 'dflt' })).toBe('dflt')
    expect(await ns.disconnect()).toBeUndefined()
  })

  it('delete and deleteMany in a namespace leave the same keys elsewhere', async () => {
    const bento = createCache()
    const ns = bento.namespace('ns')
    await bento.set({ key: 'k', value: 'root' })
    await ns.set({ key: 'k', value: 'ns' })
    await ns.delete({ key: 'k' })
    expect(await bento.get({ key: 'k' })).toBe('root')
    await ns.set({ key: 'k', value: 'ns' })
    await bento.deleteMany({ keys: ['k'] })
    expect(await ns.get({ key: 'k' })).toBe('ns')
  })

  it('expiry and grace work in a namespace', async () => {
    const bento = createCache({ grace: 150 })
    const ns = bento.namespace('ns')
    await ns.set({ key: 'k', value: 'v', ttl: 50 })
    await sleep(100)
    expect(await ns.has({ key: 'k' })).toBe(false)
    expect(await ns.get({ key: 'k' })).toBe('v')
    await sleep(250)
    expect(await ns.get({ key: 'k' })).toBeUndefined()
  })

  it('stampede protection holds in a namespace', async () => {
    const bento = createCache()
    const ns = bento.namespace('ns')
    const gate = deferred()
    let calls = 0
    const factory = async () => (calls++, await gate.promise, 'v')
    const pending = Array.from({ length: 50 }, () => ns.getOrSet({ key: 'k', factory }))
    gate.resolve()
    expect(await Promise.all(pending)).toEqual(Array(50).fill('v'))
    expect(calls).toBe(1)
  })

  it('a namespace of another store lives in that store', async () => {
    const bento = new BentoCache({
      default: 'one',
      stores: { one: bentostore().useL1Layer(memoryDriver()), two: bentostore().useL1Layer(memoryDriver()) },
    })
    await bento.use('two').namespace('ns').set({ key: 'k', value: 2 })
    expect(await bento.namespace('ns').get({ key: 'k' })).toBeUndefined()
    expect(await bento.use('two').namespace('ns').get({ key: 'k' })).toBe(2)
    expect(bento.use('two').getStats().l1.entries).toBe(1)
    expect(bento.getStats().l1.entries).toBe(0)
  })

  it('namespaces follow the store prefix, and work with an empty prefix', async () => {
    const bento = createCache({ prefix: '' })
    const ns = bento.namespace('users')
    await ns.set({ key: '1', value: 'ada' })
    expect(await bento.get({ key: 'users:1' })).toBe('ada')
    expect(bento.getStats().l1.bytes).toBe('users:1'.length + '"ada"'.length)
    await ns.clear()
    expect(await bento.get({ key: 'users:1' })).toBeUndefined()
  })

  it('serialize: false keeps references inside namespaces', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const value = { n: 1 }
    const ns = bento.namespace('a').namespace('b')
    await ns.set({ key: 'k', value })
    expect(await ns.get({ key: 'k' })).toBe(value)
    expect(await bento.get({ key: 'a:b:k' })).toBe(value)
  })
})
