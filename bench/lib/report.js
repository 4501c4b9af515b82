// The suite's results: what machine ran them, one table per scenario with each contender's
// ratio to its peers, and the comparison of a run with a baseline run's samples.
//
// A scenario's result (what each bench/scenarios/*.js `run()` returns):
//   { id, title, status: 'ok' | 'skipped' | 'failed', reason?, description, notes: [],
//     columns: [{ key, label, format, better? }], primary: <column key>,
//     rows: [{ case, contender, values: { <key>: number | string }, samples?: { <key>: number[] } }] }
// `better` ('higher' | 'lower') marks the columns that are compared with a baseline;
// `exact: true` marks a column whose value does not vary between runs (a hit ratio), compared
// with `tolerance` instead of a test.
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { compareSamples, mean } from './stats.js'
import { integer, printTable } from './common.js'

/** The machine and software a run is on. */
export function machineInfo() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  }
}

/** The commit the run is of, and whether the tree had changes beyond it. */
export function gitInfo(cwd) {
  const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  try {
    return { commit: git('rev-parse', 'HEAD'), branch: git('rev-parse', '--abbrev-ref', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no') !== '' }
  } catch {
    return { commit: null, branch: null, dirty: null }
  }
}

/** One line naming the machine, for tables and charts. */
export function machineLine(machine) {
  return `${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}`
}

const FORMATS = {
  int: (v) => integer.format(v),
  ns: (v) => integer.format(v),
  us: (v) => v.toFixed(1),
  ms: (v) => v.toFixed(1),
  mb: (v) => v.toFixed(1),
  pct: (v) => v.toFixed(2),
  ratio: (v) => v.toFixed(2) + 'x',
  text: (v) => String(v),
}

/** A cell as printed. */
export function formatCell(column, value) {
  if (value === undefined || value === null || (typeof value === 'number' && !Number.isFinite(value))) return '-'
  return (FORMATS[column.format] ?? FORMATS.text)(value)
}

/** The peers a scenario's rustocache rows are compared with, in order. */
export const PEERS = ['bentocache', 'lru-cache', 'cache-manager']

const isOurs = (name) => name.startsWith('rustocache')
/** " (serialize:false)" in "rustocache (serialize:false)": the mode a peer is matched in. */
const modeOf = (name) => /\s\(.*\)$/.exec(name)?.[0] ?? ''

/**
 * The peer row `peer` of `row`'s case: the one in the same mode when there is one
 * (rustocache (serialize:false) against bentocache (serialize:false)), else the plain one,
 * else a row whose contender starts with the peer's name (cache-manager (Keyv on lru-cache)).
 */
function peerRow(result, row, peer) {
  const same = result.rows.filter((r) => r.case === row.case)
  return (
    same.find((r) => r.contender === peer + modeOf(row.contender)) ??
    same.find((r) => r.contender === peer) ??
    same.find((r) => r.contender.startsWith(peer + ' '))
  )
}

/**
 * rustocache's row over the peer's, on the primary column, as a speed-up: above 1 is better
 * for rustocache (higher/lower is read from the column's `better`).
 */
export function peerRatio(result, row, peer) {
  const column = result.columns.find((c) => c.key === result.primary)
  const other = peerRow(result, row, peer)
  if (!column || !other || !isOurs(row.contender)) return undefined
  const ours = row.values[column.key]
  const theirs = other.values[column.key]
  if (typeof ours !== 'number' || typeof theirs !== 'number' || ours === 0 || theirs === 0) return undefined
  return column.better === 'lower' ? theirs / ours : ours / theirs
}

/** The peers present in a scenario. */
export function peersOf(result) {
  return PEERS.filter((peer) => result.rows.some((r) => r.contender === peer || r.contender.startsWith(peer + ' ')))
}

/** Prints a scenario's table (to stdout), with notes. */
export function printScenario(result, print = console.log) {
  print(`\n## ${result.title} [${result.id}]`)
  if (result.status !== 'ok') {
    print(`${result.status.toUpperCase()}: ${result.reason}`)
    return
  }
  if (result.description) print(result.description)
  const peers = result.primary ? peersOf(result) : []
  const primary = result.columns.find((c) => c.key === result.primary)
  const header = ['case', 'contender', ...result.columns.map((c) => c.label), ...peers.map((p) => `vs ${p}`)]
  const rows = [header]
  for (const row of result.rows) {
    rows.push([
      row.case,
      row.contender,
      ...result.columns.map((c) => formatCell(c, row.values[c.key])),
      ...peers.map((p) => formatCell({ format: 'ratio' }, peerRatio(result, row, p))),
    ])
  }
  printTable(rows, 2, print)
  if (peers.length > 0 && primary) print(`vs <peer>: rustocache's ${primary.label} against the peer's in the same case and mode; above 1x = rustocache better.`)
  for (const note of result.notes ?? []) print(`- ${note}`)
}

/** Every compared metric of a run: `${scenario} | ${case} | ${contender} | ${column}` → data. */
export function metricsOf(run) {
  const out = new Map()
  for (const result of run.scenarios ?? []) {
    if (result.status !== 'ok') continue
    for (const column of result.columns) {
      if (!column.better) continue
      for (const row of result.rows) {
        const samples = row.samples?.[column.key] ?? (typeof row.values[column.key] === 'number' ? [row.values[column.key]] : null)
        if (!samples || samples.length === 0) continue
        out.set(`${result.id} | ${row.case} | ${row.contender} | ${column.label}`, { column, samples })
      }
    }
  }
  return out
}

/**
 * Compares `run` with `baseline` metric by metric: returns the rows of every metric present in
 * both, each with its verdict (see stats.js compareSamples).
 */
export function compareRuns(baseline, run, options = {}) {
  const before = metricsOf(baseline)
  const after = metricsOf(run)
  const rows = []
  for (const [name, { column, samples }] of after) {
    const base = before.get(name)
    if (!base) continue
    const outcome = compareSamples(base.samples, samples, {
      better: column.better,
      exact: Boolean(column.exact),
      tolerance: column.tolerance ?? 0,
      alpha: options.alpha,
      minChange: options.minChange,
    })
    rows.push({ metric: name, baseline: mean(base.samples), current: mean(samples), n: [base.samples.length, samples.length], ...outcome })
  }
  return rows
}

/** Prints a comparison; returns how many metrics regressed. */
export function printComparison(rows, { alpha, minChange }, print = console.log) {
  const fmt = (v) => (Math.abs(v) >= 100 ? integer.format(v) : v.toFixed(3))
  const p = (v) => (Number.isFinite(v) ? (v < 0.0001 ? '<0.0001' : v.toFixed(4)) : '-')
  print(`\n## Comparison with the baseline (Welch's t-test, p < ${alpha}, and a change of at least ${(minChange * 100).toFixed(1)} %)`)
  const flagged = rows.filter((r) => r.verdict === 'regressed' || r.verdict === 'improved')
  const table = [['verdict', 'metric', 'baseline', 'now', 'change', 'p (Welch)', 'p (Mann-Whitney)', 'n']]
  for (const r of [...flagged, ...rows.filter((r) => !flagged.includes(r))]) {
    table.push([r.verdict, r.metric, fmt(r.baseline), fmt(r.current), `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)} %`, p(r.p), p(r.pMannWhitney), r.n.join('/')])
  }
  printTable(table, 2, print)
  const regressed = rows.filter((r) => r.verdict === 'regressed')
  const improved = rows.filter((r) => r.verdict === 'improved')
  print(`\nRegressed (${regressed.length}):${regressed.length ? '\n  ' + regressed.map((r) => r.metric).join('\n  ') : ' none'}`)
  print(`Improved (${improved.length}):${improved.length ? '\n  ' + improved.map((r) => r.metric).join('\n  ') : ' none'}`)
  print(`Unchanged or within the noise: ${rows.length - regressed.length - improved.length}`)
  const few = rows.filter((r) => !r.exact && Math.min(...r.n) > 1 && Math.min(...r.n) < 5).length
  if (few > 0) print(`Caution: ${few} metrics have fewer than 5 samples on one side: the test sees only large, steady changes (use --samples).`)
  return regressed.length
}

/** The ops/s column most scenarios lead with (compared with a baseline: higher is better). */
export const OPS_COLUMN = { key: 'opsPerSec', label: 'ops/s', format: 'int', better: 'higher' }

/** The p50, p99 and p99.9 columns in `unit` ('ns' or 'us'), keyed p50Ns... or p50Us... */
export function latencyColumns(unit) {
  const suffix = unit === 'ns' ? 'Ns' : 'Us'
  const shown = unit === 'ns' ? 'ns' : 'µs'
  return [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9']].map(([key, label]) => ({ key: key + suffix, label: `${label} ${shown}`, format: unit }))
}

/** A row's latency values (see latencyColumns) from percentiles in ms (tinybench's p50, p99, p999). */
export function latencyValues({ p50, p99, p999 }, unit) {
  const scale = unit === 'ns' ? 1e6 : 1e3
  const suffix = unit === 'ns' ? 'Ns' : 'Us'
  return { ['p50' + suffix]: p50 * scale, ['p99' + suffix]: p99 * scale, ['p999' + suffix]: p999 * scale }
}
