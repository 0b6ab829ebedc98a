/**
 * f16 / bf16 conversions against independent references: every one of the 65,536 bit
 * patterns decodes to the IEEE value and encodes back, and encoding random float32 values
 * picks the nearest representable value (ties to even), found by binary search.
 */
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../model/huggingface/half-float.js';
import { Prg } from '../../crypto/prg.js';

/** IEEE binary16 decoded straight from its definition, in float64. */
function referenceF16(h: number): number {
  const s = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * 2 ** (e - 15) * (1 + m / 1024);
}

/** All finite non-negative f16 values, ascending (bit patterns 0..0x7bff are monotonic). */
const positiveF16 = Array.from({ length: 0x7c00 }, (_, h) => referenceF16(h));

/** Nearest f16 bit pattern to x by search; ties go to the even pattern; beyond the max half-ulp → inf. */
function nearestF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const max = positiveF16[0x7bff]!;
  if (a >= max + 2 ** (15 - 10 - 1)) return sign | 0x7c00; // 65520 and above round to inf
  let lo = 0;
  let hi = 0x7bff;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (positiveF16[mid]! <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - positiveF16[lo]!;
  const dHi = positiveF16[hi]! - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

function f32(x: number): number {
  return Math.fround(x);
}

describe('binary16', () => {
  it('decodes every bit pattern exactly (subnormals, ±0, ±inf, NaN) and encodes it back', () => {
    for (let h = 0; h < 65536; h++) {
      const value = f16BitsToF32(h);
      const expected = referenceF16(h);
      if (Number.isNaN(expected)) {
        expect(Number.isNaN(value)).toBe(true);
        expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(value)))).toBe(true);
        continue;
      }
      if (value !== expected || !Object.is(value, expected)) expect.fail(`f16 ${h.toString(16)}: ${value} != ${expected}`);
      if (f32ToF16Bits(value) !== h) expect.fail(`f16 ${h.toString(16)} re-encodes as ${f32ToF16Bits(value).toString(16)}`);
    }
  });

  it('rounds float32 to the nearest f16, ties to even, overflow to inf, underflow to ±0', () => {
    const prg = Prg.fromSeed('test-half-float', 1);
    const samples: number[] = [];
    // Random magnitudes across the whole f16 range and beyond, both signs.
    for (let i = 0; i < 50_000; i++) samples.push(f32((prg.uniform() < 0.5 ? -1 : 1) * 2 ** (prg.uniform() * 46 - 28) * (1 + prg.uniform())));
    // Exact midpoints between neighbours (ties), normal and subnormal.
    for (const h of [0, 1, 2, 3, 0x3ff, 0x400, 0x3c00, 0x3c01, 0x7bfe]) samples.push(f32((referenceF16(h) + referenceF16(h + 1)) / 2));
    samples.push(65504, 65519.99, 65520, 1e9, 2 ** -25, 2 ** -26, f32(2 ** -25 * 1.0000001), -0, 0);
    for (const x of samples) {
      const got = f32ToF16Bits(x);
      const want = nearestF16(x);
      if (got !== want) expect.fail(`f32ToF16Bits(${x}) = ${got.toString(16)}, nearest is ${want.toString(16)}`);
    }
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });
});

describe('bfloat16', () => {
  it('decodes every bit pattern as the top half of a float32 and encodes it back', () => {
    const view = new DataView(new ArrayBuffer(4));
    for (let b = 0; b < 65536; b++) {
      view.setUint32(0, b << 16 >>> 0);
      const expected = view.getFloat32(0);
      const value = bf16BitsToF32(b);
      if (Number.isNaN(expected)) {
        expect(Number.isNaN(value)).toBe(true);
        expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(value)))).toBe(true);
      } else {
        if (!Object.is(value, expected)) expect.fail(`bf16 ${b.toString(16)}: ${value} != ${expected}`);
        if (f32ToBf16Bits(value) !== b) expect.fail(`bf16 ${b.toString(16)} re-encodes as ${f32ToBf16Bits(value).toString(16)}`);
      }
    }
  });

  it('rounds to nearest, ties to even', () => {
    const view = new DataView(new ArrayBuffer(4));
    const fromBits = (bits: number): number => {
      view.setUint32(0, bits >>> 0);
      return view.getFloat32(0);
    };
    expect(f32ToBf16Bits(fromBits(0x3f808000))).toBe(0x3f80); // tie, even below
    expect(f32ToBf16Bits(fromBits(0x3f818000))).toBe(0x3f82); // tie, even above
    expect(f32ToBf16Bits(fromBits(0x3f808001))).toBe(0x3f81); // just above the tie
    expect(f32ToBf16Bits(fromBits(0x7f7fffff))).toBe(0x7f80); // max float32 rounds to inf
    expect(f32ToBf16Bits(fromBits(0x00000001))).toBe(0x0000); // smallest subnormal rounds to 0
    expect(f32ToBf16Bits(fromBits(0x00008000 + 0x10000))).toBe(0x0002); // subnormal tie, even above
    const prg = Prg.fromSeed('test-half-float', 2);
    for (let i = 0; i < 20_000; i++) {
      const x = f32((prg.uniform() - 0.5) * 2 ** (prg.uniform() * 60 - 30));
      const b = f32ToBf16Bits(x);
      const err = Math.abs(bf16BitsToF32(b) - x);
      // Neighbours are not closer.
      expect(err).toBeLessThanOrEqual(Math.abs(bf16BitsToF32(b + 1) - x));
      expect(err).toBeLessThanOrEqual(Math.abs(bf16BitsToF32(b - 1) - x));
    }
  });
});
