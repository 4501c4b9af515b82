/**
 * The package's entry points as users load them: each subpath through `require()` (the
 * CommonJS build, dist/cjs) and through `import` (the ESM build, dist), in a child node
 * process that resolves `rustocache/...` by the package's own name and exports map.
 * Needs `npm run build` (both builds).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Runs `body` (which may await) as CommonJS or as an ES module; returns what it printed. */
function run(format: 'cjs' | 'esm', body: string): string {
  const args = format === 'esm' ? ['--input-type=module', '-e', body] : ['-e', `(async () => { ${body} })().catch((error) => { console.error(error); process.exit(1) })`]
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' }).trim()
}

/** `const { a, b } = require(spec)` or `import { a, b } from spec`. */
function load(format: 'cjs' | 'esm', names: string[], specifier: string): string {
  return format === 'cjs'
    ? `const { ${names.join(', ')} } = require('${specifier}');`
    : `import { ${names.join(', ')} } from '${specifier}';`
}

describe.each(['cjs', 'esm'] as const)('through %s', (format) => {
  const loaded = format === 'cjs' ? 'dist/cjs/' : 'dist/'
  const resolveMain = format === 'cjs' ? "require.resolve('rustocache')" : "import.meta.resolve('rustocache')"

  it('rustocache and rustocache/drivers/memory: a cache with an L1, tags and a namespace', () => {
    const output = run(
      format,
      `${load(format, ['BentoCache', 'RustoCache', 'bentostore', 'errors'], 'rustocache')}
       ${load(format, ['memoryDriver', 'memoryBusDriver'], 'rustocache/drivers/memory')}
       const bento = new BentoCache({ default: 'main', stores: { main: bentostore().useL1Layer(memoryDriver({ maxItems: 100 })).useBus(memoryBusDriver()) } })
       const computed = await bento.getOrSet({ key: 'user:1', factory: () => ({ name: 'ada' }), tags: ['users'] })
       const hit = await bento.get({ key: 'user:1' })
       await bento.deleteByTag({ tags: ['users'] })
       const users = bento.namespace('users')
       await users.set({ key: '2', value: 2 })
       let invalid = ''
       try { new BentoCache({ default: 'main', stores: { main: bentostore().useL1Layer(memoryDriver({ maxItems: 0 })) } }) } catch (error) { invalid = error instanceof errors.E_INVALID_OPTION ? error.option : 'other' }
       console.log(JSON.stringify({ same: RustoCache === BentoCache, computed, hit, afterTag: await bento.get({ key: 'user:1' }) ?? null, namespaced: await users.get({ key: '2' }), invalid, file: ${resolveMain} }))
       await bento.disconnectAll()`,
    )
    const result = JSON.parse(output)
    expect(result).toMatchObject({ same: true, computed: { name: 'ada' }, hit: { name: 'ada' }, afterTag: null, namespaced: 2, invalid: 'maxItems' })
    expect(result.file).toContain(`${loaded}index.js`)
  })

  it('rustocache/drivers/redis: the L2 and bus drivers', () => {
    const output = run(
      format,
      `${load(format, ['redisDriver', 'redisBusDriver'], 'rustocache/drivers/redis')}
       ${load(format, ['bentostore'], 'rustocache')}
       const store = bentostore().useL2Layer(redisDriver({ connection: 'redis://127.0.0.1:6399' })).useBus(redisBusDriver({ connection: 'redis://127.0.0.1:6399' }))
       console.log(typeof redisDriver, typeof redisBusDriver, typeof store.useL1Layer)`,
    )
    expect(output).toBe('function function function')
  })

  it('rustocache/keyv: a Keyv store over the engine', () => {
    const keyvClass = format === 'cjs' ? "const Keyv = require('keyv').default ?? require('keyv');" : "import Keyv from 'keyv';"
    const output = run(
      format,
      `${keyvClass}
       ${load(format, ['KeyvRustoCache'], 'rustocache/keyv')}
       ${load(format, ['BentoCache', 'bentostore'], 'rustocache')}
       ${load(format, ['memoryDriver'], 'rustocache/drivers/memory')}
       const bento = new BentoCache({ default: 'main', stores: { main: bentostore().useL1Layer(memoryDriver()) } })
       const keyv = new Keyv({ store: new KeyvRustoCache(bento), namespace: 'app' })
       await keyv.set('k', { v: 1 }, 60000)
       console.log(JSON.stringify({ value: await keyv.get('k'), entries: bento.getStats().l1.entries }))
       await bento.disconnectAll()`,
    )
    expect(JSON.parse(output)).toEqual({ value: { v: 1 }, entries: 1 })
  })

  it('rustocache/types: loads, with no runtime content', () => {
    const output = run(format, format === 'cjs' ? `console.log(JSON.stringify(Object.keys(require('rustocache/types'))))` : `const types = await import('rustocache/types'); console.log(JSON.stringify(Object.keys(types)))`)
    expect(JSON.parse(output)).toEqual([])
  })
})
