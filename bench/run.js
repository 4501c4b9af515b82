/**
 * The benchmark suite: every scenario of bench/scenarios/, one after another, with progress
 * on stderr, a table per scenario on stdout, and the results written as JSON (with the date,
 * the machine, the command and the git commit) and as an SVG chart.
 *
 *   npm run bench                               (builds first; `node bench/run.js` after a build)
 *   npm run bench -- --only l1,herd             only these scenarios (see --list)
 *   npm run bench -- --quick                    smaller data sets, fewer samples, shorter loads
 *   npm run bench -- --compare old.json         compare each metric's samples with a baseline run
 *
 * Options:
 *   --only <id,...>     scenarios to run (ids: see --list); default all
 *   --quick             quick sizes: what CI runs. Implied when BENCH_TIME_MS is below 200
 *   --samples <n>       samples per metric (runs of each task); default 5, 3 with --quick,
 *                       and twice that with --compare
 *   --out <file>        where the JSON goes (default bench/results/latest.json; the SVG beside
 *                       it, same name, .svg)
 *   --compare <file>    a baseline run's JSON: after the run, each metric with samples in both
 *                       is tested (Welch's t-test), and changes beyond the noise are printed as
 *                       regressed or improved; the exit code is 1 if any regressed
 *   --alpha <p>         p-value threshold of --compare (default 0.01)
 *   --min-change <r>    smallest relative change --compare flags (default 0.03, i.e. 3 %)
 *   --list              print the scenarios and exit
 * Environment: BENCH_TIME_MS (default 1000) sets the time of each timed task.
 *
 * Scenarios that need redis-server run only when it is on PATH (each starts its own, on a free
 * loopback port), and are reported as skipped otherwise. A scenario that fails (a check that
 * does not hold, such as a factory running twice for one key) is reported as failed, the
 * others still run, and the exit code is 1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TIME_MS } from './lib/common.js'
import { redisAvailable } from './lib/redis.js'
import { compareRuns, gitInfo, machineInfo, printComparison, printScenario } from './lib/report.js'
import { chartOf } from './lib/svg.js'
import * as l1 from './scenarios/l1.js'
import * as adversarial from './scenarios/adversarial.js'
import * as herd from './scenarios/herd.js'
import * as pressure from './scenarios/pressure.js'
import * as hitRatio from './scenarios/hit_ratio.js'
import * as memory from './scenarios/memory.js'
import * as workers from './scenarios/workers.js'
import * as l2 from './scenarios/l2.js'
import * as file from './scenarios/file.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SCENARIOS = [l1, adversarial, herd, pressure, hitRatio, memory, workers, file, l2]
/** Below this BENCH_TIME_MS, a run is a smoke test: --quick is implied. */
const QUICK_BELOW_MS = 200

