import { InvalidOptionError } from './errors.js'
import type { CacheStats } from './stats.js'

/**
 * `getStats()` in the Prometheus text exposition format, version 0.0.4: what
 * `bento.metrics()` (every store) and `cache.metrics()` (one store) return, to be served as
 * is on a `/metrics` endpoint with {@link PROMETHEUS_CONTENT_TYPE}.
 *
 * Every sample has one label, `store="<store name>"`. Names start with the prefix (default
 * `bentocache`, as `@bentocache/plugin-prometheus`'s) and `_`; counters end in `_total`.
 * Where that plugin has a metric, the name is its name plus `_total` (the plugin, through
 * prom-client, leaves the suffix out); the plugin's `key` label is not given (one series
 * per key is the cardinality the plugin's own docs warn about), nor are its `writes`,
 * `deletes` and `clears`, which `getStats()` does not count.
 *
 * | metric                                  | type    | from `getStats()`      | meaning                                                                      |
 * |-----------------------------------------|---------|------------------------|------------------------------------------------------------------------------|
 * | `bentocache_hits_total`                 | counter | `hits`                 | reads (`get`, `getOrSet`, `getMany`) answered with a fresh value (plugin: `hits`) |
 * | `bentocache_graced_hits_total`          | counter | `staleHits`            | reads answered with a stale value, by grace (plugin: `graced_hits`)          |
 * | `bentocache_misses_total`               | counter | `misses`               | reads that found no usable value; for `getOrSet`, runs of the factory (plugin: `misses`) |
 * | `bentocache_factory_runs_total`         | counter | `factory.runs`         | factory runs started                                                         |
 * | `bentocache_factory_errors_total`       | counter | `factory.errors`       | factory runs that threw                                                      |
 * | `bentocache_factory_timeouts_total`     | counter | `factory.timeouts`     | callers that stopped waiting for a factory at a soft or hard timeout         |
 * | `bentocache_refresh_stale_while_revalidate_total` | counter | `refresh.staleWhileRevalidate` | background runs started by serving a stale value at once (`timeout: 0`) |
 * | `bentocache_refresh_eager_total`        | counter | `refresh.eager`        | background runs started by a hit past the `eagerRefresh` threshold           |
 * | `bentocache_refresh_errors_total`       | counter | `refresh.errors`       | background runs (of either kind) that failed                                 |
 * | `bentocache_l1_hits_total`              | counter | `l1.hits`              | L1 lookups that found a fresh entry                                          |
 * | `bentocache_l1_stale_hits_total`        | counter | `l1.staleHits`         | L1 lookups that found a stale entry                                          |
 * | `bentocache_l1_misses_total`            | counter | `l1.misses`            | L1 lookups that found nothing                                                |
 * | `bentocache_l1_writes_total`            | counter | `l1.writes`            | entries written to the L1                                                    |
 * | `bentocache_l1_evictions_total`         | counter | `l1.evictions`         | entries evicted by the size limits                                           |
 * | `bentocache_l1_expirations_total`       | counter | `l1.expirations`       | entries dropped at the end of their ttl + grace                              |
 * | `bentocache_l1_rejected_total`          | counter | `l1.rejected`          | entries refused, heavier than `maxEntrySize`                                 |
 * | `bentocache_l1_entries`                 | gauge   | `l1.entries`           | entries held in the L1                                                       |
 * | `bentocache_l1_bytes`                   | gauge   | `l1.bytes`             | bytes held in the L1 (keys, serialized values, tags)                         |
 * | `bentocache_l2_hits_total`              | counter | `l2.hits`              | L2 reads that found an entry                                                 |
 * | `bentocache_l2_misses_total`            | counter | `l2.misses`            | L2 reads that found nothing                                                  |
 * | `bentocache_l2_errors_total`            | counter | `l2.errors`            | L2 operations that failed (timeouts included)                                |
 * | `bentocache_l2_skipped_total`           | counter | `l2.skipped`           | L2 operations skipped while the circuit breaker was open                     |
 * | `bentocache_l2_unreadable_total`        | counter | `l2.unreadable`        | L2 values that were not valid entries, read as misses                        |
 * | `bentocache_l2_retry_pending`           | gauge   | `l2.retries.pending`   | L2 writes waiting to be retried                                              |
 * | `bentocache_l2_retry_dropped_total`     | counter | `l2.retries.dropped`   | L2 writes dropped because the retry queue was full                           |
 *
 * The `l1_*` metrics have no sample for a store without an L1. The `l2_*` metrics are 0 for
 * a store without an L2.
 *
 * A new statistic is one line of {@link METRICS}: `counter('bus_messages_published', 'Help.',
 * (s) => s.bus?.published)` (a getter returning `undefined` gives no sample for that store).
 */

/** The `Content-Type` of what {@link prometheusText} returns. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export interface MetricsOptions {
  /** Prefix of every metric name, followed by `_`. Default `'bentocache'`; `''` for none. */
  prefix?: string
}

interface Metric {
  /** The name, without the prefix. */
  name: string
  type: 'counter' | 'gauge'
  help: string
  /** The value for one store; `undefined`: no sample. */
  value: (stats: CacheStats) => number | undefined
}

