/**
 * The fixed-point router gate and the gate combination against values derived by hand (not by
 * the forward pass), and the permutation invariance the private router Elem relies on.
 */
import { describe, expect, it } from 'vitest';
import { decodeFixed, encodeFixed, ringFromIntegers, ringToNumbers } from '../../compute/ring64.js';
import { gateCombine, routerGateFixed } from './ring-moe.js';

const EXP = 30;
const gates = (logits: number[], topK: number, normalizeTopK: boolean, rows = 1) =>
  Array.from(decodeFixed(routerGateFixed(encodeFixed(logits, EXP), { rows, nExperts: logits.length / rows, topK, normalizeTopK, inExp: EXP, outExp: EXP }), EXP));

describe('router gate (softmax + top-k, zero outside)', () => {
  it('top-2 of [1, 3, 2, 0] renormalised: e^0 / (1 + e^-1) and e^-1 / (1 + e^-1) on experts 1 and 2', () => {
    const g = gates([1, 3, 2, 0], 2, true);
    const a = 1 / (1 + Math.exp(-1)); // 0.7310585786
    expect(g[0]).toBe(0);
    expect(g[3]).toBe(0);
    expect(g[1]).toBeCloseTo(0.7310585786, 8);
    expect(g[2]).toBeCloseTo(1 - a, 8);
  });

  it('top-2 of [1, 3, 2, 0] without renormalisation: the full softmax values e^3 / Σ, e^2 / Σ', () => {
    const g = gates([1, 3, 2, 0], 2, false);
    const sum = Math.exp(0) + Math.exp(1) + Math.exp(2) + Math.exp(3); // 30.1928748
    expect(g[0]).toBe(0);
    expect(g[3]).toBe(0);
    expect(g[1]).toBeCloseTo(Math.exp(3) / sum, 8); // 0.6652409558
    expect(g[2]).toBeCloseTo(Math.exp(2) / sum, 8); // 0.2447284711
  });

  it('an exact tie at the top-k boundary selects every tied expert (no index order to break it on a permuted view)', () => {
    const g = gates([2, 2, 2, 0], 2, true);
    for (const e of [0, 1, 2]) expect(g[e]).toBeCloseTo(1 / 3, 8);
    expect(g[3]).toBe(0);
  });

  it('rows are independent, and the gate commutes with any permutation of a row bit for bit', () => {
    const logits = [0.3, -1.25, 2.5, 0.75, 1.5, -0.5, 0.125, 2.0, -2, 0.6, 0.61, 0.59, 1.1, -0.3, 0.9, 0.2];
    const whole = routerGateFixed(encodeFixed(logits, EXP), { rows: 2, nExperts: 8, topK: 3, normalizeTopK: true, inExp: EXP, outExp: 20 });
    const perm = [5, 2, 7, 0, 3, 6, 1, 4];
    for (let r = 0; r < 2; r++) {
      const row = logits.slice(8 * r, 8 * r + 8);
      const permuted = routerGateFixed(encodeFixed(perm.map((p) => row[p]!), EXP), { rows: 1, nExperts: 8, topK: 3, normalizeTopK: true, inExp: EXP, outExp: 20 });
      perm.forEach((p, i) => expect(permuted[i]).toBe(whole[8 * r + p]));
      expect(Array.from(whole.subarray(8 * r, 8 * r + 8)).filter((v) => v !== 0n)).toHaveLength(3);
    }
  });
});

describe('gate combination Σ_e g_e · y_e mod 2^64', () => {
  it('matches a BigInt evaluation on small integers, on negatives and on full-width ring elements', () => {
    // rows 2, experts 3, dim 2; row 0: g = [2, 0, -1], y = [[1, 2], [7, 7], [3, -4]] → [2·1 − 3, 2·2 + 4] = [-1, 8]
    const g = ringFromIntegers([2, 0, -1, 1, 1, 1]);
    const y = ringFromIntegers([1, 2, 7, 7, 3, -4, 5, 6, -1, -1, 10, 20]);
    expect(Array.from(ringToNumbers(gateCombine(g, y, 2, 3, 2)))).toEqual([-1, 8, 14, 25]);
    const big = (seed: bigint) => BigUint64Array.from({ length: 12 }, (_, i) => BigInt.asUintN(64, (seed + BigInt(i)) * 0x9e3779b97f4a7c15n));
    const G = big(3n).subarray(0, 6);
    const Y = big(11n);
    const z = gateCombine(G, Y, 2, 3, 2);
    for (let r = 0; r < 2; r++) {
      for (let d = 0; d < 2; d++) {
        let want = 0n;
        for (let e = 0; e < 3; e++) want += G[r * 3 + e]! * Y[(r * 3 + e) * 2 + d]!;
        expect(z[r * 2 + d]).toBe(BigInt.asUintN(64, want));
      }
    }
  });
});
