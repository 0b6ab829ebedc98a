/**
 * Bit-packing of RNS polynomials: each coefficient modulo the prime q_i takes exactly
 * bitlength(q_i) bits instead of SEAL's 64, so a 45-bit coefficient costs 5.6 bytes. This
 * is both the compression of the wire format (45 of SEAL's 64 bits per coefficient, about
 * 70% of its raw size) and the first range check at the trust boundary: every unpacked
 * coefficient must be below its prime.
 *
 * Coefficients are stored in SEAL's order [poly][prime][coefficient], little-endian bit
 * order. All primes here have at most 45 bits (seal-runtime.ts checks it), so plain numbers are
 * exact (no BigInt): the accumulator stays below 2^(45 + 8) = 2^53.
 */
import { type Steps, runStraight } from '../../compute/sliced-steps.js';
import { malformed } from './token-lookup-error.js';

const POW2: readonly number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);

export function bitLength(q: number): number {
  return Math.floor(Math.log2(q)) + 1;
}

/** Bytes of `polys` packed polynomials of `degree` coefficients over `moduli`. */
export function packedPolyBytes(polys: number, degree: number, moduli: readonly number[]): number {
  let bitsPerColumn = 0;
  for (const q of moduli) bitsPerColumn += bitLength(q);
  return Math.ceil((polys * degree * bitsPerColumn) / 8);
}

/**
 * Packs `polys × moduli.length × degree` u64 coefficients read from `src` at `srcOffset`
 * into `dst` at `dstOffset`; returns the end offset in `dst`. Only used on bytes our own
 * SEAL produced, but still checks the range so a bug cannot silently corrupt data.
 */
export function packPolys(
  src: Uint8Array,
  srcOffset: number,
  polys: number,
  degree: number,
  moduli: readonly number[],
  dst: Uint8Array,
  dstOffset: number,
): number {
  return runStraight(packPolysSteps(src, srcOffset, polys, degree, moduli, dst, dstOffset));
}

/**
 * packPolys as steps (compute/sliced-steps.ts): one step per polynomial and prime, i.e.
 * `degree` coefficients (a few ms at N = 8192).
 */
export function* packPolysSteps(
  src: Uint8Array,
  srcOffset: number,
  polys: number,
  degree: number,
  moduli: readonly number[],
  dst: Uint8Array,
  dstOffset: number,
): Steps<number> {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let o = dstOffset;
  let acc = 0;
  let accBits = 0;
  let s = srcOffset;
  for (let p = 0; p < polys; p++) {
    for (const q of moduli) {
      const bits = bitLength(q);
      for (let c = 0; c < degree; c++, s += 8) {
        const value = view.getUint32(s, true) + view.getUint32(s + 4, true) * 4294967296;
        if (value >= q) throw new RangeError(`packPolys: coefficient ${c} of poly ${p} is not below its prime`);
        // accBits < 8 here, so acc stays below 2^(bits + 8) <= 2^53: exact in a double.
        acc += value * POW2[accBits]!;
        accBits += bits;
        while (accBits >= 8) {
          const byte = acc % 256;
          dst[o++] = byte;
          acc = (acc - byte) / 256;
          accBits -= 8;
        }
      }
      yield;
    }
  }
  if (accBits > 0) dst[o++] = acc;
  return o;
}

/**
 * Inverse of packPolys, writing u64 little-endian coefficients into `dst` at `dstOffset`
 * (a template's coefficient region). Throws a malformed-message error naming `what` if a
 * coefficient is not below its prime or `src` is too short.
 */
export function unpackPolys(
  src: Uint8Array,
  srcOffset: number,
  polys: number,
  degree: number,
  moduli: readonly number[],
  dst: Uint8Array,
  dstOffset: number,
  what: string,
): number {
  return runStraight(unpackPolysSteps(src, srcOffset, polys, degree, moduli, dst, dstOffset, what));
}

/** unpackPolys as steps: one per polynomial and prime (see packPolysSteps). */
export function* unpackPolysSteps(
  src: Uint8Array,
  srcOffset: number,
  polys: number,
  degree: number,
  moduli: readonly number[],
  dst: Uint8Array,
  dstOffset: number,
  what: string,
): Steps<number> {
  const need = packedPolyBytes(polys, degree, moduli);
  if (srcOffset + need > src.length) throw malformed(what, `truncated: needs ${need} bytes of coefficients`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  let i = srcOffset;
  let acc = 0;
  let accBits = 0;
  let d = dstOffset;
  for (let p = 0; p < polys; p++) {
    for (const q of moduli) {
      const bits = bitLength(q);
      const mod = POW2[bits]!;
      for (let c = 0; c < degree; c++, d += 8) {
        while (accBits < bits) {
          acc += src[i++]! * POW2[accBits]!;
          accBits += 8;
        }
        const value = acc % mod;
        acc = (acc - value) / mod;
        accBits -= bits;
        if (value >= q) throw malformed(what, `coefficient out of range (poly ${p}, index ${c})`);
        view.setUint32(d, value % 4294967296, true);
        view.setUint32(d + 4, Math.floor(value / 4294967296), true);
      }
      yield;
    }
  }
  // Padding bits of the last byte must be zero: one canonical encoding per value.
  if (acc !== 0) throw malformed(what, 'nonzero padding bits');
  return srcOffset + need;
}
