/**
 * The new operations on small cases derived by hand (closed forms written out here, not calls
 * into the code under test): RoPE scaling tables at chosen positions with the real parameters
 * of Llama 3.1 and gpt-oss, per-head q/k norm, soft-capping, tanh-GELU and MoE routing.
 */
import { describe, expect, it } from 'vitest';
import { ropeFrequencies, type RopeScaling } from '../../model/rope-scaling.js';
import { routeToken } from '../../plaintext/moe-ffn.js';
import { geglu, geluTanh } from '../../plaintext/ops/gelu.js';
import { rmsNorm } from '../../plaintext/ops/rmsnorm.js';
import { RopeTable } from '../../plaintext/ops/rope.js';
import { softcap, softcapInPlace } from '../../plaintext/ops/softcap.js';

describe('RoPE scaling tables', () => {
  it('llama3 (Llama 3.1: θ 500000, head 128, factor 8, low 1, high 4, original 8192)', () => {
    const scaling = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } as const;
    const table = new RopeTable(128, 4097, 500000, scaling);
    const plain = (i: number) => 500000 ** (-i / 64);
    // Wavelength 2π/f_i < 8192/4 = 2048 ⇔ 500000^(i/64) < 2048/(2π) ⇔ i ≤ 28: kept.
    // Wavelength > 8192 ⇔ i ≥ 35: divided by 8. Between: blended with s = (8192/λ − 1)/3.
    const expected = (i: number) => {
      if (i <= 28) return plain(i);
      if (i >= 35) return plain(i) / 8;
      const s = (8192 / ((2 * Math.PI) / plain(i)) - 1) / 3;
      return (1 - s) * (plain(i) / 8) + s * plain(i);
    };
    const s30 = (8192 * plain(30)) / (2 * Math.PI);
    expect(s30).toBeGreaterThan(1);
    expect(s30).toBeLessThan(4);
    for (const p of [1, 1000, 4096]) {
      for (const i of [0, 28, 29, 30, 34, 35, 63]) {
        expect(table.cos[p * 64 + i]).toBeCloseTo(Math.cos(p * expected(i)), 12);
        expect(table.sin[p * 64 + i]).toBeCloseTo(Math.sin(p * expected(i)), 12);
      }
    }
    // The scaling matters at long range: pair 63 at position 4096 turns 8 times less.
    expect(Math.abs(Math.sin(4096 * plain(63)) - table.sin[4096 * 64 + 63]!)).toBeGreaterThan(1e-3);
  });

  it('yarn (gpt-oss: θ 150000, head 64, factor 32, β 32/1, original 4096, truncate false)', () => {
    const scaling = { type: 'yarn', factor: 32, originalMaxPositions: 4096, betaFast: 32, betaSlow: 1, attentionFactor: 0.1 * Math.log(32) + 1, truncate: false } as const;
    // Correction range: dims d(r) = 64·ln(4096/(2πr)) / (2·ln 150000): low = d(32) ≈ 8.09, high = d(1) ≈ 17.40.
    const low = (64 * Math.log(4096 / (32 * 2 * Math.PI))) / (2 * Math.log(150000));
    const high = (64 * Math.log(4096 / (2 * Math.PI))) / (2 * Math.log(150000));
    expect(low).toBeCloseTo(8.09, 2);
    expect(high).toBeCloseTo(17.4, 2);
    const { inverse, attentionFactor } = ropeFrequencies(64, 150000, scaling, 0);
    expect(attentionFactor).toBeCloseTo(1.34657, 5);
    const plain = (i: number) => 150000 ** (-i / 32);
    expect(inverse[0]).toBe(1); // below the range: extrapolated (kept)
    expect(inverse[8]).toBeCloseTo(plain(8), 15);
    expect(inverse[18]).toBeCloseTo(plain(18) / 32, 15); // above: interpolated
    expect(inverse[31]).toBeCloseTo(plain(31) / 32, 15);
    const ramp = (12 - low) / (high - low);
    expect(inverse[12]).toBeCloseTo((plain(12) / 32) * ramp + plain(12) * (1 - ramp), 15);
    // cos/sin carry the attention factor: at position 0 every cos is 1.34657.
    const table = new RopeTable(64, 8, 150000, scaling);
    expect(table.cos[0]).toBeCloseTo(1.34657, 5);
    expect(table.cos[5 * 32 + 20]).toBeCloseTo(1.34657 * Math.cos((5 * plain(20)) / 32), 5);
  });

  it('linear (factor 4): position p turns like p/4', () => {
    const table = new RopeTable(8, 64, 10000, { type: 'linear', factor: 4 });
    for (const i of [0, 1, 3]) expect(table.sin[40 * 4 + i]).toBeCloseTo(Math.sin((40 / 4) * 10000 ** (-i / 4)), 14);
  });

  it('dynamic (factor 2, original 16): plain up to position 15, then base θ·(2L/16 − 1)^(d/(d−2)) with L = p + 1', () => {
    const table = new RopeTable(8, 32, 10000, { type: 'dynamic', factor: 2, originalMaxPositions: 16 });
    expect(table.sin[15 * 4 + 2]).toBeCloseTo(Math.sin(15 * 10000 ** (-2 / 4)), 14);
    const base = 10000 * ((2 * 24) / 16 - 1) ** (8 / 6); // position 23: L = 24
    expect(table.sin[23 * 4 + 2]).toBeCloseTo(Math.sin(23 * base ** (-2 / 4)), 14);
    expect(table.sin[23 * 4 + 0]).toBeCloseTo(Math.sin(23), 14); // pair 0 has frequency 1 at any base
  });
});

