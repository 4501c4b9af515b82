// Statistics of benchmark samples: summaries, percentiles, and the tests that tell a real
// change from noise when a run is compared with a baseline (bench/run.js --compare).
//
// Welch's t-test decides (it does not assume equal variances, and the samples of two runs on
// a busy machine seldom have them); the Mann-Whitney U test is reported beside it, as a check
// that does not assume normal samples. Both are two-sided. Pure functions, no dependencies:
// __test__/bench_stats.test.ts checks them against known values.

/** The arithmetic mean; NaN for no values. */
export function mean(values) {
  if (values.length === 0) return NaN
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/** The sample variance (n − 1 in the denominator); 0 for fewer than two values. */
export function variance(values) {
  if (values.length < 2) return 0
  const m = mean(values)
  let sum = 0
  for (const v of values) sum += (v - m) ** 2
  return sum / (values.length - 1)
}

/** The q-quantile (0 ≤ q ≤ 1) of `values`, linearly interpolated (as numpy's default). */
export function quantile(values, q) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low)
}

/** The median. */
export const median = (values) => quantile(values, 0.5)

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
export function logGamma(x) {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  x -= 1
  let a = c[0]
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += c[i] / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** The continued fraction of the incomplete beta function (Numerical Recipes' betacf). */
function betaContinuedFraction(a, b, x) {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x, a, b) {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b
}

/** P(|T| ≥ |t|) for Student's t with `df` degrees of freedom (df may be fractional). */
export function studentTTwoSided(t, df) {
  if (!Number.isFinite(t)) return 0
  return incompleteBeta(df / (df + t * t), df / 2, 0.5)
}

/** The standard normal CDF (Abramowitz and Stegun 7.1.26 through erf; error below 1.5e-7). */
export function normalCdf(z) {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf)
}

/**
 * Welch's unequal-variances t-test of the means of `a` and `b`: `{ t, df, p }`, p two-sided.
 * Two samples without any spread give p = 1 if equal, 0 if not; fewer than two values on
 * either side give p = NaN (no test possible).
 */
export function welchTTest(a, b) {
  if (a.length < 2 || b.length < 2) return { t: NaN, df: NaN, p: NaN }
  const va = variance(a) / a.length
  const vb = variance(b) / b.length
  const diff = mean(a) - mean(b)
  if (va + vb === 0) return { t: diff === 0 ? 0 : Infinity * Math.sign(diff), df: Infinity, p: diff === 0 ? 1 : 0 }
  const t = diff / Math.sqrt(va + vb)
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1))
  return { t, df, p: studentTTwoSided(t, df) }
}

/**
 * The Mann-Whitney U test: `{ u, z, p }`, where u is `a`'s U statistic and p two-sided, from
 * the normal approximation with a correction for ties and for continuity.
 */
export function mannWhitneyU(a, b) {
  const n1 = a.length
  const n2 = b.length
  if (n1 === 0 || n2 === 0) return { u: NaN, z: NaN, p: NaN }
  const all = [...a.map((v) => [v, 0]), ...b.map((v) => [v, 1])].sort((x, y) => x[0] - y[0])
  const ranks = new Float64Array(all.length)
  let tieTerm = 0
  for (let i = 0; i < all.length; ) {
    let j = i
    while (j + 1 < all.length && all[j + 1][0] === all[i][0]) j++
    const rank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) ranks[k] = rank
    const ties = j - i + 1
    tieTerm += ties ** 3 - ties
    i = j + 1
  }
  let rankSumA = 0
  all.forEach(([, group], i) => {
    if (group === 0) rankSumA += ranks[i]
  })
  const u = rankSumA - (n1 * (n1 + 1)) / 2
  const n = n1 + n2
  const mu = (n1 * n2) / 2
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))))
  if (sigma === 0) return { u, z: 0, p: 1 }
  const z = (Math.abs(u - mu) - 0.5) / sigma
  return { u, z: Math.max(0, z) * Math.sign(u - mu || 1), p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) }
}

/**
 * Compares a metric's samples in a run (`current`) with a baseline's. `better` says which
 * way is good ('higher' for ops/s, 'lower' for latencies). A change is flagged only when
 * Welch's p is below `alpha` AND the means differ by at least `minChange` (relative): with
 * many samples even a 0.5 % drift is "significant", and no one should be paged for it.
 * Exact metrics (one sample each, e.g. a hit ratio) are flagged when they differ by more
 * than `tolerance` (absolute).
 *
 * Returns `{ verdict: 'regressed' | 'improved' | 'unchanged' | 'untested', change, p, pMannWhitney }`.
 */
export function compareSamples(baseline, current, { better = 'higher', alpha = 0.01, minChange = 0.03, exact = false, tolerance = 0 } = {}) {
  const before = mean(baseline)
  const after = mean(current)
  const change = before === 0 ? (after === 0 ? 0 : Infinity) : (after - before) / Math.abs(before)
  const direction = (delta) => ((delta > 0) === (better === 'higher') ? 'improved' : 'regressed')
  if (exact) {
    const delta = after - before
    if (!Number.isFinite(delta)) return { verdict: 'untested', change, p: NaN, pMannWhitney: NaN }
    return { verdict: Math.abs(delta) > tolerance ? direction(delta) : 'unchanged', change, p: NaN, pMannWhitney: NaN }
  }
  const { p } = welchTTest(current, baseline)
  const { p: pMannWhitney } = mannWhitneyU(current, baseline)
  if (!Number.isFinite(p)) return { verdict: 'untested', change, p, pMannWhitney }
  const verdict = p < alpha && Math.abs(change) >= minChange ? direction(after - before) : 'unchanged'
  return { verdict, change, p, pMannWhitney }
}
