import { it, expect } from 'vitest'
import { startRedis, startRedisCluster } from './support/redis_server.js'
it('leaks', async () => {
  const r = await startRedis()
  r.pause()
  const c = await startRedisCluster()
  console.log('PIDS', r.pid, c.servers.map(s => s.pid).join(','), r.dir)
  expect(1).toBe(1)
})
