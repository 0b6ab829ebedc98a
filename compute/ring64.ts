/**
 * Elements of the ring Z_2^64: the number type of the `ring64` mask profile and of the
 * fixed-point plaintext oracle.
 *
 * Storage is a BigUint64Array (8 bytes per element, little-endian, also on the wire). Hot loops
 * never touch BigInt: they work on a Uint32Array view of the same buffer, element i being the
 * word pair (lo = u32[2i], hi = u32[2i+1]). A fixed-point value v with exponent f is the ring
 * element round(v · 2^f) mod 2^64; its signed reading is the representative in [−2^63, 2^63).
 *
 * Exactness: every function here returns the exact residue mod 2^64. Helpers that take numbers
 * (`ringFromIntegers`, `combineLimbs`) require exact integers below 2^53 in magnitude and say so.
 */

export type Ring = BigUint64Array;

const TWO16 = 65536;
const TWO32 = 4294967296;

export function ringZeros(n: number): Ring {
  return new BigUint64Array(n);
}

/** The (lo, hi) 32-bit word view of a ring array (shares its memory). */
export function words(a: Ring): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
}

/** out = a + b mod 2^64 (out may alias a or b). */
export function ringAdd(a: Ring, b: Ring, out: Ring = new BigUint64Array(a.length)): Ring {
  if (a.length !== b.length || out.length !== a.length) throw new RangeError(`ringAdd: sizes ${a.length}, ${b.length}, ${out.length} differ`);
  const x = words(a);
  const y = words(b);
  const z = words(out);
  for (let i = 0; i < x.length; i += 2) {
    const lo = x[i]! + y[i]!;
    const carry = lo >= TWO32 ? 1 : 0;
    z[i] = lo; // Uint32Array stores mod 2^32
    z[i + 1] = x[i + 1]! + y[i + 1]! + carry;
  }
  return out;
}

/** out = a − b mod 2^64 (out may alias a or b). */
export function ringSub(a: Ring, b: Ring, out: Ring = new BigUint64Array(a.length)): Ring {
  if (a.length !== b.length || out.length !== a.length) throw new RangeError(`ringSub: sizes ${a.length}, ${b.length}, ${out.length} differ`);
  const x = words(a);
  const y = words(b);
  const z = words(out);
  for (let i = 0; i < x.length; i += 2) {
    const lo = x[i]! - y[i]!;
    const borrow = lo < 0 ? 1 : 0;
    z[i] = lo;
    z[i + 1] = x[i + 1]! - y[i + 1]! - borrow;
  }
  return out;
}

/** a += b mod 2^64, in place. */
export function ringAddInto(a: Ring, b: Ring): Ring {
  return ringAdd(a, b, a);
}

/**
 * Ring elements from integer-valued doubles (|v| < 2^63; two's complement for negatives; every
 * double at or above 2^53 is an integer, and the split into 32-bit words is exact). Throws on a
 * non-integer or out-of-range value, since silent rounding here would break bit-exactness.
 */
export function ringFromIntegers(values: ArrayLike<number>, out: Ring = new BigUint64Array(values.length)): Ring {
  const z = words(out);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || Math.abs(v) >= 2 ** 63) throw new RangeError(`ringFromIntegers: element ${i} is ${v}, not an integer below 2^63`);
    const hi = Math.floor(v / TWO32);
    z[2 * i] = v - hi * TWO32;
    z[2 * i + 1] = hi; // stored mod 2^32: two's complement for negative hi
  }
  return out;
}

/**
 * The signed reading of each element as a float64: hi_signed · 2^32 + lo. Exact while
 * |value| < 2^53, otherwise the nearest double (deterministic, which is all bit-exactness needs).
 */
export function ringToNumbers(a: Ring, out: Float64Array = new Float64Array(a.length)): Float64Array {
  const x = words(a);
  const signed = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < a.length; i++) out[i] = signed[2 * i + 1]! * TWO32 + x[2 * i]!;
  return out;
}

