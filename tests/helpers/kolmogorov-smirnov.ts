/**
 * The two-sample Kolmogorov–Smirnov test, for the view-indistinguishability tests: are two
 * samples (what P0 receives under secret a, and under secret b) drawn from one distribution?
 *
 * D = sup_x |F_a(x) − F_b(x)| over the empirical CDFs. Under H0 (one continuous distribution),
 * √n_e·D with n_e = n·m/(n + m) tends to the Kolmogorov distribution, whose survival function is
 * Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}; the p-value uses Stephens' small-sample correction
 * λ = (√n_e + 0.12 + 0.11/√n_e)·D (Numerical Recipes, §14.3).
 */

export interface KsResult {
  statistic: number;
  pValue: number;
  n: number;
  m: number;
}

/** Q_KS(λ), the probability that the Kolmogorov variable exceeds λ. */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda < 0) throw new RangeError('kolmogorovSurvival: negative argument');
  // Below 0.2 the alternating series converges slowly and Q is 1 to 1e-16 anyway.
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-18) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** sup |F_a − F_b| over the two empirical CDFs (ties handled by stepping past equal values). */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  if (x.length === 0 || y.length === 0) throw new RangeError('ksStatistic: empty sample');
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! === v) i++;
    while (j < y.length && y[j]! === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const statistic = ksStatistic(a, b);
  const ne = (a.length * b.length) / (a.length + b.length);
  const sq = Math.sqrt(ne);
  return { statistic, pValue: kolmogorovSurvival((sq + 0.12 + 0.11 / sq) * statistic), n: a.length, m: b.length };
}

/** The smallest D the test rejects at level α for samples of sizes n and m (asymptotic). */
export function ksCriticalValue(alpha: number, n: number, m: number): number {
  return Math.sqrt(-0.5 * Math.log(alpha / 2)) * Math.sqrt((n + m) / (n * m));
}
