/**
 * The L2 tier on a real 3-master Redis Cluster (on loopback): keys spread over slots
 * owned by different nodes, batches that cross slots, and a clear that reaches every node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'
import { redisDriver } from '../src/drivers/redis.js'
import { Cluster } from 'ioredis'
import { startRedisCluster, type RedisCluster } from './support/redis_server.js'

let cluster: RedisCluster

beforeAll(async () => {
  cluster = await startRedisCluster()
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

function clustered(l1 = true) {
  let store = bentostore()
  if (l1) store = store.useL1Layer(memoryDriver())
  store = store.useL2Layer(redisDriver({ connection: cluster.urls, timeout: 2000 }))
  return new BentoCache({ default: 'main', stores: { main: store } })
}

/** How many distinct nodes hold at least one of `keys` (asked of every node with EXISTS). */
async function nodesHolding(keys: string[]): Promise<number> {
  let holders = 0
  for (let node = 0; node < cluster.nodes.length; node++) {
    let held = false
    for (const key of keys) {
      const slot = Number(await cluster.command(node, 'CLUSTER', 'KEYSLOT', key))
      const owned = await cluster.command(node, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot))
      if (Number(owned) > 0) held = true
    }
    if (held) holders++
  }
  return holders
}

describe('Redis Cluster', () => {
  it('keys across slots are written, read back and counted on several nodes', async () => {
    const writer = clustered()
    const keys = Array.from({ length: 30 }, (_, i) => `user:${i}`)
    for (const key of keys) await writer.set({ key, value: key.toUpperCase() })
    expect(await nodesHolding(keys.map((key) => `bentocache:${key}`))).toBeGreaterThan(1)
    const reader = clustered(false)
    for (const key of keys) expect(await reader.get({ key })).toBe(key.toUpperCase())
  })

  it('batches cross slots in one call each', async () => {
    const cache = clustered()
    const items = Array.from({ length: 50 }, (_, i) => ({ key: `batch:${i}`, value: i }))
    await cache.setMany({ items })
    const reader = clustered(false)
    expect(await reader.getMany({ keys: items.map((item) => item.key) })).toEqual(items.map((item) => item.value))
    await cache.deleteMany({ keys: items.slice(0, 25).map((item) => item.key) })
    const after = await reader.getMany({ keys: items.map((item) => item.key) })
    expect(after.slice(0, 25).every((value) => value === undefined)).toBe(true)
    expect(after.slice(25)).toEqual(items.slice(25).map((item) => item.value))
  })

  it('clear reaches every node', async () => {
    const cache = clustered()
    const keys = Array.from({ length: 30 }, (_, i) => `gone:${i}`)
    for (const key of keys) await cache.set({ key, value: 1 })
    await cache.clear()
    const reader = clustered(false)
    expect(await reader.getMany({ keys })).toEqual(keys.map(() => undefined))
  })

  it('an ioredis Cluster instance is read for its startup nodes, and is never used itself', async () => {
    // lazyConnect: the instance would only connect on its first command; it must stay idle.
    const client = new Cluster(cluster.nodes, { lazyConnect: true, redisOptions: { keyPrefix: 'io:' } })
    const store = bentostore().useL2Layer(redisDriver({ connection: client, timeout: 2000 }))
    const cache = new BentoCache({ default: 'main', stores: { main: store } })
    const keys = Array.from({ length: 20 }, (_, i) => `viaClient:${i}`)
    await cache.setMany({ items: keys.map((key) => ({ key, value: key })) })
    expect(await cache.getMany({ keys })).toEqual(keys)
    // The Cluster's keyPrefix comes before the cache's own prefix: a reader given the
    // whole prefix finds the entries.
    const reader = new BentoCache({
      default: 'main',
      stores: { main: bentostore().useL2Layer(redisDriver({ connection: cluster.urls, prefix: 'io:bentocache', timeout: 2000 })) },
    })
    expect(await reader.getMany({ keys })).toEqual(keys)
    await reader.disconnect()
    expect(client.status).toBe('wait')
    await cache.disconnect()
  })
})
