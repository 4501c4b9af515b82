// The suite's results as one SVG picture: a panel per scenario, a group of horizontal bars per
// case (one bar per contender, in the contender's colour), on the scenario's primary metric.
// Bars are scaled per case (the longest bar is the case's best... or worst, for a metric where
// lower is better, which the panel title says), and every bar is labelled with its value.
import { formatCell, machineLine } from './report.js'

const WIDTH = 960
const LABEL_WIDTH = 250
const VALUE_WIDTH = 110
const BAR_HEIGHT = 14
const BAR_GAP = 3
const CASE_GAP = 12
const PANEL_GAP = 28
/** Colours by family, so that every variant of one library reads as that library. */
const FAMILIES = [
  ['rustocache', ['#d9480f', '#f08c00', '#e8590c', '#ffa94d']],
  ['bentocache', ['#1971c2', '#74c0fc']],
  ['lru-cache', ['#2f9e44', '#8ce99a']],
  ['cache-manager', ['#862e9c', '#da77f2']],
  ['', ['#495057', '#adb5bd', '#c2255c']],
]

/** A colour per contender: its family's, one shade per variant in order of appearance. */
function coloursOf(contenders) {
  const used = new Map()
  return new Map(
    contenders.map((name) => {
      const [family, shades] = FAMILIES.find(([prefix]) => name.startsWith(prefix))
      const n = used.get(family) ?? 0
      used.set(family, n + 1)
      return [name, shades[n % shades.length]]
    }),
  )
}

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])

/** The SVG text of a run (the JSON bench/run.js writes). */
export function chartOf(run) {
  const scenarios = run.scenarios.filter((s) => s.status === 'ok' && s.primary && s.rows.some((r) => typeof r.values[s.primary] === 'number'))
  const contenders = [...new Set(scenarios.flatMap((s) => s.rows.map((r) => r.contender)))]
  const colour = coloursOf(contenders)
  const parts = []
  let y = 20
  const text = (x, yy, content, attrs = '') => parts.push(`<text x="${x}" y="${yy}" ${attrs}>${escape(content)}</text>`)
  text(10, y, 'RustoCache benchmarks', 'font-size="18" font-weight="bold"')
  y += 18
  text(10, y, `${run.date.slice(0, 19).replace('T', ' ')} UTC, ${machineLine(run.machine)}`, 'font-size="12" fill="#495057"')
  y += 15
  text(10, y, `${run.command}${run.git?.commit ? `, commit ${run.git.commit.slice(0, 10)}${run.git.dirty ? ' (with changes)' : ''}` : ''}`, 'font-size="12" fill="#495057"')
  y += 18
  // Legend.
  let x = 10
  for (const name of contenders) {
    const width = 28 + name.length * 7
    if (x + width > WIDTH) {
      x = 10
      y += 16
    }
    parts.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colour.get(name)}"/>`)
    text(x + 16, y, name, 'font-size="12"')
    x += width
  }
  y += PANEL_GAP
  for (const scenario of scenarios) {
    const column = scenario.columns.find((c) => c.key === scenario.primary)
    text(10, y, `${scenario.title}: ${column.label}${column.better === 'lower' ? ' (lower is better)' : column.better === 'higher' ? ' (higher is better)' : ''}`, 'font-size="14" font-weight="bold"')
    y += 10
    const cases = [...new Set(scenario.rows.map((r) => r.case))]
    for (const name of cases) {
      const rows = scenario.rows.filter((r) => r.case === name && typeof r.values[column.key] === 'number')
      if (rows.length === 0) continue
      const max = Math.max(...rows.map((r) => r.values[column.key]))
      y += CASE_GAP
      text(10, y + BAR_HEIGHT - 3, name, 'font-size="12" font-weight="bold"')
      for (const row of rows) {
        y += BAR_HEIGHT + BAR_GAP
        const value = row.values[column.key]
        const length = max > 0 ? Math.max(1, ((WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20) * value) / max) : 1
        text(LABEL_WIDTH - 6, y + BAR_HEIGHT - 3, row.contender, 'font-size="11" text-anchor="end"')
        parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour.get(row.contender)}"><title>${escape(`${row.case} | ${row.contender}: ${formatCell(column, value)}`)}</title></rect>`)
        text(LABEL_WIDTH + length + 5, y + BAR_HEIGHT - 3, formatCell(column, value), 'font-size="11"')
      }
      y += BAR_HEIGHT
    }
    y += PANEL_GAP
  }
  const skipped = run.scenarios.filter((s) => s.status !== 'ok')
  for (const s of skipped) {
    text(10, y, `${s.title}: ${s.status} (${s.reason})`, 'font-size="12" fill="#868e96"')
    y += 16
  }
  const height = y + 10
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n` +
    parts.join('\n') +
    '\n</svg>\n'
  )
}
