import type { L2Backend, L2Invalidations, L2Reads, L2Write } from './l2_backend.js'

/**
 * bentocache's contract for an L2 driver written in JavaScript (`L2CacheDriver` in
 * `bentocache/types`): string values, promises, and a `namespace()` that returns the same
 * driver scoped under `<prefix>:<namespace>`. Existing custom drivers (DynamoDB, knex, a
 * Map) plug into `useL2Layer({ options, factory })` unchanged.
 */
export interface L2CacheDriver {
  type?: 'l2'
  namespace(namespace: string): L2CacheDriver
  get(key: string): Promise<string | undefined | null>
  /** `ttl`: ms before the driver may drop the value; `undefined`: never. */
  set(key: string, value: string, ttl?: number): Promise<boolean | void>
  delete(key: string): Promise<boolean>
  deleteMany(keys: string[]): Promise<boolean>
  clear(): Promise<void>
  disconnect(): Promise<void>
  /** Removes expired entries, for drivers whose storage does not expire them itself. */
  prune?(): Promise<void>
}

/** Whether `value` has the methods of an {@link L2CacheDriver}. */
export function isL2CacheDriver(value: unknown): value is L2CacheDriver {
  const driver = value as Record<string, unknown> | null
  return (
    typeof driver === 'object' &&
    driver !== null &&
    ['namespace', 'get', 'set', 'delete', 'deleteMany', 'clear', 'disconnect'].every((name) => typeof driver[name] === 'function')
  )
}

/** Version tag of the JSON entries this backend writes; anything else reads as unreadable. */
const ENTRY_VERSION = 1
/** The key of the tag index of `tag` (its keys), and of the invalidation records. */
const tagIndexKey = (tag: string) => `__rustocache:tag:${tag}`
const INVALIDATIONS_KEY = '__rustocache:invalidations'

/** An entry as a JS driver stores it: JSON text, the value as the serializer made it. */
interface DriverEntry {
  rc: typeof ENTRY_VERSION
  /** The serialized value. */
  value: string
  /** Made at, turns stale at, dropped at (ms since the epoch; `null`: never). */
  createdAt: number
  staleAt: number | null
  dropAt: number | null
  tags?: string[]
}

/**
 * The L2 tier over a JavaScript driver: the slow path beside the engine's own tiers. Every
 * call is the driver's own promise, bounded by `timeoutMs` (past it the call counts as
 * failed, as on Redis, so a slow driver never stalls callers). Entries are JSON
 * ({@link DriverEntry}); tags are filed in an index entry per tag, kept by this process's
 * read-modify-write (two processes tagging the same tag at the same instant can lose an
 * index line: the engine's Redis tier has no such limit).
 */
export class DriverBackend implements L2Backend {
  /** Index updates waiting, by index key: one at a time per key in this process. */
  readonly #indexUpdates = new Map<string, Promise<void>>()

  constructor(
    private readonly driver: L2CacheDriver,
    private readonly timeoutMs: number,
  ) {}

