/**
 * The errors RustoCache throws. The five `E_*` classes match bentocache's: the same
 * `code`, message, `status` and properties, so code that catches one catches the other.
 */

/** Base of every error with a `code`. */
export class CacheError extends Error {
  static code: string
  static status = 500
  declare code: string
  status = 500

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = (new.target as typeof CacheError).code
  }

  toString() {
    return `${this.name} [${this.code}]: ${this.message}`
  }
}

/** The factory threw, or called `ctx.fail()`, and no graced value could stand in. */
export class FactoryError extends CacheError {
  static code = 'E_FACTORY_ERROR'
  /** The key whose factory failed. */
  key: string
  /** Whether the factory ran in the background (stale-while-revalidate, soft timeout). */
  isBackgroundFactory: boolean

  constructor(key: string, cause: unknown, isBackgroundFactory = false) {
    super('Factory has thrown an error', { cause })
    this.key = key
    this.isBackgroundFactory = isBackgroundFactory
  }
}

/** The factory outlived `timeout` while a graced value existed (served in its place). */
export class FactorySoftTimeout extends CacheError {
  static code = 'E_FACTORY_SOFT_TIMEOUT'
  key: string
  constructor(key: string) {
    super('Factory has timed out after waiting for soft timeout')
    this.key = key
  }
}

/** The factory outlived `hardTimeout`. It keeps running and its value is still cached. */
export class FactoryHardTimeout extends CacheError {
  static code = 'E_FACTORY_HARD_TIMEOUT'
  key: string
  constructor(key: string) {
    super('Factory has timed out after waiting for hard timeout')
    this.key = key
  }
}

/** `undefined` cannot be cached: `set` was given it, or a factory returned it. */
export class UndefinedValueError extends CacheError {
  static code = 'E_UNDEFINED_VALUE'
  constructor(key: string) {
    super(`Cannot set undefined value in the cache, key: ${key}`)
  }
}

/** An operation on the L2 tier failed and `suppressL2Errors` is off. */
export class L2CacheError extends CacheError {
  static code = 'E_L2_CACHE_ERROR'
  constructor(cause: unknown) {
    super('An error occurred while interacting with the L2 cache', { cause })
  }
}

/**
 * A waiting `getOrSet` gave up after `lockTimeout` with no graced value to serve. Its
 * message is bentocache's (async-mutex's); the `code` is ours.
 */
export class LockTimeoutError extends CacheError {
  static code = 'E_LOCK_TIMEOUT'
  key: string
  constructor(key: string) {
    super('timeout while waiting for mutex to become available')
    this.key = key
  }
}

/** The serializer could not turn a value into text (a function, a symbol, a BigInt with JSON). */
export class SerializationError extends CacheError {
  static code = 'E_SERIALIZATION'
  key: string
  constructor(key: string, cause?: unknown) {
    super(`Cannot serialize the value of key: ${key}`, { cause })
    this.key = key
  }
}

/** An option has a value that cannot be used; thrown when the cache is built. */
export class InvalidOptionError extends CacheError {
  static code = 'E_INVALID_OPTION'
  /** The option's name. */
  option: string
  constructor(option: string, value: unknown, expected: string) {
    super(`Invalid value ${formatValue(value)} for option "${option}": expected ${expected}`)
    this.option = option
  }
}

function formatValue(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value)
  } catch {
    return typeof value
  }
}

/** The errors, under bentocache's names. */
export const errors = {
  E_FACTORY_ERROR: FactoryError,
  E_FACTORY_SOFT_TIMEOUT: FactorySoftTimeout,
  E_FACTORY_HARD_TIMEOUT: FactoryHardTimeout,
  E_UNDEFINED_VALUE: UndefinedValueError,
  E_L2_CACHE_ERROR: L2CacheError,
  E_LOCK_TIMEOUT: LockTimeoutError,
  E_INVALID_OPTION: InvalidOptionError,
  E_SERIALIZATION: SerializationError,
}