/**
 * Fixed-point encoding at exponent f: round(v · 2^f) (Math.round, ties toward +∞). Throws when a
 * value does not fit the ring's signed range (|v · 2^f| ≥ 2^63) or is not finite, naming it.
 */
export function encodeFixed(values: ArrayLike<number>, exponent: number, out: Ring = new BigUint64Array(values.length)): Ring {
  const scale = 2 ** exponent;
  const ints = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]! * scale);
    if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 63) throw new RangeError(`encodeFixed: element ${i} (${values[i]}) does not fit at exponent ${exponent}`);
    ints[i] = v;
  }
  return ringFromIntegers(ints, out);
}

/** Fixed-point decoding at exponent f: signed reading / 2^f. */
export function decodeFixed(a: Ring, exponent: number, out: Float64Array = new Float64Array(a.length)): Float64Array {
  ringToNumbers(a, out);
  const inv = 2 ** -exponent;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * inv;
  return out;
}

/**
 * Splits ring elements into four 16-bit limbs as float64 (value = Σ limb_k · 2^(16k)),
 * laid out limb-major: out[k · n + i] = limb k of element i. Inputs of the exact limb GEMMs.
 */
export function splitLimbs<T extends Float64Array | Uint16Array = Float64Array>(a: Ring, out: T = new Float64Array(4 * a.length) as T): T {
  const x = words(a);
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const lo = x[2 * i]!;
    const hi = x[2 * i + 1]!;
    out[i] = lo & 0xffff;
    out[n + i] = lo >>> 16;
    out[2 * n + i] = hi & 0xffff;
    out[3 * n + i] = hi >>> 16;
  }
  return out;
}

/**
 * Writes Σ_k t_k · 2^(16k) mod 2^64 into out[i], where t0..t3 are exact integers (any sign,
 * |t_k| < 2^52). The carries are propagated with exact floor divisions by 2^16.
 */
export function combineLimbs(z: Uint32Array, i: number, t0: number, t1: number, t2: number, t3: number): void {
  let c = Math.floor(t0 / TWO16);
  const r0 = t0 - c * TWO16;
  t1 += c;
  c = Math.floor(t1 / TWO16);
  const r1 = t1 - c * TWO16;
  t2 += c;
  c = Math.floor(t2 / TWO16);
  const r2 = t2 - c * TWO16;
  t3 += c;
  const r3 = t3 - Math.floor(t3 / TWO16) * TWO16;
  z[2 * i] = r0 + r1 * TWO16;
  z[2 * i + 1] = r2 + r3 * TWO16;
}

/** out[i] = a[i] · c mod 2^64 for a small integer c (|c| < 2^31). */
export function ringScale(a: Ring, c: number, out: Ring = new BigUint64Array(a.length)): Ring {
  if (!Number.isInteger(c) || Math.abs(c) >= 2 ** 31) throw new RangeError(`ringScale: factor ${c} must be an integer below 2^31`);
  const x = words(a);
  const z = words(out);
  for (let i = 0; i < a.length; i++) {
    const lo = x[2 * i]!;
    const hi = x[2 * i + 1]!;
    combineLimbs(z, i, (lo & 0xffff) * c, (lo >>> 16) * c, (hi & 0xffff) * c, (hi >>> 16) * c);
  }
  return out;
}

/** The ring element 2^k (0 ≤ k < 64) repeated, or its negation. */
export function ringPowerOfTwo(k: number, negative = false): bigint {
  if (!Number.isInteger(k) || k < 0 || k > 63) throw new RangeError(`ringPowerOfTwo: exponent ${k} outside [0, 63]`);
  const v = 1n << BigInt(k);
  return negative ? (1n << 64n) - v : v;
}

/** Element-wise equality (bit for bit). */
export function ringEquals(a: Ring, b: Ring): boolean {
  if (a.length !== b.length) return false;
  const x = words(a);
  const y = words(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
