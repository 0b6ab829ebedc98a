/**
 * Hand-derived small cases for the ring64 steps of Qwen3 and Gemma 2/3 (issue 13), checked
 * against values computed by hand, independently of the forward pass: the per-head q/k norm with
 * γ (layout, norm and diagonal map together), attention soft-capping inside the softmax step,
 * final soft-capping, the tanh-GELU gate, the exact diagonal product, the public window mask.
 */
import { describe, expect, it } from 'vitest';
import { decodeFixed, encodeFixed, ringFromIntegers, type Ring } from '../../compute/ring64.js';
import { ringLinearInt } from '../../compute/ring-gemm.js';
import { defaultBackend } from '../../compute/onnx-backend.js';
import { Prg } from '../../crypto/prg.js';
import type { ModelConfig } from '../../model/model-description.js';
import { decodeChecked, rmsnormFixed, softmaxFixed } from '../../plaintext/fixed-point/fixed-point-elem.js';
import { gegluFixed } from '../../plaintext/fixed-point/fixed-point-gelu.js';
import { CAUSAL_MASK_RING } from '../../plaintext/fixed-point/ring-attention.js';
import { ringDiagonal } from '../../plaintext/fixed-point/ring-diagonal.js';
import { addWindowMask, capLogits } from '../../plaintext/fixed-point/ring-layer-variant.js';
import { qkHeadRows, qkHeads, qkNormSelect } from '../../plaintext/fixed-point/ring-qk-norm.js';

const decode = (x: Ring, e: number) => Array.from(decodeFixed(x, e));

describe('per-head q/k norm with γ (Qwen3, Gemma 3) in fixed point', () => {
  it('q = (3, 4), k = (1, −1), γ_q = (2, 0.5), γ_k = (1.5, −1): q′ = γ_q ⊙ q/√12.5, k′ = γ_k ⊙ k', async () => {
    const shape = { nHeads: 1, nKvHeads: 1, headDim: 2 };
    const inExp = 20;
    const out = 14;
    const gammaExp = 12;
    // qkv row: q (3, 4) | k (1, −1) | v (7, 7) (v is not normalised).
    const qkv = encodeFixed([3, 4, 1, -1, 7, 7], inExp);
    const heads = qkHeads(qkv, shape, 1);
    expect(decode(heads, inExp)).toEqual([3, 4, 1, -1]);
    const rows = qkHeadRows(shape, 1);
    const normed = rmsnormFixed(heads, rows, 2, 0, inExp, out);
    // diag(γ_q) over diag(γ_k), int16 at 2^gammaExp.
    const g = 2 ** gammaExp;
    const gamma = Int16Array.from([2 * g, 0, 0, 0.5 * g, 1.5 * g, 0, 0, -1 * g]);
    const scaled = await ringLinearInt(defaultBackend(), normed, rows, gamma, 4, 2);
    const { q, k } = qkNormSelect(scaled, shape, 1);
    const tol = 2 ** -(out - 2);
    decode(q, out + gammaExp).forEach((v, i) => expect(Math.abs(v - [1.697056274847714, 0.565685424949238][i]!)).toBeLessThan(tol));
    decode(k, out + gammaExp).forEach((v, i) => expect(Math.abs(v - [1.5, 1][i]!)).toBeLessThan(tol));
  });
});

describe('soft-capping', () => {
  it('attention: scores (2, 0) with cap 2, scale 1 → softmax(2·tanh 1, 0) = (0.82101, 0.17899); masked entries stay at probability 0', () => {
    const view = encodeFixed([2, 0, 1], 20);
    view[2] = BigInt.asUintN(64, view[2]! + CAUSAL_MASK_RING);
    const p = decode(softmaxFixed(view, 1, 3, 1, 20, 30, 2), 30);
    expect(Math.abs(p[0]! - 0.8210074960059999)).toBeLessThan(1e-8);
    expect(Math.abs(p[1]! - (1 - 0.8210074960059999))).toBeLessThan(1e-8);
    expect(p[2]).toBe(0);
    // Without the cap: softmax(2, 0) = e²/(e² + 1) = 0.880797.
    expect(Math.abs(decode(softmaxFixed(view, 1, 3, 1, 20, 30), 30)[0]! - 0.8807970779778823)).toBeLessThan(1e-8);
  });

  it('the cap acts on the scaled score: scale 0.5 on (4, 0) with cap 2 equals scale 1 on (2, 0)', () => {
    const a = softmaxFixed(encodeFixed([4, 0], 20), 1, 2, 0.5, 20, 30, 2);
    const b = softmaxFixed(encodeFixed([2, 0], 20), 1, 2, 1, 20, 30, 2);
    expect(decode(a, 30)).toEqual(decode(b, 30));
  });

  it('final: 30·tanh(15/30) = 13.8635147 on the user\'s logits, element-wise', () => {
    const config = { variant: { finalSoftcap: 30 } } as unknown as ModelConfig;
    const z = capLogits(config, Float64Array.of(15, -15, 0));
    expect(Math.abs(z[0]! - 13.863514717800292)).toBeLessThan(1e-12);
    expect(Math.abs(z[1]! + 13.863514717800292)).toBeLessThan(1e-12);
    expect(z[2]).toBe(0);
    expect(Array.from(capLogits({} as ModelConfig, Float64Array.of(15)))).toEqual([15]);
  });
});

describe('tanh-GELU gate (Gemma)', () => {
  it('gelu(1)·3 = 2.52357597, gelu(2)·0.5 = 0.97729885, gelu(−1)·1 = −0.15880801', () => {
    const out = decode(gegluFixed(encodeFixed([1, 2, -1, 3, 0.5, 1], 24), 3, 24, 30), 30);
    [2.5235759718248305, 0.9772988470438875, -0.15880800939172324].forEach((v, i) => expect(Math.abs(out[i]! - v)).toBeLessThan(1e-6));
  });
});

describe('the diagonal product (post-norm γ) is exact mod 2^64', () => {
  it('int16 and ring weights against BigInt', () => {
    const prg = Prg.fromSeed('diag-test', 1);
    const n = 7;
    const rows = 3;
    const y = new BigUint64Array(rows * n);
    for (let i = 0; i < y.length; i++) y[i] = BigInt(prg.below(2 ** 32)) * 4294967296n + BigInt(prg.below(2 ** 32));
    const w16 = Int16Array.from({ length: n }, (_, i) => [-32768, 32767, -1, 0, 1, 12345, -9876][i]!);
    const wRing = ringFromIntegers(Array.from({ length: n }, () => prg.below(2 ** 31) - 2 ** 30));
    wRing[0] = (1n << 64n) - 3n;
    for (const w of [w16, wRing]) {
      const z = ringDiagonal(w, y, rows);
      for (let i = 0; i < y.length; i++) expect(z[i]).toBe(BigInt.asUintN(64, y[i]! * BigInt.asUintN(64, BigInt(w[i % n]!))));
    }
  });
});

describe('sliding-window mask (public metadata)', () => {
  it('window 2 at positions 3, 4 (start 3, 5 keys): keys before p − 1 masked, the rest untouched', () => {
    const scores = new BigUint64Array(2 * 5);
    addWindowMask(scores, 1, 2, 5, 3, 2);
    const masked = decodeChecked(scores, 0, 'test', true);
    expect(Array.from(masked.slice(0, 5))).toEqual([-Infinity, -Infinity, 0, 0, 0]);
    expect(Array.from(masked.slice(5))).toEqual([-Infinity, -Infinity, -Infinity, 0, 0]);
  });
});
