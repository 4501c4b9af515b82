import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { publishedClock } from '../src/native.js'
import { isBefore, usePublishedClock } from '../src/published_clock.js'
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
    // Mapped and read once so that the published time is live, then let it tick.
    usePublishedClock()
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

describe('the clock thread', () => {
  // In a child process of its own: the thread is process-wide, and other suites start it.
  const threadsAfter = (driverOptions: string) =>
    execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { readdirSync, readFileSync } from 'node:fs'
      import { BentoCache, bentostore } from '${pathToFileURL(resolve('dist/index.js')).href}'
      import { memoryDriver } from '${pathToFileURL(resolve('dist/drivers/memory.js')).href}'
      const bento = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver(${driverOptions})) } })
      await bento.set({ key: 'a', value: 1 })
      await bento.get({ key: 'a' })
      const names = readdirSync('/proc/self/task').map((task) => readFileSync('/proc/self/task/' + task + '/comm', 'utf8').trim())
      console.log(JSON.stringify(names))
      await bento.disconnectAll()
    `], { encoding: 'utf8' })

  it.runIf(process.platform === 'linux')('runs only once a store answers hits in JavaScript (serialize: false, or decoded values)', () => {
    expect(JSON.parse(threadsAfter('{ maxDecoded: 0 }'))).not.toContain('rustocache-cloc')
    expect(JSON.parse(threadsAfter('{ serialize: false }'))).toContain('rustocache-cloc')
    expect(JSON.parse(threadsAfter('{}'))).toContain('rustocache-cloc')
  })
})
