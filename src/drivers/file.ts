import { fileCreate } from '../native.js'
import { InvalidOptionError } from '../errors.js'
import { parseDuration, type Duration } from '../duration.js'
import { rejectUnknownOptions } from '../options.js'
import { RemoteTier } from '../remote_tier.js'
import type { CreateDriverResult, DriverConfig } from './memory.js'

/** Options of the file (embedded, persistent) L2 tier, as bentocache's `fileDriver` takes them. */
export interface FileDriverOptions {
  /**
   * The directory of the store (one SQLite database, `rustocache.sqlite`, with its `-wal`
   * and `-shm` files); created if missing. Required.
   */
  directory: string
  /**
   * How often expired entries are removed from disk: a duration (ms, or a string such as
   * `'1h'`), or `false` never (`cache.prune()` still does it on demand). Expired entries are
   * never returned either way. Default `'30s'`, what bentocache 1.6 does when it is omitted.
   */
  pruneInterval?: Duration | false
  /** Key prefix of this tier, overriding the store's and the global `prefix`. */
  prefix?: string
}

/**
 * The file L2 tier, run by the Rust engine: entries persist on local disk in an embedded
 * SQLite database, crash-safe, with no server to run. Several processes may share a directory.
 */
export function fileDriver(options: FileDriverOptions): CreateDriverResult<FileDriverOptions, RemoteTier> {
  return { options, factory: (config) => createFileTier(options, config) }
}

function createFileTier(options: FileDriverOptions, config: DriverConfig): RemoteTier {
  if (config.wire === 'bentocache') throw new InvalidOptionError('wire', config.wire, "redisDriver() as the L2 layer: bentocache's file entries are not shared")
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('fileDriver()', options, 'an options object with a directory')
  rejectUnknownOptions(options, ['directory', 'pruneInterval', 'prefix'], 'fileDriver()')
  const { directory } = options
  if (typeof directory !== 'string' || directory === '') throw new InvalidOptionError('directory', directory, 'the path of a directory')
  const pruneInterval = resolvePruneInterval(options.pruneInterval)
  let handle
  try {
    handle = fileCreate({ directory, prefix: options.prefix ?? config.prefix, pruneInterval })
  } catch (error) {
    throw new InvalidOptionError('directory', directory, `a directory this process can create and write (${(error as Error).message})`)
  }
  return new RemoteTier(handle, config.serializer)
}

/** ms between prunings, or `undefined` for never. */
function resolvePruneInterval(value: Duration | false | undefined): number | undefined {
  if (value === false) return undefined
  const ms = parseDuration(value ?? '30s', 'pruneInterval')
  if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidOptionError('pruneInterval', value, 'a positive duration, or false')
  return ms
}
