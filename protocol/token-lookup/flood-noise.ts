/**
 * Noise flooding of a token-lookup answer (bfv-parameters.ts): adds fresh uniform noise in
 * [−2^f, 2^f) to every coefficient of c0, so that c0 + c1·s = Δ·id + e + e_flood and the
 * table-dependent e is statistically hidden. SEAL has no call for adding raw noise, so the
 * ciphertext is serialized (P0's own bytes, never a peer's), c0's RNS coefficients are edited,
 * and it is loaded back. Randomness from node:crypto.
 */
import { randomBytes } from 'node:crypto';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import { MAX_FLOOD_BITS, POLY_MODULUS_DEGREE } from './bfv-parameters.js';
import { parseCiphertextLayout } from './seal-layout.js';
import type { BfvRuntime } from './seal-runtime.js';
import { TokenLookupError, errorText } from './token-lookup-error.js';

export function floodNoise(runtime: BfvRuntime, ct: CipherText, bits: number): void {
  if (!Number.isInteger(bits) || bits < 64 || bits > MAX_FLOOD_BITS) {
    throw new TokenLookupError('unsupported_runtime', `flood of 2^${bits} is outside what the parameters carry (64 … ${MAX_FLOOD_BITS})`);
  }
  const { seal, context } = runtime;
  const bytes = ct.saveArray(seal.ComprModeType.none);
  const layout = parseCiphertextLayout(bytes, 0, 'answer before flooding');
  const moduli = runtime.moduli.first.map(BigInt);
  if (layout.nttForm || layout.storedPolys !== 2 || layout.primeCount !== moduli.length || layout.degree !== POLY_MODULUS_DEGREE) {
    throw new TokenLookupError('unsupported_runtime', `answer before flooding has an unexpected shape ${JSON.stringify(layout)}`);
  }
  const n = layout.degree;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const random = randomBytes(16 * n);
  const rv = new DataView(random.buffer, random.byteOffset, random.byteLength);
  const offset = 1n << BigInt(bits);
  const highMask = (1n << BigInt(bits + 1 - 64)) - 1n;
  // e + 2^f is uniform in [0, 2^(f+1)): 64 low bits and f + 1 − 64 high bits of fresh randomness.
  const shift = moduli.map((q) => offset % q);
  for (let c = 0; c < n; c++) {
    const shifted = ((rv.getBigUint64(16 * c + 8, true) & highMask) << 64n) | rv.getBigUint64(16 * c, true);
    for (let i = 0; i < moduli.length; i++) {
      const q = moduli[i]!;
      const at = layout.dataOffset + 8 * (i * n + c); // poly 0 (c0), prime i, coefficient c
      const sum = view.getBigUint64(at, true) + (shifted % q) + q - shift[i]!;
      view.setBigUint64(at, sum % q, true);
    }
  }
  random.fill(0);
  try {
    ct.loadArray(context, bytes);
  } catch (e) {
    throw new TokenLookupError('unsupported_runtime', `flooded answer rejected by SEAL (${errorText(e)})`);
  }
}
