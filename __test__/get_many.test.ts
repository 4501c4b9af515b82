import { describe, expect, it } from 'vitest'
import { createCache } from './helpers.js'

describe('getMany', () => {
  it('gives a miss as an undefined element, not a hole', async () => {
    const bento = createCache()
    await bento.set({ key: 'a', value: 1 })
    const values = await bento.getMany({ keys: ['missing', 'a', 'other'] })
    expect(values).toStrictEqual([undefined, 1, undefined])
    expect(Object.keys(values)).toEqual(['0', '1', '2'])
    await bento.disconnectAll()
  })
})