describe('longrope and partial rotary (Phi-3.5, Phi-4-mini)', () => {
  const longrope: RopeScaling = { type: 'longrope', shortFactor: [1, 2], longFactor: [4, 8], originalMaxPositions: 4, attentionFactor: Math.sqrt(1 + Math.log(8) / Math.log(4)) };
  it('short factors up to position 3 (L = p + 1 ≤ 4), long from position 4; cos/sin × √(1 + ln 8 / ln 4)', () => {
    // rotary width 4 of a head of 6: pairs 0, 1 rotate with θ^0 = 1 and θ^(−1/2) = 1/100 (θ = 10000); pair 2 passes.
    const table = new RopeTable(6, 8, 10000, longrope, 4);
    const a = Math.sqrt(1 + Math.log(8) / Math.log(4));
    expect(a).toBeCloseTo(1.5811, 4);
    expect(table.sin[3 * 3 + 0]).toBeCloseTo(a * Math.sin(3 / 1), 14);
    expect(table.sin[3 * 3 + 1]).toBeCloseTo(a * Math.sin(3 / 100 / 2), 14);
    expect(table.sin[5 * 3 + 0]).toBeCloseTo(a * Math.sin(5 / 4), 14);
    expect(table.sin[5 * 3 + 1]).toBeCloseTo(a * Math.sin(5 / 100 / 8), 14);
    for (const p of [0, 3, 5]) {
      expect(table.cos[p * 3 + 2]).toBe(1);
      expect(table.sin[p * 3 + 2]).toBe(0);
    }
  });

  it('the partial RoPE layout moves only the rotating rows: head rows [a0 a1 a2 a3 | p0 p1] (half-split a0,a1 | a2,a3) → [a0 a2 a1 a3 p0 p1]', async () => {
    const { halfSplitToInterleaved } = await import('../../model/huggingface/rope-layout.js');
    const rows = Float32Array.from([10, 11, 12, 13, 14, 15]);
    expect(Array.from(halfSplitToInterleaved(rows, 1, 6, 1, 4))).toEqual([10, 12, 11, 13, 14, 15]);
  });
});

describe('per-head q/k RMSNorm (Qwen3, Gemma 3)', () => {
  it('normalises each head on its own: head [3, 4, 0, 0] → [1.2, 1.6, 0, 0]·γ, head [1, 1, 1, 1] → γ', () => {
    const q = Float32Array.from([3, 4, 0, 0, 1, 1, 1, 1]);
    const gamma = Float32Array.from([1, 2, 1, 0.5]);
    // rms([3,4,0,0]) = √(25/4) = 2.5 (ε 0).
    const out = rmsNorm(q, 2, 4, 0, gamma);
    expect(Array.from(out)).toEqual([3 / 2.5, (4 / 2.5) * 2, 0, 0, 1, 2, 1, 0.5].map(Math.fround));
  });
});

