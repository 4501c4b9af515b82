import { describe, expect, it } from 'vitest'
import { BentoCache, bentostore } from '../src/index.js'
import { memoryDriver } from '../src/drivers/memory.js'

describe('smoke', () => {
  it('sets and gets', async () => {
    const bento = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver()) } })
    await bento.set({ key: 'a', value: 1 })
    expect(await bento.get({ key: 'a' })).toBe(1)
  })
})
