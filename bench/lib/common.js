// Helpers shared by the benchmarks: the data every contender is given, the timing knobs read
// from the environment, tinybench plumbing and plain-text tables.

/** The ~95-byte object every L1 benchmark caches under key `user:<i>`. */
export const valueOf = (i) => ({
  id: i,
  name: `User ${String(i).padStart(5, '0')} Ada Lovelace`,
  tags: ['admin', 'beta-tester', 'eu-west-1', 'premium'],
})

/** Whether `v` is `valueOf(i)` (cheap: what a timed loop can afford to check). */
export const isValue = (v, i) => v !== undefined && v !== null && v.id === i && v.name === `User ${String(i).padStart(5, '0')} Ada Lovelace`

/** `n` keys `user:0` .. `user:<n-1>`. */
export const userKeys = (n) => Array.from({ length: n }, (_, i) => `user:${i}`)

/** The factory given to getOrSet-like calls that must be hits. */
export function missFactory() {
  throw new Error('getOrSet missed: the factory ran, so this was not a cache hit')
}

/** `text` as a positive number, or `fallback`. */
export function positiveNumber(text, fallback) {
  const n = Number(text)
  return text !== undefined && text !== '' && Number.isFinite(n) && n > 0 ? n : fallback
}

/** Time per tinybench task (BENCH_TIME_MS, default 1000 ms) and its warmup. */
export const TIME_MS = positiveNumber(process.env.BENCH_TIME_MS, 1000)
export const WARMUP_MS = Math.max(10, Math.round(TIME_MS / 4))

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The result of a finished tinybench task, or an error saying why it did not finish. */
export function resultOf(task) {
  const { result } = task
  if (result.state !== 'completed') {
    throw new Error(`task "${task.name}" did not complete (${result.state})`, { cause: result.error })
  }
  return result
}

/** A task function making `batch` calls of `step` in a row, awaiting each if `async`. */
export function batchTask(step, async, batch) {
  if (!async) {
    return () => {
      for (let n = 0; n < batch; n++) step()
    }
  }
  return async () => {
    for (let n = 0; n < batch; n++) await step()
  }
}

/** Whether `fn` returns a promise: such calls are awaited by the benchmark, others are not. */
export function returnsPromise(fn) {
  return typeof fn()?.then === 'function'
}

export const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** Prints `rows` (arrays of strings) as aligned columns; the first row is the header. */
export function printTable(rows, leftColumns = 2, print = console.log) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)))
  const line = (row) => row.map((cell, col) => (col < leftColumns ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col]))).join('  ')
  print(line(rows[0]).trimEnd())
  print(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) print(line(row).trimEnd())
}

/** Whether the module at `url` (import.meta.url) is the script node was started with. */
export function isMain(url) {
  return process.argv[1] !== undefined && new URL(url).pathname === new URL(`file://${process.argv[1]}`).pathname
}

/**
 * Runs `node [...nodeFlags] script ...args` in a child process and resolves to the JSON of its
 * last stdout line (or, with `tag`, of the line starting with `tag `). A child that fails
 * rejects with its stderr.
 */
export async function nodeChild(script, args = [], { nodeFlags = [], env, tag } = {}) {
  const { execFile } = await import('node:child_process')
  const { promisify } = await import('node:util')
  const { fileURLToPath } = await import('node:url')
  const path = script.startsWith('file:') ? fileURLToPath(script) : script
  let stdout
  try {
    ;({ stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, path, ...args], { maxBuffer: 64 << 20, env: env ? { ...process.env, ...env } : process.env }))
  } catch (error) {
    throw new Error(`${path} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${error.stderr || error.stdout || error.message}`)
  }
  const lines = stdout.trim().split('\n')
  const line = tag ? lines.find((l) => l.startsWith(tag + ' '))?.slice(tag.length + 1) : lines.pop()
  if (line === undefined) throw new Error(`${path}: no ${tag} line in its output:\n${stdout.slice(-2000)}`)
  return JSON.parse(line)
}
