/**
 * One cache node in its own process, for the multi-process tests: L1 + L2 + bus on the
 * redis-server at argv[2], driven by its parent over IPC. A request is
 * `{ id, op, args }` with `op` a cache method (or `stats`); the reply is
 * `{ id, result }` or `{ id, error }`. Runs the compiled package (`npm run build` first).
 */
import { BentoCache, bentostore } from '../../dist/index.js'
import { memoryDriver } from '../../dist/drivers/memory.js'
import { redisBusDriver, redisDriver } from '../../dist/drivers/redis.js'

const url = process.argv[2]
const cache = new BentoCache({
  default: 'main',
  grace: '1h',
  stores: {
    main: bentostore()
      .useL1Layer(memoryDriver())
      .useL2Layer(redisDriver({ connection: url }))
      .useBus(redisBusDriver({ connection: url, retryQueue: { retryInterval: '50ms' } })),
  },
})

process.on('message', async ({ id, op, args }) => {
  try {
    const result = op === 'stats' ? cache.getStats() : await cache[op](...args)
    process.send({ id, result })
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) })
  }
  if (op === 'disconnect') process.disconnect()
})
process.send({ ready: true })
