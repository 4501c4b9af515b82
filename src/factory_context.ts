import { parseOptionalDuration, parseTtl, type Duration } from './duration.js'
import { InvalidOptionError } from './errors.js'
import { rejectUnknownOptions } from './options.js'

/** What a factory returns through `ctx.skip()`: cache nothing, resolve `undefined`. */
export const SKIP: unique symbol = Symbol('rustocache.skip')

/** How the value a factory produces is written; the factory may change it through `ctx`. */
export interface WriteOptions {
  /** Fresh for this many ms; `null` forever. */
  ttl: number | null
  /** Kept this many ms past the ttl. */
  grace: number
  tags: string[]
  skipL2Write: boolean
  skipBusNotify: boolean
}

/** What a factory may change with `ctx.setOptions()`, from what it learned computing the value. */
export interface AdaptiveOptions {
  /** The entry's ttl; `null` or 0: forever. */
  ttl?: Duration | null
  /** The entry's grace; `false`, `null` or 0: none. */
  grace?: Duration | false | null
  /** Tags added to the entry's (those of the call and of `setTags`). */
  tags?: string[]
  /** Write the L1 only. Absent: `false`, as in bentocache. */
  skipL2Write?: boolean
  /** Tell no other node. Absent: `false`, as in bentocache. */
  skipBusNotify?: boolean
}

const ADAPTIVE_OPTION_NAMES = ['ttl', 'grace', 'tags', 'skipL2Write', 'skipBusNotify']

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

  /**
   * Adapts how the value is written. A `ttl` given (0 and `null` included: forever)
   * replaces the entry's; `tags` are added; `skipL2Write` and `skipBusNotify` are set, to
   * `false` when absent, as bentocache's code does. An unknown or invalid option throws
   * E_INVALID_OPTION, which fails the factory.
   */
  setOptions(options: AdaptiveOptions) {
    rejectUnknownOptions(options, ADAPTIVE_OPTION_NAMES, 'ctx.setOptions()')
    if (options.ttl !== undefined) this.setTtl(options.ttl)
    if (options.grace !== undefined) this.write.grace = Math.max(0, parseOptionalDuration(options.grace, 'grace') ?? 0)
    if (options.tags !== undefined) this.setTags(options.tags)
    this.write.skipL2Write = options.skipL2Write ?? false
    this.write.skipBusNotify = options.skipBusNotify ?? false
  }

  /** Adds tags to the value being computed. */
  setTags(tags: string[]) {
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) throw new InvalidOptionError('tags', tags, 'an array of strings')
    this.write.tags.push(...tags)
  }
}
