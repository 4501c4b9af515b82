// The harness of __test__/support/redis_server.ts against real redis-server processes: what the
// L2 tier's tests will lean on (crash, restart, a server that stops answering, a cluster).
import { existsSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  RedisReplyError,
  startRedis,
  startRedisCluster,
  type RedisCluster,
  type RedisServer,
  type RespReply,
} from './support/redis_server.js'

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startRedis', () => {
  let redis: RedisServer | undefined

  afterEach(async () => {
    await redis?.stop()
    redis = undefined
  })

  it('starts a server on a loopback port that answers commands', async () => {
    redis = await startRedis()
    expect(redis.host).toBe('127.0.0.1')
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(isAlive(redis.pid)).toBe(true)
    expect(await redis.command('PING')).toBe('PONG')
    expect(await redis.command('SET', 'greeting', 'hello')).toBe('OK')
    expect(await redis.command('GET', 'greeting')).toBe('hello')
    expect(await redis.command('GET', 'missing')).toBeNull()
    // No persistence: nothing to save, nothing to reload.
    expect(await redis.command('CONFIG', 'GET', 'save')).toEqual(['save', ''])
    expect(await redis.command('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no'])
  })

  it('parses integers, arrays, nil, binary-safe strings and error replies', async () => {
    redis = await startRedis()
    expect(await redis.command('INCR', 'n')).toBe(1)
    expect(await redis.command('INCRBY', 'n', '41')).toBe(42)
    const tricky = 'line\r\nbreak — ünïcödé ✓'
    expect(await redis.command('SET', 'tricky', tricky)).toBe('OK')
    expect(await redis.command('GET', 'tricky')).toBe(tricky)
    expect(await redis.command('MGET', 'tricky', 'nothing', 'n')).toEqual([tricky, null, '42'])
    expect(await redis.command('LRANGE', 'nothing', '0', '-1')).toEqual([])
    expect(await redis.command('RPUSH', 'list', 'a', 'b')).toBe(2)
    const nested: RespReply = await redis.command('SCAN', '0', 'MATCH', 'list')
    expect(nested).toEqual(['0', ['list']])
    const big = 'x'.repeat(200_000)
    expect(await redis.command('SET', 'big', big)).toBe('OK')
    expect(await redis.command('GET', 'big')).toBe(big)

    const error = await redis.command('NOSUCHCOMMAND').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RedisReplyError)
    expect((error as Error).message).toMatch(/^ERR unknown command/)
    await expect(redis.command('INCR', 'tricky')).rejects.toThrow(/not an integer/)
  })

  it('passes extra arguments to redis-server', async () => {
    redis = await startRedis({ args: ['--maxmemory', '12mb', '--maxmemory-policy', 'allkeys-lru'] })
    expect(await redis.command('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(12 * 1024 * 1024)])
    expect(await redis.command('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru'])
  })

  it('kill is a crash: connections are refused until restart, which comes back empty on the same port', async () => {
    redis = await startRedis()
    const { port, pid } = redis
    await redis.command('SET', 'k', 'v')

    await redis.kill()
    expect(isAlive(pid)).toBe(false)
    await expect(redis.command('PING')).rejects.toThrow(/ECONNREFUSED/)

    await redis.restart()
    expect(redis.port).toBe(port)
    expect(redis.pid).not.toBe(pid)
    expect(await redis.command('PING')).toBe('PONG')
    expect(await redis.command('GET', 'k')).toBeNull()
    expect(await redis.command('DBSIZE')).toBe(0)
  })

  it('restart of a running server starts a new process on the same port', async () => {
    redis = await startRedis()
    const { port, pid } = redis
    await redis.restart()
    expect(isAlive(pid)).toBe(false)
    expect(redis.port).toBe(port)
    expect(await redis.command('PING')).toBe('PONG')
  })

  it('pause: a command gets no answer; after resume it does', async () => {
    redis = await startRedis()
    redis.pause()
    const started = Date.now()
    await expect(redis.commandWithTimeout(300, 'PING')).rejects.toThrow(/no reply to PING within 300 ms/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)

    // A command sent while paused is answered once the server runs again.
    const pending = redis.commandWithTimeout(5_000, 'ECHO', 'late')
    await new Promise((resolve) => setTimeout(resolve, 100))
    redis.resume()
    expect(await pending).toBe('late')
    expect(await redis.commandWithTimeout(1_000, 'PING')).toBe('PONG')
  })

  it('stop ends the process and removes its directory, even while paused; a second stop is harmless', async () => {
    redis = await startRedis()
    const { pid, dir, port } = redis
    expect(existsSync(dir)).toBe(true)
    redis.pause()
    await redis.stop()
    expect(isAlive(pid)).toBe(false)
    expect(existsSync(dir)).toBe(false)
    await expect(redis.command('PING')).rejects.toThrow(/ECONNREFUSED/)
    await redis.stop()
    expect(port).toBeGreaterThan(0)
  })

  it('fails with the server\'s own words when it cannot start, and does not mistake another server for its own', async () => {
    await expect(startRedis({ args: ['--no-such-directive', 'x'] })).rejects.toThrow(
      /exited \(code 1[\s\S]*--- its output \(tail\) ---[\s\S]*no-such-directive/,
    )
    redis = await startRedis()
    // A later --port wins: that server finds the port taken, while PING there gets PONG from `redis`.
    await expect(startRedis({ args: ['--port', String(redis.port)] })).rejects.toThrow(/Address already in use/)
    expect(await redis.command('PING')).toBe('PONG')
  })

  it('two servers get different ports and are independent', async () => {
    redis = await startRedis()
    const other = await startRedis()
    try {
      expect(other.port).not.toBe(redis.port)
      await redis.command('SET', 'k', 'one')
      expect(await other.command('GET', 'k')).toBeNull()
    } finally {
      await other.stop()
    }
  })
})

describe('startRedisCluster', () => {
  let cluster: RedisCluster

  beforeAll(async () => {
    cluster = await startRedisCluster()
  }, 30_000)

  afterAll(async () => {
    await cluster?.stop()
  })

  /** The index in `cluster.nodes` of the node that serves `slot`, from CLUSTER SLOTS. */
  async function ownerOf(slot: number): Promise<number> {
    const ranges = (await cluster.command(0, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>
    const range = ranges.find(([start, end]) => start <= slot && slot <= end)
    if (!range) throw new Error(`no node serves slot ${slot}`)
    const [, , [host, port]] = range
    const index = cluster.nodes.findIndex((node) => node.host === host && node.port === port)
    if (index === -1) throw new Error(`slot ${slot} is served by ${host}:${port}, not a node of the cluster`)
    return index
  }

  it('has three masters, each reporting cluster_state:ok and all 16384 slots', async () => {
    expect(cluster.nodes).toHaveLength(3)
    expect(new Set(cluster.nodes.map((n) => n.port)).size).toBe(3)
    expect(cluster.urls).toEqual(cluster.nodes.map((n) => `redis://127.0.0.1:${n.port}`))
    for (let i = 0; i < cluster.nodes.length; i++) {
      const info = String(await cluster.command(i, 'CLUSTER', 'INFO'))
      expect(info).toMatch(/^cluster_state:ok\r?$/m)
      expect(info).toMatch(/^cluster_slots_assigned:16384\r?$/m)
      expect(info).toMatch(/^cluster_known_nodes:3\r?$/m)
    }
  })

  it('spreads keys over different slots and nodes; a node refuses keys it does not own (MOVED)', async () => {
    const slotA = (await cluster.command(0, 'CLUSTER', 'KEYSLOT', 'user:1')) as number
    const slotB = (await cluster.command(0, 'CLUSTER', 'KEYSLOT', 'user:2')) as number
    expect(slotA).not.toBe(slotB)

    // A key whose owner differs from user:1's: with 3 nodes, one is found in a few tries.
    const ownerA = await ownerOf(slotA)
    let other: { key: string; owner: number } | undefined
    for (let i = 0; i < 100 && !other; i++) {
      const key = `item:${i}`
      const owner = await ownerOf((await cluster.command(0, 'CLUSTER', 'KEYSLOT', key)) as number)
      if (owner !== ownerA) other = { key, owner }
    }
    expect(other).toBeDefined()
    expect(other!.owner).not.toBe(ownerA)

    expect(await cluster.command(ownerA, 'SET', 'user:1', 'a')).toBe('OK')
    expect(await cluster.command(other!.owner, 'SET', other!.key, 'b')).toBe('OK')
    expect(await cluster.command(ownerA, 'GET', 'user:1')).toBe('a')
    await expect(cluster.command(ownerA, 'GET', other!.key)).rejects.toThrow(
      new RegExp(`^MOVED \\d+ 127\\.0\\.0\\.1:${cluster.nodes[other!.owner].port}$`),
    )
    // Hash tags put keys in one slot.
    expect(await cluster.command(0, 'CLUSTER', 'KEYSLOT', '{user}:1')).toBe(
      await cluster.command(0, 'CLUSTER', 'KEYSLOT', '{user}:2'),
    )
  })

  it('refuses fewer than 3 masters', async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(/at least 3/)
  })
})
