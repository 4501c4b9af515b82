// The CommonJS declarations (dist/cjs): the same generics through require().
import rustocache = require('rustocache')
import memory = require('rustocache/drivers/memory')
import type { GetSetFactoryContext } from 'rustocache/types'

const bento = new rustocache.BentoCache({ default: 'main', stores: { main: rustocache.bentostore().useL1Layer(memory.memoryDriver()) } })

export async function commonjsGenerics(): Promise<void> {
  const value = await bento.getOrSet({ key: 'k', factory: (ctx: GetSetFactoryContext) => {
    ctx.setTags(['counts'])
    return { count: 1 }
  } })
  const count: number = value.count
  // @ts-expect-error the value is an object, not a string
  const wrong: string = await bento.getOrSet({ key: 'k', factory: () => ({ count: 1 }) })
  void [count, wrong]
}
