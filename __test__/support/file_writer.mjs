/**
 * A cache process on the file driver, for the file-driver tests. `node file_writer.mjs <dir>
 * <mode>` runs the compiled package (`npm run build` first) with an L2-only store on `<dir>`:
 *
 * - `fill`: writes the entries the persistence test reads back (plain, with a ttl, tagged,
 *   in a namespace), records a tag invalidation, prints `done` and exits by itself;
 * - `loop`: writes `k<n>` = { n, pad } forever, 20 entries per setMany, printing `<n>` after
 *   each write is acknowledged, until killed.
 */
import { BentoCache, bentostore } from '../../dist/index.js'
import { fileDriver } from '../../dist/drivers/file.js'

const [directory, mode] = process.argv.slice(2)
const cache = new BentoCache({
  default: 'file',
  stores: { file: bentostore().useL2Layer(fileDriver({ directory, pruneInterval: false })) },
})

if (mode === 'fill') {
  await cache.set({ key: 'plain', value: { hello: 'disk' } })
  await cache.set({ key: 'forever', value: [1, 2, 3], ttl: null })
  await cache.set({ key: 'short', value: 'gone soon', ttl: 50, grace: false }) // 50 ms: surely written before it expires
  await cache.set({ key: 'tagged', value: 'tagged', tags: ['t1'] })
  await cache.namespace('users').set({ key: '1', value: { id: 1 } })
  await cache.deleteByTag({ tags: ['old'] })
  await cache.disconnect()
  console.log('done')
} else if (mode === 'loop') {
  const pad = 'x'.repeat(200)
  for (let n = 0; ; n += 20) {
    const items = Array.from({ length: 20 }, (_, i) => ({ key: `k${n + i}`, value: { n: n + i, pad } }))
    await cache.setMany({ items })
    process.stdout.write(`${n + 19}\n`)
  }
} else {
  throw new Error(`unknown mode ${mode}`)
}
