import { parseTtl, type Duration } from './duration.js'

/** What a factory returns through `ctx.skip()`: cache nothing, resolve `undefined`. */
export const SKIP: unique symbol = Symbol('rustocache.skip')

/** How the value a factory produces is written; the factory may change it through `ctx`. */
export interface WriteOptions {
  ttl: number | null
  grace: number
  tags: string[]
  skipL2Write: boolean
  skipBusNotify: boolean
}

/** The `ctx` a factory receives, as bentocache's. */
export class FactoryContext {
  constructor(
    /** The stale entry this run may replace, if grace kept one; `undefined` otherwise. */
    readonly gracedEntry: { value: unknown } | undefined,
    private readonly write: WriteOptions,
  ) {}

  /** Return this to cache nothing: `getOrSet` then resolves `undefined`. */
  skip(): typeof SKIP {
    return SKIP
  }

  /** Fails the factory with `message`, as a thrown error would. */
  fail(message?: string): never {
    throw new Error(message ?? 'Factory failed')
  }

  /** Sets the ttl of the value being computed. Deprecated in bentocache for `setOptions`. */
  setTtl(ttl: Duration | null) {
    this.write.ttl = parseTtl(ttl)
  }

  /** Adapts how the value is written, from what the factory learned computing it. */
  setOptions(options: { ttl?: Duration | null; skipL2Write?: boolean; skipBusNotify?: boolean }) {
    if (options.ttl) this.setTtl(options.ttl)
    this.write.skipL2Write = options.skipL2Write ?? false
    this.write.skipBusNotify = options.skipBusNotify ?? false
  }

  /** Adds tags to the value being computed. */
  setTags(tags: string[]) {
    this.write.tags.push(...tags)
  }
}
