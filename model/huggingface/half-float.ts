/**
 * IEEE 754 binary16 (f16) and bfloat16 (bf16) conversions to and from float32, written out
 * by hand because Node 20 has no Float16Array. Decoding is exact for every bit pattern
 * (subnormals, ±0, ±inf, NaN). Encoding rounds to nearest, ties to even, overflows to ±inf
 * and keeps NaN a (quiet) NaN, as PyTorch's `.to(torch.float16 / torch.bfloat16)` does.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Decodes one binary16 bit pattern. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero or subnormal
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Encodes a float32 value as the nearest binary16 bit pattern (ties to even). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  // Unbiased exponent; binary16 normals span 2^-14 .. 2^15.
  const e = exponent - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // Normal: keep 10 mantissa bits, round the 13 dropped ones to nearest even. A carry out of
    // the mantissa correctly bumps the exponent (and reaches inf at the top).
    const half = ((e + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    const roundUp = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1);
    return sign | (half + (roundUp ? 1 : 0));
  }
  if (e < -25) return sign; // below half the smallest subnormal: rounds to zero
  // Subnormal result: value = m · 2^-24 with the implicit bit made explicit.
  const full = mantissa | 0x800000; // 24 significant bits, value = full · 2^(e-23)
  const shift = -e - 14 + 13; // bits dropped so that the unit is 2^-24
  const kept = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  const roundUp = rest > halfway || (rest === halfway && (kept & 1) === 1);
  return sign | (kept + (roundUp ? 1 : 0)); // may carry into the smallest normal: still right
}

/** Decodes one bfloat16 bit pattern (the top half of a float32: exact for every pattern). */
export function bf16BitsToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** Encodes a float32 value as the nearest bfloat16 bit pattern (ties to even). */
export function f32ToBf16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff; // quiet NaN
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Decodes `count` little-endian binary16 values from `bytes` into `out` at `outOffset`. */
export function decodeF16(bytes: Uint8Array, out: Float32Array, outOffset: number, count: number): void {
  // A 64 Ki-entry table makes bulk decoding a lookup (the tensors are up to ~10^9 values).
  const table = f16Table();
  for (let i = 0; i < count; i++) out[outOffset + i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
}

/** Decodes `count` little-endian bfloat16 values from `bytes` into `out` at `outOffset`. */
export function decodeBf16(bytes: Uint8Array, out: Float32Array, outOffset: number, count: number): void {
  const outBits = new Uint32Array(out.buffer, out.byteOffset + 4 * outOffset, count);
  for (let i = 0; i < count; i++) outBits[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
}

/** Encodes float32 values as little-endian binary16 into `bytes` (2 bytes each). */
export function encodeF16(values: Float32Array, bytes: Uint8Array): void {
  for (let i = 0; i < values.length; i++) {
    const h = f32ToF16Bits(values[i]!);
    bytes[2 * i] = h & 0xff;
    bytes[2 * i + 1] = h >>> 8;
  }
}

/** Encodes float32 values as little-endian bfloat16 into `bytes` (2 bytes each). */
export function encodeBf16(values: Float32Array, bytes: Uint8Array): void {
  for (let i = 0; i < values.length; i++) {
    const b = f32ToBf16Bits(values[i]!);
    bytes[2 * i] = b & 0xff;
    bytes[2 * i + 1] = b >>> 8;
  }
}

let table: Float32Array | undefined;
function f16Table(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f16BitsToF32(h);
  }
  return table;
}