  async getMany(keys: string[]): Promise<L2Reads> {
    const raw = await Promise.all(keys.map((key) => this.#call(() => this.driver.get(key))))
    const values: Array<string | null> = []
    const times = new Float64Array(keys.length * 3).fill(Number.NaN)
    const tags: string[][] = []
    const unreadable: Array<string | null> = []
    const now = Date.now()
    raw.forEach((text, i) => {
      const entry = text === undefined || text === null ? undefined : parseEntry(text)
      const live = entry && typeof entry !== 'string' && (entry.dropAt === null || entry.dropAt > now)
      values.push(live ? entry.value : null)
      tags.push(live ? (entry.tags ?? []) : [])
      unreadable.push(typeof entry === 'string' ? entry : null)
      if (live) times.set([entry.createdAt, entry.staleAt ?? Number.NaN, entry.dropAt ?? Number.NaN], 3 * i)
    })
    return {
      values,
      times,
      tags: tags.some((list) => list.length > 0) ? tags : undefined,
      unreadable: unreadable.some((reason) => reason !== null) ? unreadable : undefined,
    }
  }

  async setMany(items: L2Write[]): Promise<void> {
    const now = Date.now()
    const byTag = new Map<string, string[]>()
    await Promise.all(
      items.map((item) => {
        const entry: DriverEntry = {
          rc: ENTRY_VERSION,
          value: item.value,
          createdAt: item.createdAt ?? now,
          staleAt: item.logicalExpiresAt ?? null,
          dropAt: item.ttl == null ? null : now + item.ttl,
          tags: item.tags?.length ? item.tags : undefined,
        }
        for (const tag of item.tags ?? []) byTag.set(tag, [...(byTag.get(tag) ?? []), item.key])
        return this.#call(() => this.driver.set(item.key, JSON.stringify(entry), item.ttl ?? undefined))
      }),
    )
    await Promise.all(
      [...byTag].map(([tag, keys]) =>
        this.#updateIndex(tagIndexKey(tag), (known: string[] = []) => [...new Set([...known, ...keys])]),
      ),
    )
  }

  async deleteMany(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0
    await this.#call(() => this.driver.deleteMany(keys))
    return keys.length
  }

  async deleteTagged(tags: string[]): Promise<number> {
    let removed = 0
    for (const tag of tags) {
      const index = tagIndexKey(tag)
      const keys = readJson<string[]>(await this.#call(() => this.driver.get(index))) ?? []
      if (keys.length > 0) await this.#call(() => this.driver.deleteMany(keys))
      await this.#call(() => this.driver.delete(index))
      removed += keys.length
    }
    return removed
  }

  recordInvalidations(kind: 'delete' | 'expire', tags: string[], at: number): Promise<void> {
    return this.#updateIndex(INVALIDATIONS_KEY, (known: Record<string, number> = {}) => {
      for (const tag of tags) known[`${kind}:${tag}`] = Math.max(known[`${kind}:${tag}`] ?? 0, at)
      return known
    })
  }

  async invalidations(): Promise<L2Invalidations> {
    const known = readJson<Record<string, number>>(await this.#call(() => this.driver.get(INVALIDATIONS_KEY))) ?? {}
    return { fields: Object.keys(known), at: Object.values(known) }
  }

  async expire(key: string): Promise<boolean> {
    const text = await this.#call(() => this.driver.get(key))
    const entry = text === undefined || text === null ? undefined : parseEntry(text)
    if (!entry || typeof entry === 'string') return false
    const now = Date.now()
    if (entry.dropAt !== null && entry.dropAt <= now) return false
    entry.staleAt = now
    await this.#call(() => this.driver.set(key, JSON.stringify(entry), entry.dropAt === null ? undefined : entry.dropAt - now))
    return true
  }

  clear(namespace: string): Promise<void> {
    // `users:` is the driver's namespace `users` (bentocache's drivers file it under
    // `<prefix>:users:`, where this backend's `users:<key>` lands too).
    const driver = namespace === '' ? this.driver : this.driver.namespace(namespace.slice(0, -1))
    return this.#call(() => driver.clear())
  }

  disconnect(): Promise<void> {
    return this.#call(() => this.driver.disconnect())
  }

  /** Removes expired entries where the driver's storage keeps them (bentocache's `prune`). */
  prune(): Promise<void> {
    return this.driver.prune ? this.#call(() => this.driver.prune!()) : Promise.resolve()
  }

  /** Read-modify-write of the JSON entry `key`, one at a time per key in this process. */
  #updateIndex<T>(key: string, update: (known: T | undefined) => T): Promise<void> {
    const previous = this.#indexUpdates.get(key) ?? Promise.resolve()
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const known = readJson<T>(await this.#call(() => this.driver.get(key)))
        await this.#call(() => this.driver.set(key, JSON.stringify(update(known))))
      })
    this.#indexUpdates.set(key, next)
    const forget = () => {
      if (this.#indexUpdates.get(key) === next) this.#indexUpdates.delete(key)
    }
    next.then(forget, forget)
    return next
  }

  /** The driver's promise, rejected after `timeoutMs` (a throw counts as a rejection). */
  #call<T>(operation: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`[timeout] the L2 driver did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      )
      timer.unref()
      const settle = <A>(done: (arg: A) => void) => (arg: A) => {
        clearTimeout(timer)
        done(arg)
      }
      try {
        operation().then(settle(resolve), settle(reject))
      } catch (error) {
        settle(reject)(error)
      }
    })
  }
}

/** The entry in `text`, or why it is not one (foreign or corrupted data). */
function parseEntry(text: string): DriverEntry | string {
  let entry: Partial<DriverEntry>
  try {
    entry = JSON.parse(text)
  } catch {
    return 'not a rustocache entry (not JSON)'
  }
  const numberOrNull = (value: unknown) => value === null || typeof value === 'number'
  const valid =
    typeof entry === 'object' &&
    entry !== null &&
    entry.rc === ENTRY_VERSION &&
    typeof entry.value === 'string' &&
    typeof entry.createdAt === 'number' &&
    numberOrNull(entry.staleAt) &&
    numberOrNull(entry.dropAt) &&
    (entry.tags === undefined || (Array.isArray(entry.tags) && entry.tags.every((tag) => typeof tag === 'string')))
  return valid ? (entry as DriverEntry) : `not a rustocache entry (version ${ENTRY_VERSION} JSON expected)`
}

/** `text` parsed as JSON, `undefined` when absent or unparseable (an index starts over). */
function readJson<T>(text: string | undefined | null): T | undefined {
  if (text === undefined || text === null) return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}
