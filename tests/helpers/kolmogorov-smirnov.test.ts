import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { kolmogorovSurvival, ksCriticalValue, ksStatistic, ksTwoSample } from './kolmogorov-smirnov.js';

describe('two-sample Kolmogorov–Smirnov', () => {
  it('matches the tabulated Kolmogorov critical values', () => {
    // c(α) with Q(c) = α: 1.2239 (0.10), 1.3581 (0.05), 1.6276 (0.01), 1.9495 (0.001).
    expect(kolmogorovSurvival(1.2239)).toBeCloseTo(0.1, 4);
    expect(kolmogorovSurvival(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovSurvival(1.6276)).toBeCloseTo(0.01, 4);
    expect(kolmogorovSurvival(1.9495)).toBeCloseTo(0.001, 5);
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(ksCriticalValue(0.001, 1000, 1000)).toBeCloseTo(1.9495 * Math.sqrt(2 / 1000), 3);
  });

  it('computes D exactly on small samples, ties included', () => {
    expect(ksStatistic([1, 2, 3], [2.5, 3.5, 4.5])).toBeCloseTo(2 / 3, 12);
    expect(ksStatistic([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(ksStatistic([0, 0, 1, 1], [0, 1, 1, 1])).toBeCloseTo(0.25, 12);
    expect(ksStatistic([1, 2], [3, 4])).toBe(1);
  });

  it('does not reject one distribution, and rejects a shift of a tenth of the width', () => {
    const prg = Prg.fromSeed('ks-test', 1);
    const a = prg.uniformArray(2000, 1);
    const b = prg.uniformArray(2000, 1);
    expect(ksTwoSample(a, b).pValue).toBeGreaterThan(0.001);
    const shifted = Float64Array.from(b, (v) => v + 0.2);
    const r = ksTwoSample(a, shifted);
    expect(r.statistic).toBeGreaterThan(0.08);
    expect(r.pValue).toBeLessThan(1e-6);
  });
});