function parseArgs(argv) {
  const options = { only: null, quick: false, samples: null, out: resolve(ROOT, 'bench/results/latest.json'), compare: null, alpha: 0.01, minChange: 0.03, list: false }
  const value = (i, name) => {
    if (i + 1 >= argv.length) throw new Error(`${name} needs a value`)
    return argv[i + 1]
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') options.quick = true
    else if (arg === '--list') options.list = true
    else if (arg === '--only') options.only = value(i++, arg).split(',').map((s) => s.trim()).filter(Boolean)
    else if (arg === '--samples') options.samples = Number(value(i++, arg))
    else if (arg === '--out') options.out = resolve(value(i++, arg))
    else if (arg === '--compare') options.compare = resolve(value(i++, arg))
    else if (arg === '--alpha') options.alpha = Number(value(i++, arg))
    else if (arg === '--min-change') options.minChange = Number(value(i++, arg))
    else throw new Error(`unknown option ${arg} (see the top of bench/run.js)`)
  }
  if (options.samples !== null && !(Number.isInteger(options.samples) && options.samples >= 1)) throw new Error('--samples must be a positive integer')
  if (!(options.alpha > 0 && options.alpha < 1)) throw new Error('--alpha must be between 0 and 1')
  if (!(options.minChange >= 0)) throw new Error('--min-change must be a non-negative number')
  const known = new Set(SCENARIOS.map((s) => s.id))
  for (const name of options.only ?? []) if (!known.has(name)) throw new Error(`unknown scenario ${name}: one of ${[...known].join(', ')}`)
  return options
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (options.list) {
    for (const s of SCENARIOS) console.log(`${s.id.padEnd(12)} ${s.title}${s.needsRedis ? ' (needs redis-server)' : ''}`)
    return
  }
  const quickImplied = !options.quick && TIME_MS < QUICK_BELOW_MS
  const quick = options.quick || quickImplied
  // A comparison needs more samples than a report to see through a busy machine's noise.
  const samples = options.samples ?? (options.compare ? (quick ? 5 : 10) : quick ? 3 : 5)
  const started = Date.now()
  const log = (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`)
  const baseline = options.compare ? JSON.parse(readFileSync(options.compare, 'utf8')) : null
  const hasRedis = redisAvailable()

  const run = {
    schema: 1,
    date: new Date().toISOString(),
    command: ['node', 'bench/run.js', ...process.argv.slice(2)].join(' ') + (process.env.BENCH_TIME_MS ? ` (BENCH_TIME_MS=${process.env.BENCH_TIME_MS})` : ''),
    git: gitInfo(ROOT),
    machine: machineInfo(),
    options: { quick, quickImplied, samples, timeMs: TIME_MS, only: options.only },
    scenarios: [],
  }
  console.log(`RustoCache benchmarks: ${run.date}, ${run.machine.cores} × ${run.machine.cpu}, ${run.machine.memoryGiB} GiB, node ${run.machine.node}`)
  console.log(`${quick ? 'quick sizes' : 'full sizes'}${quickImplied ? ` (implied by BENCH_TIME_MS=${TIME_MS} < ${QUICK_BELOW_MS})` : ''}, ${samples} samples per metric, ${TIME_MS} ms per timed task; load average ${run.machine.loadAverage.join(' ')}`)

  let failed = 0
  for (const scenario of SCENARIOS) {
    if (options.only && !options.only.includes(scenario.id)) continue
    const base = { id: scenario.id, title: scenario.title }
    let result
    if (scenario.needsRedis && !hasRedis) {
      result = { ...base, status: 'skipped', reason: 'redis-server is not on PATH' }
    } else {
      log(`${scenario.id}: start`)
      const t0 = Date.now()
      try {
        result = { ...base, status: 'ok', ...(await scenario.run({ quick, samples, log, root: ROOT })) }
      } catch (error) {
        failed++
        result = { ...base, status: 'failed', reason: error?.stack ?? String(error) }
        process.exitCode = 1
      }
      result.seconds = Number(((Date.now() - t0) / 1000).toFixed(1))
      log(`${scenario.id}: ${result.status} in ${result.seconds} s`)
    }
    run.scenarios.push(result)
    printScenario(result)
  }
  run.seconds = Number(((Date.now() - started) / 1000).toFixed(1))

  if (baseline) {
    const rows = compareRuns(baseline, run, options)
    run.comparison = { baseline: { file: options.compare, date: baseline.date, commit: baseline.git?.commit ?? null }, alpha: options.alpha, minChange: options.minChange, rows }
    console.log(`\nBaseline: ${options.compare} (${baseline.date}, commit ${baseline.git?.commit?.slice(0, 10) ?? 'unknown'})`)
    if (rows.length === 0) console.log('No metric of this run is in the baseline: nothing compared.')
    else if (printComparison(rows, options) > 0) process.exitCode = 1
  }

  mkdirSync(dirname(options.out), { recursive: true })
  writeFileSync(options.out, JSON.stringify(run, null, 2) + '\n')
  const svg = options.out.replace(/\.json$/, '') + '.svg'
  writeFileSync(svg, chartOf(run))
  console.log(`\nResults: ${options.out} and ${svg} (${run.seconds} s)`)
  if (failed > 0) console.log(`${failed} scenario(s) FAILED: see above`)
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
