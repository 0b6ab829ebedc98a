import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { COEFF_MODULUS_PRIMES } from './bfv-parameters.js';
import { bitLength, packPolys, packedPolyBytes, unpackPolys } from './coefficient-packing.js';
import { TokenLookupError } from './token-lookup-error.js';

// BFVDefault(4096)'s primes: two of 36 bits, the special one of 37.
const MODULI = [68719403009, 68719230977, 137438822401];

function u64Array(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigUint64(8 * i, BigInt(v), true));
  return bytes;
}

function randomCoefficients(prg: Prg, polys: number, degree: number, moduli: number[]): number[] {
  const out: number[] = [];
  for (let p = 0; p < polys; p++) {
    for (const q of moduli) {
      for (let c = 0; c < degree; c++) out.push(Math.floor(prg.uniform() * q));
    }
  }
  return out;
}

describe('coefficient packing', () => {
  it('packs each coefficient into bitlength(q) bits', () => {
    expect(MODULI.map(bitLength)).toEqual([36, 36, 37]);
    expect(packedPolyBytes(1, 4096, MODULI.slice(0, 2))).toBe(36864);
    expect(packedPolyBytes(2, 4096, MODULI.slice(0, 1))).toBe(36864);
    expect(packedPolyBytes(1, 3, [MODULI[0]!])).toBe(14); // 108 bits
  });

  it('round-trips random, zero and q−1 coefficients exactly', () => {
    const prg = Prg.random();
    for (const [polys, degree, moduli] of [
      [2, 64, MODULI],
      [1, 3, MODULI.slice(0, 1)],
      [3, 8, MODULI.slice(0, 2)],
    ] as const) {
      const values = randomCoefficients(prg, polys, degree, [...moduli]);
      values[0] = 0;
      values[values.length - 1] = moduli[moduli.length - 1]! - 1;
      const src = u64Array(values);
      const packed = new Uint8Array(packedPolyBytes(polys, degree, moduli) + 5);
      const end = packPolys(src, 0, polys, degree, moduli, packed, 5);
      expect(end).toBe(packed.length);
      const back = new Uint8Array(src.length + 16);
      expect(unpackPolys(packed, 5, polys, degree, moduli, back, 16, 'test')).toBe(packed.length);
      expect(Buffer.from(back.subarray(16)).equals(Buffer.from(src))).toBe(true);
    }
  });

  it('writes the wire format bit for bit: each coefficient in bitlength(q) bits, least significant first', () => {
    // The reference: one BigInt of all the bits, coefficient k at bit Σ_{i<k} bitlength(q_i).
    const prg = Prg.random();
    for (const moduli of [COEFF_MODULUS_PRIMES.map(Number), MODULI, [65521, 4294967291, 8191]]) {
      const [polys, degree] = [2, 37];
      const values = randomCoefficients(prg, polys, degree, moduli);
      values[1] = moduli[0]! - 1;
      let stream = 0n;
      let at = 0n;
      let k = 0;
      for (let p = 0; p < polys; p++) {
        for (const q of moduli) {
          for (let c = 0; c < degree; c++) {
            stream |= BigInt(values[k++]!) << at;
            at += BigInt(bitLength(q));
          }
        }
      }
      const expected = new Uint8Array(packedPolyBytes(polys, degree, moduli));
      for (let b = 0; b < expected.length; b++) expected[b] = Number((stream >> BigInt(8 * b)) & 0xffn);
      const packed = new Uint8Array(expected.length);
      packPolys(u64Array(values), 0, polys, degree, moduli, packed, 0);
      expect(Buffer.from(packed).equals(Buffer.from(expected)), `moduli ${moduli.join(', ')}`).toBe(true);
      const back = new Uint8Array(values.length * 8);
      unpackPolys(expected, 0, polys, degree, moduli, back, 0, 'test');
      expect(Buffer.from(back).equals(Buffer.from(u64Array(values)))).toBe(true);
    }
  });

  it('rejects a coefficient ≥ q, nonzero padding and truncation with the field name', () => {
    const q = MODULI[0]!;
    const packed = new Uint8Array(packedPolyBytes(1, 3, [q]));
    packPolys(u64Array([1, q - 1, 2]), 0, 1, 3, [q], packed, 0);
    const dst = new Uint8Array(24);
    const tooBig = packed.slice();
    tooBig.fill(0xff, 4, 9); // coefficient 1 becomes 2^36 − 1 > q − 1
    expect(() => unpackPolys(tooBig, 0, 1, 3, [q], dst, 0, 'query ciphertext 7')).toThrow(
      /query ciphertext 7: coefficient out of range \(poly 0, index 1\)/,
    );
    const padded = packed.slice();
    padded[packed.length - 1] = padded[packed.length - 1]! | 0x80;
    expect(() => unpackPolys(padded, 0, 1, 3, [q], dst, 0, 'x')).toThrow(/nonzero padding/);
    expect(() => unpackPolys(packed.subarray(1), 0, 1, 3, [q], dst, 0, 'x')).toThrow(TokenLookupError);
    expect(() => packPolys(u64Array([q, 0, 0]), 0, 1, 3, [q], packed, 0)).toThrow(RangeError);
  });
});
