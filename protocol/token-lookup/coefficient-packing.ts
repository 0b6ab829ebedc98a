/**
 * Bit-packing of RNS polynomials: each coefficient modulo the prime q_i takes exactly
 * bitlength(q_i) bits instead of SEAL's 64, so a 45-bit coefficient costs 5.6 bytes. This
 * is both the compression of the wire format (45 of SEAL's 64 bits per coefficient, about
 * 70% of its raw size) and the first range check at the trust boundary: every unpacked
 * coefficient must be below its prime.
 *
 * Coefficients are stored in SEAL's order [poly][prime][coefficient], little-endian bit
 * order. All primes here have at most 45 bits (seal-runtime.ts checks it; up to 53 would do): a
 * coefficient moves as three pieces of at most 16, 16 and 21 bits through a 32-bit integer
 * accumulator, so no BigInt and no floating-point division is needed.
 */
import { type Steps, runStraight } from '../../compute/sliced-steps.js';
import { malformed } from './token-lookup-error.js';

export function bitLength(q: number): number {
  return Math.floor(Math.log2(q)) + 1;
}

/**
 * How a coefficient of `bits` bits is written: the low 16 bits of its low word, the high 16, then
 * its high word (at most 21 bits for bits ≤ 53); a piece past the coefficient's width has 0 bits.
 */
function pieces(bits: number): [number, number, number] {
  const n1 = Math.min(16, bits);
  const n2 = Math.min(16, bits - n1);
  return [n1, n2, bits - n1 - n2];
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
  // Bits not yet written (fewer than 8 between coefficients), as a 32-bit integer: each
  // coefficient goes in as pieces of at most 16, 16 and 21 bits (low half of its low word, high
  // half, high word), so acc stays below 2^29 and all of it is integer arithmetic.
  let acc = 0;
  let accBits = 0;
  let s = srcOffset;
  for (let p = 0; p < polys; p++) {
    for (const q of moduli) {
      const bits = bitLength(q);
      const [n1, n2, n3] = pieces(bits);
      for (let c = 0; c < degree; c++, s += 8) {
        const lo = view.getUint32(s, true);
        const hi = view.getUint32(s + 4, true);
        if (hi * 4294967296 + lo >= q) throw new RangeError(`packPolys: coefficient ${c} of poly ${p} is not below its prime`);
        acc |= (lo & 0xffff) << accBits;
        accBits += n1;
        while (accBits >= 8) {
          dst[o++] = acc & 0xff;
          acc >>>= 8;
          accBits -= 8;
        }
        acc |= (lo >>> 16) << accBits;
        accBits += n2;
        while (accBits >= 8) {
          dst[o++] = acc & 0xff;
          acc >>>= 8;
          accBits -= 8;
        }
        acc |= hi << accBits;
        accBits += n3;
        while (accBits >= 8) {
          dst[o++] = acc & 0xff;
          acc >>>= 8;
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
  // Bits read and not yet used, as a 32-bit integer (see packPolysSteps: pieces of at most 21 bits).
  let acc = 0;
  let accBits = 0;
  let d = dstOffset;
  for (let p = 0; p < polys; p++) {
    for (const q of moduli) {
      const [n1, n2, n3] = pieces(bitLength(q));
      const [m1, m2, m3] = [2 ** n1 - 1, 2 ** n2 - 1, 2 ** n3 - 1];
      for (let c = 0; c < degree; c++, d += 8) {
        while (accBits < n1) {
          acc |= src[i++]! << accBits;
          accBits += 8;
        }
        const p1 = acc & m1;
        acc >>>= n1;
        accBits -= n1;
        while (accBits < n2) {
          acc |= src[i++]! << accBits;
          accBits += 8;
        }
        const p2 = acc & m2;
        acc >>>= n2;
        accBits -= n2;
        while (accBits < n3) {
          acc |= src[i++]! << accBits;
          accBits += 8;
        }
        const hi = acc & m3;
        acc >>>= n3;
        accBits -= n3;
        const lo = p1 + p2 * 65536;
        if (hi * 4294967296 + lo >= q) throw malformed(what, `coefficient out of range (poly ${p}, index ${c})`);
        view.setUint32(d, lo, true);
        view.setUint32(d + 4, hi, true);
      }
      yield;
    }
  }
  // Padding bits of the last byte must be zero: one canonical encoding per value.
  if (acc !== 0) throw malformed(what, 'nonzero padding bits');
  return srcOffset + need;
}
