/**
 * One node of a mixed fleet, in its own process: bentocache itself (argv[3] `bentocache`)
 * or RustoCache in `wire: 'bentocache'` mode (argv[3] `rustocache`), each with an L1, the
 * L2 and the bus on the redis-server at argv[2], configured alike. Driven over IPC as
 * `cache_node.mjs` is; an `op` of `<namespace>.<method>` calls the method on that
 * namespace. RustoCache runs from the compiled package (`npm run build` first).
 */
const [url, kind] = process.argv.slice(2)

async function build() {
  if (kind === 'bentocache') {
    const { BentoCache, bentostore } = await import('bentocache')
    const { memoryDriver } = await import('bentocache/drivers/memory')
    const { redisDriver, redisBusDriver } = await import('bentocache/drivers/redis')
    const { port } = new URL(url)
    const connection = { host: '127.0.0.1', port: Number(port) }
    return new BentoCache({
      default: 'main',
      grace: '1h',
      stores: {
        main: bentostore()
          .useL1Layer(memoryDriver())
          .useL2Layer(redisDriver({ connection }))
          .useBus(redisBusDriver({ connection })),
      },
    })
  }
  const { BentoCache, bentostore } = await import('../../dist/index.js')
  const { memoryDriver } = await import('../../dist/drivers/memory.js')
  const { redisBusDriver, redisDriver } = await import('../../dist/drivers/redis.js')
  return new BentoCache({
    default: 'main',
    grace: '1h',
    wire: 'bentocache',
    stores: {
      main: bentostore()
        .useL1Layer(memoryDriver())
        .useL2Layer(redisDriver({ connection: url }))
        .useBus(redisBusDriver({ connection: url })),
    },
  })
}

const cache = await build()
// bentocache builds a store (and subscribes its bus) on first use: now, not mid-test.
cache.use('main')

process.on('message', async ({ id, op, args }) => {
  try {
    const [namespace, method] = op.includes('.') ? op.split('.') : [undefined, op]
    const target = namespace ? cache.namespace(namespace) : cache
    const result = await target[method](...args)
    process.send({ id, result })
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) })
  }
  if (op === 'disconnect') process.disconnect()
})
process.send({ ready: true })