describe('soft-capping (Gemma 2)', () => {
  it('cap·tanh(z/cap): 50 → 50·tanh 1 = 38.0797…, −3 at cap 30 → 30·tanh(−0.1) = −30·0.0996680 = −2.99004…, bounded by the cap', () => {
    expect(softcap(50, 50)).toBeCloseTo(38.07970779778825, 12);
    expect(softcap(-3, 30)).toBeCloseTo(-30 * 0.09966799462495582, 12);
    const x = Float64Array.from([0, 1e6, -1e6, 1]);
    softcapInPlace(x, 30);
    expect(Array.from(x)).toEqual([0, 30, -30, 30 * Math.tanh(1 / 30)]);
  });
});

describe('tanh-GELU (gelu_pytorch_tanh)', () => {
  it('gelu(1) = ½(1 + tanh(√(2/π)·1.044715)) = 0.841192, gelu(−1) = −0.158808, gelu(0) = 0, gated form', () => {
    expect(geluTanh(1)).toBeCloseTo(0.8411919906082768, 12);
    expect(geluTanh(-1)).toBeCloseTo(-0.15880800939172324, 12);
    expect(geluTanh(0)).toBe(0);
    expect(geluTanh(3)).toBeCloseTo(2.9963627, 6);
    expect(Array.from(geglu(Float64Array.from([1, -1]), Float64Array.from([2, 3])))).toEqual([2 * geluTanh(1), 3 * geluTanh(-1)]);
  });
});

describe('MoE routing', () => {
  it('softmax over the router logits, top-k, renormalised: logits [0, ln 3, ln 2, −5] → experts 1, 2 with 0.6, 0.4', () => {
    const route = routeToken([0, Math.log(3), Math.log(2), -5], 2, true);
    expect(route.experts).toEqual([1, 2]);
    expect(route.weights[0]).toBeCloseTo(0.6, 12);
    expect(route.weights[1]).toBeCloseTo(0.4, 12);
    // Without renormalisation (Qwen3-MoE norm_topk_prob false): p = [1, 3, 2, e^−5] / (6 + e^−5).
    const raw = routeToken([0, Math.log(3), Math.log(2), -5], 2, false);
    expect(raw.weights[0]).toBeCloseTo(3 / (6 + Math.exp(-5)), 12);
    // Ties go to the lower expert index.
    expect(routeToken([1, 2, 2, 2], 2, true).experts).toEqual([1, 2]);
  });
});

describe('gpt-oss steps', () => {
  it('MXFP4: byte 0x2F with scale 128 → low nibble 0xF (−6)·2, high nibble 0x2 (1.0)·2; scale 125 quarters', async () => {
    const { dequantizeMxfp4 } = await import('../../model/huggingface/mxfp4.js');
    const blocks = new Uint8Array(32);
    blocks[0] = 0x2f; // codes 15 (−6.0) then 2 (+1.0)
    blocks[16] = 0x97; // second row: codes 7 (+6.0) then 9 (−0.5)
    const out = dequantizeMxfp4(blocks, Uint8Array.from([128, 125]), 2, 1);
    expect(out.length).toBe(64);
    expect([out[0], out[1], out[2]]).toEqual([-12, 2, 0]);
    expect([out[32], out[33]]).toEqual([6 / 4, -0.5 / 4]);
  });

  it('attention sink: scores [0, 0] with sink ln 2 → each 1/4 (e^0 / (1 + 1 + 2))', async () => {
    const { softmaxWithSinkInPlace } = await import('../../plaintext/ops/attention-sink.js');
    const x = Float64Array.from([9, 0, 0]);
    softmaxWithSinkInPlace(x, 1, 2, Math.log(2));
    expect(x[0]).toBe(9);
    expect(x[1]).toBeCloseTo(0.25, 15);
    expect(x[2]).toBeCloseTo(0.25, 15);
  });

  it('clamped SwiGLU: (clamp(u) + 1)·g·σ(1.702·g), g ≤ 7, |u| ≤ 7', async () => {
    const { clampedSwiglu } = await import('../../plaintext/moe-ffn.js');
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    const out = clampedSwiglu(Float32Array.from([1, 10, -2]), Float32Array.from([0.5, 20, -9]), 7);
    expect(out[0]).toBeCloseTo(1.5 * sigmoid(1.702), 6);
    expect(out[1]).toBeCloseTo(8 * 7 * sigmoid(1.702 * 7), 5); // gate clamped to 7, up to 7
    expect(out[2]).toBeCloseTo(-6 * -2 * sigmoid(-3.404), 6); // up clamped to −7: (−7 + 1)
  });
});
