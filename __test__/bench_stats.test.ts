/**
 * The statistics behind `npm run bench -- --compare` (bench/lib/stats.js), on inputs whose
 * outcome is known: textbook t-distribution critical values, Wikipedia's worked Welch example,
 * and the normal approximation of Mann-Whitney U for fully separated samples.
 */
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain JS module of the benchmarks, without types
import * as stats from '../bench/lib/stats.js'

const { mean, variance, quantile, logGamma, incompleteBeta, studentTTwoSided, welchTTest, mannWhitneyU, compareSamples } = stats

describe('summaries', () => {
  it('mean, sample variance and interpolated quantiles', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5)
    expect(variance([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(32 / 7, 12)
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([10, 0, 5], 1)).toBe(10)
    expect(quantile([0, 10], 0.99)).toBeCloseTo(9.9, 12)
  })
})

describe('special functions', () => {
  it('ln Γ and the regularized incomplete beta', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 10)
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10)
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12)
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12)
  })

  it("Student's t: the tables' two-sided critical values", () => {
    expect(studentTTwoSided(12.706, 1)).toBeCloseTo(0.05, 4)
    expect(studentTTwoSided(2.571, 5)).toBeCloseTo(0.05, 4)
    expect(studentTTwoSided(4.032, 5)).toBeCloseTo(0.01, 4)
    expect(studentTTwoSided(2.228, 10)).toBeCloseTo(0.05, 4)
    expect(studentTTwoSided(0, 7)).toBeCloseTo(1, 12)
  })
})

describe("Welch's t-test", () => {
  // Wikipedia prints the degrees of freedom truncated, as 24.9; Welch-Satterthwaite gives 24.99.
  it("gives Wikipedia's worked example: t = -2.46, df = 24.99, p = 0.021", () => {
    const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    const { t, df, p } = welchTTest(a1, a2)
    expect(t).toBeCloseTo(-2.46, 2)
    expect(df).toBeCloseTo(24.99, 2)
    expect(p).toBeCloseTo(0.021, 3)
  })

  it('has no test below two samples a side, and handles samples without spread', () => {
    expect(welchTTest([1], [1, 2]).p).toBeNaN()
    expect(welchTTest([3, 3], [3, 3]).p).toBe(1)
    expect(welchTTest([3, 3], [4, 4]).p).toBe(0)
  })
})

describe('Mann-Whitney U', () => {
  it('fully separated 5 vs 5: U = 0, p = 0.0122 (normal approximation, continuity-corrected)', () => {
    const { u, p } = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    expect(u).toBe(0)
    expect(p).toBeCloseTo(0.0122, 3)
  })

  it('identical samples: p = 1', () => {
    expect(mannWhitneyU([1, 2, 3], [1, 2, 3]).p).toBeCloseTo(1, 6)
  })
})

describe('compareSamples: flags only changes beyond the noise', () => {
  const noisy = [100, 103, 98, 101, 99, 102, 97, 100]
  it('the same distribution again is unchanged', () => {
    expect(compareSamples(noisy, [101, 99, 100, 102, 98, 100, 103, 97]).verdict).toBe('unchanged')
  })

  it('a clear drop of ops/s is a regression, a clear rise an improvement', () => {
    const lower = noisy.map((v) => v * 0.8)
    expect(compareSamples(noisy, lower, { better: 'higher' })).toMatchObject({ verdict: 'regressed' })
    expect(compareSamples(noisy, lower, { better: 'higher' }).change).toBeCloseTo(-0.2, 6)
    expect(compareSamples(lower, noisy, { better: 'higher' }).verdict).toBe('improved')
    // For a latency, lower is better.
    expect(compareSamples(noisy, lower, { better: 'lower' }).verdict).toBe('improved')
  })

  it('a significant change smaller than minChange is not flagged', () => {
    const tight = [100, 100.1, 99.9, 100, 100.1, 99.9]
    const shifted = tight.map((v) => v * 1.01)
    expect(compareSamples(tight, shifted).p).toBeLessThan(0.01)
    expect(compareSamples(tight, shifted, { minChange: 0.03 }).verdict).toBe('unchanged')
    expect(compareSamples(tight, shifted, { minChange: 0.005 }).verdict).toBe('improved')
  })

  it('a large but noisy change with few samples is not flagged', () => {
    expect(compareSamples([100, 60, 140], [80, 40, 130]).verdict).toBe('unchanged')
  })

  it('exact metrics are compared with a tolerance, and one sample is untested otherwise', () => {
    expect(compareSamples([45.2], [44.5], { exact: true, tolerance: 0.5 }).verdict).toBe('regressed')
    expect(compareSamples([45.2], [44.9], { exact: true, tolerance: 0.5 }).verdict).toBe('unchanged')
    expect(compareSamples([45.2], [44.5]).verdict).toBe('untested')
  })
})
