import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { publishedClock } from '../src/native.js'
import { isBefore } from '../src/published_clock.js'
import { createCache, sleep as pause } from './helpers.js'

describe('the published clock', () => {
  it('publishes the wall clock into a buffer while it is read', async () => {
    const buffer = publishedClock()
    expect(buffer).toBeInstanceOf(ArrayBuffer)
    const cell = new Float64Array(buffer!)
    let published = cell[0]
    for (let i = 0; i < 200 && published === Infinity; i++) {
      cell[1] = 1
      await sleep(10)
      published = cell[0]
    }
    const now = Date.now()
    expect(published).toBeLessThanOrEqual(now)
    expect(published).toBeGreaterThan(now - 1_000)
    // The thread keeps it moving while it is touched.
    cell[1] = 1
    await sleep(50)
    cell[1] = 1
    await sleep(30)
    expect(cell[0]).toBeGreaterThan(published)
  })

  it('answers deadlines as Date.now() does, far from them and near them', async () => {
    // Read once so that the published time is live, then let it tick.
    isBefore(0)
    await sleep(50)
    const now = Date.now()
    expect(isBefore(now + 60_000)).toBe(true)
    expect(isBefore(now - 1)).toBe(false)
    expect(isBefore(now - 60_000)).toBe(false)
    // Within the margin the real clock decides: a deadline 30 ms ahead passes in 30 ms.
    const soon = Date.now() + 30
    expect(isBefore(soon)).toBe(true)
    await sleep(40)
    expect(isBefore(soon)).toBe(false)
  })
})

describe('a serialize: false store answering hits by the published clock', () => {
  it('stops serving an entry at its ttl, a ttl longer than the clock margin included', async () => {
    const bento = createCache({ driver: { serialize: false } })
    const value = { id: 1 }
    await bento.set({ key: 'long', value, ttl: 1_200 })
    await bento.set({ key: 'short', value, ttl: 100 })
    // Hits answered by the index (the same object back), while the published clock ticks.
    for (let i = 0; i < 5; i++) {
      expect(await bento.get({ key: 'long' })).toBe(value)
      await pause(20)
    }
    await pause(100)
    expect(await bento.get({ key: 'short' })).toBeUndefined()
    expect(await bento.get({ key: 'long' })).toBe(value)
    await pause(1_150)
    expect(await bento.get({ key: 'long' })).toBeUndefined()
    await bento.disconnectAll()
  })
})
