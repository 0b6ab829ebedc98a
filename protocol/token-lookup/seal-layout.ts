/**
 * Where the variable bytes sit in SEAL 4.1's uncompressed serialization (node-seal 6.0.3) of
 * a Ciphertext, PublicKey or Plaintext.
 *
 * Why this exists: SEAL's loader aborts the whole WebAssembly instance (not a catchable
 * exception) on some malformed inputs, e.g. a truncated stream or a corrupted zstd payload;
 * every later SEAL call in the process then fails. So peer bytes never reach SEAL's parser as
 * they are: the wire carries only seeds and range-checked coefficients, and the receiver
 * writes them into a *template*, a serialization of the same kind that its own SEAL produced
 * (see object-codec.ts). This file finds the coefficient and seed regions in such a
 * template; it only ever parses bytes produced locally, and checks every field it relies on
 * so that a different SEAL build fails loudly at start-up instead of producing garbage.
 *
 * Layout (little-endian), from SEAL's Serialization::Save and Ciphertext::save_members:
 *   SEALHeader (16): u16 magic 0xA15E, u8 header size 16, u8 major 4, u8 minor 1,
 *                    u8 compr_mode (0 = none), u16 reserved, u64 total size
 *   Ciphertext: parms_id (32), u8 is_ntt_form, u64 size, u64 poly_modulus_degree,
 *               u64 coeff_modulus_size, f64 scale, u64 correction_factor,
 *               DynArray = SEALHeader (16) + u64 count + count × u64 coefficients
 *               [seeded only: UniformRandomGeneratorInfo = SEALHeader (16) + u8 prng type
 *                + 64-byte seed; the second polynomial is then omitted (count halves)]
 *   PublicKey: a seeded Ciphertext at the key level.
 *   Plaintext: parms_id (32, zero for BFV), u64 coeff_count, f64 scale, DynArray as above.
 */
import { TokenLookupError } from './token-lookup-error.js';

export const SEAL_HEADER_BYTES = 16;
export const SEED_BYTES = 64;
const SEAL_MAGIC = 0xa15e;
const SEED_INFO_BYTES = SEAL_HEADER_BYTES + 1 + SEED_BYTES;
const CIPHERTEXT_META_BYTES = 32 + 1 + 8 + 8 + 8 + 8 + 8;

/** One serialized ciphertext (or public key) inside a byte buffer. */
export interface CiphertextLayout {
  readonly start: number;
  readonly end: number;
  /** Keys are stored in NTT form, BFV ciphertexts are not; either way coefficients are below q_i. */
  readonly nttForm: boolean;
  /** Polynomials in the ciphertext (2 for fresh BFV ciphertexts and keys). */
  readonly polyCount: number;
  /** RNS primes per polynomial. */
  readonly primeCount: number;
  readonly degree: number;
  /** Byte offset of the coefficient array: [poly][prime][coefficient] as u64. */
  readonly dataOffset: number;
  /** Polynomials actually stored: polyCount, or polyCount − 1 when seeded. */
  readonly storedPolys: number;
  /** Byte offset of the 64-byte PRNG seed that regenerates the last polynomial, or null. */
  readonly seedOffset: number | null;
}

/** One serialized plaintext: where its coefficients (u64, below t) are. */
export interface PlaintextLayout {
  readonly coeffCount: number;
  readonly dataOffset: number;
}

function formatError(what: string, problem: string): TokenLookupError {
  return new TokenLookupError(
    'unsupported_runtime',
    `SEAL serialization of ${what} is not in the expected SEAL 4.1 layout (${problem}); node-seal must be 6.0.3`,
  );
}

function u64(view: DataView, offset: number, what: string): number {
  if (offset + 8 > view.byteLength) throw formatError(what, `truncated at byte ${offset}`);
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(what, `u64 at byte ${offset} too large`);
  return Number(value);
}

/** Checks a SEALHeader at `offset` and returns the end of the object it announces. */
function header(view: DataView, offset: number, what: string): number {
  if (offset + SEAL_HEADER_BYTES > view.byteLength) throw formatError(what, `truncated header at byte ${offset}`);
  if (view.getUint16(offset, true) !== SEAL_MAGIC) throw formatError(what, `bad magic at byte ${offset}`);
  if (view.getUint8(offset + 2) !== SEAL_HEADER_BYTES) throw formatError(what, 'bad header size');
  if (view.getUint8(offset + 3) !== 4 || view.getUint8(offset + 4) !== 1) throw formatError(what, 'not version 4.1');
  if (view.getUint8(offset + 5) !== 0) throw formatError(what, 'compressed (expected compr_mode none)');
  const end = offset + u64(view, offset + 8, what);
  if (end > view.byteLength || end < offset + SEAL_HEADER_BYTES) throw formatError(what, 'size field out of range');
  return end;
}

export function parseCiphertextLayout(bytes: Uint8Array, start = 0, what = 'ciphertext'): CiphertextLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = header(view, start, what);
  const meta = start + SEAL_HEADER_BYTES;
  if (meta + CIPHERTEXT_META_BYTES > end) throw formatError(what, 'metadata truncated');
  const nttByte = view.getUint8(meta + 32);
  if (nttByte > 1) throw formatError(what, 'bad is_ntt_form flag');
  const polyCount = u64(view, meta + 33, what);
  const degree = u64(view, meta + 41, what);
  const primeCount = u64(view, meta + 49, what);
  const dyn = meta + CIPHERTEXT_META_BYTES;
  const dynEnd = header(view, dyn, `${what} coefficient array`);
  const count = u64(view, dyn + SEAL_HEADER_BYTES, what);
  const dataOffset = dyn + SEAL_HEADER_BYTES + 8;
  if (dataOffset + 8 * count !== dynEnd) throw formatError(what, 'coefficient array size mismatch');
  const perPoly = degree * primeCount;
  if (perPoly === 0 || count % perPoly !== 0) throw formatError(what, 'coefficient count not a whole number of polynomials');
  const storedPolys = count / perPoly;
  let seedOffset: number | null = null;
  if (dynEnd !== end) {
    const seedEnd = header(view, dynEnd, `${what} seed`);
    if (seedEnd !== end || seedEnd - dynEnd !== SEED_INFO_BYTES) throw formatError(what, 'unexpected trailer');
    seedOffset = dynEnd + SEAL_HEADER_BYTES + 1;
    if (storedPolys !== polyCount - 1) throw formatError(what, 'seeded but not exactly one polynomial omitted');
  } else if (storedPolys !== polyCount) {
    throw formatError(what, 'unseeded but polynomials missing');
  }
  return { start, end, nttForm: nttByte === 1, polyCount, primeCount, degree, dataOffset, storedPolys, seedOffset };
}

export function parsePlaintextLayout(bytes: Uint8Array, what = 'plaintext'): PlaintextLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = header(view, 0, what);
  if (end !== bytes.length) throw formatError(what, 'trailing bytes');
  const coeffCount = u64(view, SEAL_HEADER_BYTES + 32, what);
  const dyn = SEAL_HEADER_BYTES + 32 + 8 + 8;
  const dynEnd = header(view, dyn, `${what} coefficient array`);
  const count = u64(view, dyn + SEAL_HEADER_BYTES, what);
  const dataOffset = dyn + SEAL_HEADER_BYTES + 8;
  if (count !== coeffCount || dataOffset + 8 * count !== dynEnd || dynEnd !== end) throw formatError(what, 'coefficient array size mismatch');
  return { coeffCount, dataOffset };
}