/** A counter: a value that only grows (until the process restarts). `_total` is appended. */
function counter(name: string, help: string, value: Metric['value']): Metric {
  return { name: `${name}_total`, type: 'counter', help, value }
}

/** A gauge: a value that goes up and down. */
function gauge(name: string, help: string, value: Metric['value']): Metric {
  return { name, type: 'gauge', help, value }
}

/** Every metric, in the order of the output; documented in the table above. */
const METRICS: readonly Metric[] = [
  counter('hits', 'Reads answered with a fresh value.', (s) => s.hits),
  counter('graced_hits', 'Reads answered with a stale value, by grace.', (s) => s.staleHits),
  counter('misses', 'Reads that found no usable value (for getOrSet: factory runs).', (s) => s.misses),
  counter('factory_runs', 'Factory runs started.', (s) => s.factory.runs),
  counter('factory_errors', 'Factory runs that threw.', (s) => s.factory.errors),
  counter('factory_timeouts', 'Callers that stopped waiting for a factory at a soft or hard timeout.', (s) => s.factory.timeouts),
  counter('refresh_stale_while_revalidate', 'Background factory runs started by serving a stale value at once (timeout 0).', (s) => s.refresh.staleWhileRevalidate),
  counter('refresh_eager', 'Background factory runs started by a hit past the eagerRefresh threshold.', (s) => s.refresh.eager),
  counter('refresh_errors', 'Background factory runs (stale-while-revalidate or eager) that failed.', (s) => s.refresh.errors),
  counter('l1_hits', 'L1 lookups that found a fresh entry.', (s) => s.l1?.hits),
  counter('l1_stale_hits', 'L1 lookups that found a stale entry.', (s) => s.l1?.staleHits),
  counter('l1_misses', 'L1 lookups that found nothing.', (s) => s.l1?.misses),
  counter('l1_writes', 'Entries written to the L1.', (s) => s.l1?.writes),
  counter('l1_evictions', 'L1 entries evicted by the size limits.', (s) => s.l1?.evictions),
  counter('l1_expirations', 'L1 entries dropped at the end of their ttl and grace.', (s) => s.l1?.expirations),
  counter('l1_rejected', 'Entries refused by the L1, heavier than maxEntrySize.', (s) => s.l1?.rejected),
  gauge('l1_entries', 'Entries held in the L1.', (s) => s.l1?.entries),
  gauge('l1_bytes', 'Bytes held in the L1: keys, serialized values and tags.', (s) => s.l1?.bytes),
  counter('l2_hits', 'L2 reads that found an entry.', (s) => s.l2.hits),
  counter('l2_misses', 'L2 reads that found nothing.', (s) => s.l2.misses),
  counter('l2_errors', 'L2 operations that failed, timeouts included.', (s) => s.l2.errors),
  counter('l2_skipped', 'L2 operations skipped while the circuit breaker was open.', (s) => s.l2.skipped),
  counter('l2_unreadable', 'L2 values that were not valid entries, read as misses.', (s) => s.l2.unreadable),
  gauge('l2_retry_pending', 'L2 writes waiting to be retried.', (s) => s.l2.retries.pending),
  counter('l2_retry_dropped', 'L2 writes dropped because the retry queue was full.', (s) => s.l2.retries.dropped),
  counter('bus_published', 'Bus messages sent to the other processes.', (s) => s.bus?.published),
  counter('bus_received', 'Bus messages received from other processes and applied.', (s) => s.bus?.received),
  counter('bus_publish_errors', 'Bus publish attempts that failed.', (s) => s.bus?.publishErrors),
  gauge('bus_retry_pending', 'Bus messages waiting to be retried.', (s) => s.bus?.retries.pending),
  counter('bus_retry_dropped', 'Bus messages dropped: retry queue full or disabled.', (s) => s.bus?.retries.dropped),
  counter('bus_gaps', 'Lost bus messages noticed (the L1 was cleared).', (s) => s.bus?.gaps),
  counter('bus_resubscriptions', 'Bus subscriptions restored after a loss (the L1 was cleared).', (s) => s.bus?.resubscriptions),
]

const METRIC_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/** The exposition of `stores`' statistics: for each metric, its HELP and TYPE lines, then one sample per store. */
export function prometheusText(stores: ReadonlyArray<{ store: string; stats: CacheStats }>, options?: MetricsOptions): string {
  const prefix = options?.prefix ?? 'bentocache'
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_PREFIX.test(prefix))) {
    throw new InvalidOptionError('prefix', prefix, 'a metric name prefix: letters, digits, _ and :, not starting with a digit')
  }
  const labels = stores.map(({ store }) => `{store="${escapeLabelValue(store)}"}`)
  let text = ''
  for (const metric of METRICS) {
    const name = prefix ? `${prefix}_${metric.name}` : metric.name
    let samples = ''
    stores.forEach(({ stats }, i) => {
      const value = metric.value(stats)
      if (value !== undefined) samples += `${name}${labels[i]} ${formatValue(value)}\n`
    })
    if (samples) text += `# HELP ${name} ${escapeHelp(metric.help)}\n# TYPE ${name} ${metric.type}\n${samples}`
  }
  return text
}

/** A label value as the format writes it: `\`, `"` and line feeds escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

/** A HELP text as the format writes it: `\` and line feeds escaped. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))
}

function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value)
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'
}
