import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { applyGamma, rmsNorm, rmsNormalize } from './rmsnorm.js';
import { RopeTable } from './rope.js';
import { silu, swiglu } from './silu.js';
import { softmaxInPlace, softmaxRows } from './softmax.js';

const random = (n: number, seed: number) => Prg.fromSeed('ops-test', seed).uniformArray(n, 3);

describe('RopeTable', () => {
  const table = new RopeTable(8, 64, 10000);

  it('rotates interleaved pairs (2i, 2i+1) by p·θ^(−2i/headDim)', () => {
    const x = random(16, 1); // two heads
    const rotated = x.slice();
    table.rotate(rotated, 0, 2, 7);
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 4; i++) {
        const angle = 7 * 10000 ** (-(2 * i) / 8);
        const [a, b] = [x[h * 8 + 2 * i]!, x[h * 8 + 2 * i + 1]!];
        expect(rotated[h * 8 + 2 * i]).toBeCloseTo(a * Math.cos(angle) - b * Math.sin(angle), 12);
        expect(rotated[h * 8 + 2 * i + 1]).toBeCloseTo(a * Math.sin(angle) + b * Math.cos(angle), 12);
      }
    }
  });

  it('is the identity at position 0 and undone by the inverse rotation', () => {
    const x = random(8, 2);
    const y = x.slice();
    table.rotate(y, 0, 1, 0);
    expect(Array.from(y)).toEqual(Array.from(x));
    table.rotate(y, 0, 1, 33);
    table.rotate(y, 0, 1, 33, -1);
    y.forEach((v, i) => expect(v).toBeCloseTo(x[i]!, 12));
  });

  it('makes q·k depend only on the distance between positions', () => {
    const q = random(8, 3);
    const k = random(8, 4);
    const dot = (m: number, n: number) => {
      const [a, b] = [q.slice(), k.slice()];
      table.rotate(a, 0, 1, m);
      table.rotate(b, 0, 1, n);
      return a.reduce((s, v, i) => s + v * b[i]!, 0);
    };
    expect(dot(10, 4)).toBeCloseTo(dot(30, 24), 10);
    expect(dot(10, 4)).not.toBeCloseTo(dot(10, 5), 3);
  });

  it('rotates each row at its own position and rejects bad arguments', () => {
    const rows = random(24, 5); // 3 rows x 1 head x 8
    const expected = rows.slice();
    for (let r = 0; r < 3; r++) table.rotate(expected, r * 8, 1, 5 + r);
    table.rotateRows(rows, 3, 1, 5);
    expect(Array.from(rows)).toEqual(Array.from(expected));
    expect(() => table.rotate(rows, 0, 1, 64)).toThrow(/position 64/);
    expect(() => new RopeTable(7, 4, 10000)).toThrow(/headDim/);
  });
});

describe('rmsnorm', () => {
  it('normalises each row to unit RMS (without γ), then applies γ', () => {
    const x = random(12, 6);
    const y = rmsNormalize(x, 3, 4, 0);
    for (let r = 0; r < 3; r++) {
      const ms = [0, 1, 2, 3].reduce((s, i) => s + y[r * 4 + i]! ** 2, 0) / 4;
      expect(ms).toBeCloseTo(1, 12);
    }
    const gamma = Float32Array.of(1, 2, 3, 4);
    const full = rmsNorm(x, 3, 4, 0, gamma);
    full.forEach((v, i) => expect(v).toBeCloseTo(y[i]! * gamma[i % 4]!, 12));
    expect(Array.from(applyGamma(y, 3, 4, gamma))).toEqual(Array.from(full));
    expect(rmsNormalize(Float32Array.of(3, 4), 1, 2, 1e-5)).toBeInstanceOf(Float32Array);
    expect(() => applyGamma(y, 3, 4, Float32Array.of(1))).toThrow(/gamma/);
  });

  it('commutes with permuting a row (what the row-wise Elem step relies on)', () => {
    const x = Float64Array.of(1, -2, 3, 5);
    const perm = [3, 0, 1, 2];
    const px = new Float64Array(4);
    x.forEach((v, i) => (px[perm[i]!] = v));
    const y = rmsNormalize(x, 1, 4, 1e-5);
    const py = rmsNormalize(px, 1, 4, 1e-5);
    y.forEach((v, i) => expect(py[perm[i]!]).toBe(v));
  });
});

describe('softmax and SwiGLU', () => {
  it('softmax sums to one, ignores shifts and does not overflow', () => {
    const x = Float64Array.of(1000, 1001, 1002, 5, 6, 7);
    softmaxRows(x, 2, 3);
    expect(x[0]! + x[1]! + x[2]!).toBeCloseTo(1, 12);
    for (let i = 0; i < 3; i++) expect(x[i]).toBeCloseTo(x[i + 3]!, 12);
    const part = Float32Array.of(9, 0, 0, 9);
    softmaxInPlace(part, 1, 2);
    expect(Array.from(part)).toEqual([9, 0.5, 0.5, 9]);
  });

  it('silu(x) = x·σ(x) and swiglu = silu(gate) ⊙ up', () => {
    expect(silu(0)).toBe(0);
    expect(silu(2)).toBeCloseTo(2 / (1 + Math.exp(-2)), 15);
    expect(silu(-1000)).toBeCloseTo(0, 12);
    const out = swiglu(Float64Array.of(1, -1), Float64Array.of(2, 3));
    expect(out[0]).toBeCloseTo(2 * silu(1), 15);
    expect(out[1]).toBeCloseTo(3 * silu(-1), 15);
    expect(() => swiglu(Float64Array.of(1), Float64Array.of(1, 2))).toThrow(/swiglu/);
  });
});
