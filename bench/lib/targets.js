// The performance targets of the project's issues (issue 5's, and issue 3's tiered ones),
// checked against one run's results: what each asks, what the run measured, and whether it
// is met. Used by scripts/bench_readme.mjs, so the README states each target's standing from
// the same JSON as the tables, never typed by hand. A target whose scenario did not run (or
// was skipped) reads "not measured".

const ratio = (x) => `${x.toFixed(2)}x`
const ms = (x) => `${x.toFixed(1)} ms`

/** The values of `contender`'s row in case `kase` of scenario `id`, or undefined. */
function valuesOf(run, id, kase, contender) {
  const scenario = run.scenarios.find((s) => s.id === id && s.status === 'ok')
  return scenario?.rows.find((row) => row.case === kase && row.contender === contender)?.values
}

/** A target on rustocache's `key` over a peer's, in `run`: met when that ratio passes `test`. */
function versus(run, { target, id, kase, ours, theirs, key, test }) {
  const a = valuesOf(run, id, kase, ours)?.[key]
  const b = valuesOf(run, id, kase, theirs)?.[key]
  if (a === undefined || b === undefined) return { target, measured: 'not measured', met: undefined }
  return { target, measured: `${ratio(a / b)} ${theirs}'s`, met: test(a / b) }
}

/** Every target with its standing in `run`. */
export function targetsOf(run) {
  const rows = []
  const l1 = (op, ours, theirs, atLeast) =>
    versus(run, { target: `L1 \`${op}\` hit, ${ours}: ≥ ${atLeast}× ${theirs}'s ops/s`, id: 'l1', kase: op, ours, theirs, key: 'opsPerSec', test: (r) => r >= atLeast })
  rows.push(l1('get', 'rustocache (serialize:false)', 'bentocache (serialize:false)', 30))
  rows.push(l1('getOrSet', 'rustocache (serialize:false)', 'bentocache (serialize:false)', 30))
  rows.push(l1('get', 'rustocache (serialize:false)', 'lru-cache', 0.5))
  rows.push(l1('get', 'rustocache', 'bentocache', 15))
  rows.push(l1('getOrSet', 'rustocache', 'bentocache', 15))

  const hitRatio = run.scenarios.find((s) => s.id === 'hit-ratio' && s.status === 'ok')
  if (hitRatio) {
    const ours = hitRatio.rows.filter((row) => row.contender === 'rustocache' && row.values.targets)
    const missed = ours.filter((row) => /NOT MET/i.test(row.values.targets))
    rows.push({
      target: 'Hit ratio: ≥ LRU on every trace and capacity; Zipf within 3 points of ideal; LIRS loop ≥ LRU + 10; OLTP @ 2048 ≥ 45.9 %',
      measured: missed.length === 0 ? `all ${ours.length} cases met` : `${ours.length - missed.length} of ${ours.length} met; not: ${missed.map((row) => `${row.case} (${row.values.vsLru >= 0 ? '+' : ''}${row.values.vsLru.toFixed(2)} points)`).join(', ')}`,
      met: missed.length === 0,
    })
  } else rows.push({ target: 'Hit ratio (traces and Zipf)', measured: 'not measured', met: undefined })

  const perEntry = 'bytes per entry (1,000,000 entries)'
  const memory = (target, key, test) => {
    const a = valuesOf(run, 'memory', perEntry, 'rustocache')?.[key]
    const b = valuesOf(run, 'memory', perEntry, 'lru-cache')?.[key]
    if (a === undefined || b === undefined) return { target, measured: 'not measured', met: undefined }
    return { target, measured: `${Number.isInteger(a) ? a : a.toFixed(1)} against ${Number.isInteger(b) ? b : b.toFixed(1)} (lru-cache)`, met: test(a, b) }
  }
  rows.push(memory('1M entries: V8 heap growth ≤ 10 % of lru-cache\'s (B/entry)', 'heapB', (a, b) => a <= 0.1 * b))
  rows.push(memory('1M entries: a full GC ≤ 1/10 of lru-cache\'s time (ms)', 'fullGcMs', (a, b) => a <= b / 10))
  rows.push(memory('1M entries: RSS bytes per entry ≤ lru-cache\'s', 'rssB', (a, b) => a <= b))

  const herd = valuesOf(run, 'herd', '10,000 calls on 1 key', 'rustocache')
  rows.push(
    herd
      ? { target: 'Thundering herd, 10,000 callers on one key: p99 over the factory\'s 50 ms ≤ 5 ms', measured: ms(herd.overheadMs), met: herd.overheadMs <= 5 }
      : { target: 'Thundering herd, 10,000 callers on one key', measured: 'not measured', met: undefined },
  )

  const checked = (id, target) => {
    const scenario = run.scenarios.find((s) => s.id === id)
    const ok = scenario?.status === 'ok'
    return { target, measured: ok ? 'checked in every run of the scenario' : scenario ? `the scenario ${scenario.status}` : 'not measured', met: scenario ? ok : undefined }
  }
  rows.push(checked('herd', 'Thundering herd: exactly one factory run per key, every value right'))
  rows.push(checked('pressure', 'Memory pressure (10 MB values, 100 MB maxSize): no crash, RSS bounded'))
  rows.push(checked('adversarial', 'LRU killer and the other adversarial replays: no wrong value, no crash'))

  for (const kase of ['get.l2', 'get.l1miss']) {
    rows.push(versus(run, { target: `L2-hit \`${kase}\`, 64 in flight: ≥ 3× bentocache's ops/s (issue 3)`, id: 'l2', kase, ours: 'rustocache', theirs: 'bentocache', key: 'inFlightOpsPerSec', test: (r) => r >= 3 }))
    rows.push(versus(run, { target: `L2-hit \`${kase}\`, sequential: p50 ≤ 0.5× bentocache's (issue 3)`, id: 'l2', kase, ours: 'rustocache', theirs: 'bentocache', key: 'p50Us', test: (r) => r <= 0.5 }))
  }
  return rows
}

/** The Markdown table of {@link targetsOf}. */
export function targetsMarkdown(run) {
  const verdict = (met) => (met === undefined ? '–' : met ? 'met' : '**not met**')
  const lines = ['| target | measured | |', '|---|---|---|']
  for (const { target, measured, met } of targetsOf(run)) lines.push(`| ${target} | ${measured} | ${verdict(met)} |`)
  return lines
}
