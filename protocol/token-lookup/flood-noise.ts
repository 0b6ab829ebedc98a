/**
 * Noise flooding of a token-lookup answer (bfv-parameters.ts): adds fresh uniform noise in
 * [−2^f, 2^f) to every coefficient of c0, so that c0 + c1·s = Δ·id + e + e_flood and the
 * table-dependent e is statistically hidden. SEAL has no call for adding raw noise, so the
 * ciphertext is serialized (P0's own bytes, never a peer's), c0's RNS coefficients are edited,
 * and it is loaded back. Randomness from node:crypto.
 */
import { randomBytes } from 'node:crypto';
import { type Steps, runStraight } from '../../compute/sliced-steps.js';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import { MAX_FLOOD_BITS, POLY_MODULUS_DEGREE } from './bfv-parameters.js';
import { parseCiphertextLayout } from './seal-layout.js';
import type { BfvRuntime } from './seal-runtime.js';
import { TokenLookupError, errorText } from './token-lookup-error.js';

const CHUNK_BITS = 7;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
/** Coefficients per step of floodNoiseSteps (a quarter of N: about 2 ms). */
const COEFFICIENTS_PER_STEP = 2048;

export function floodNoise(runtime: BfvRuntime, ct: CipherText, bits: number): void {
  runStraight(floodNoiseSteps(runtime, ct, bits));
}

/** floodNoise as steps (compute/sliced-steps.ts): the same noise, COEFFICIENTS_PER_STEP coefficients a step. */
export function* floodNoiseSteps(runtime: BfvRuntime, ct: CipherText, bits: number): Steps<void> {
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
  // E = e + 2^f, uniform in [0, 2^(f+1)), in 7-bit chunks: chunk × (2^(7b) mod q) stays below
  // 2^52, so every step of E mod q is exact in doubles (q < 2^45).
  const chunks = Math.ceil((bits + 1) / CHUNK_BITS);
  const topMask = 2 ** (bits + 1 - CHUNK_BITS * (chunks - 1)) - 1;
  const residues = moduli.map((q) => Array.from({ length: chunks }, (_, b) => Number((1n << BigInt(CHUNK_BITS * b)) % q)));
  const shift = moduli.map((q) => Number((1n << BigInt(bits)) % q));
  const primes = moduli.map(Number);
  const random = randomBytes(chunks * n);
  try {
    for (let c = 0; c < n; c++) {
      if (c > 0 && c % COEFFICIENTS_PER_STEP === 0) yield;
      const base = c * chunks;
      for (let i = 0; i < primes.length; i++) {
        const q = primes[i]!;
        const r = residues[i]!;
        let e = 0;
        for (let b = 0; b < chunks; b++) {
          const chunk = random[base + b]! & (b === chunks - 1 ? topMask : CHUNK_MASK);
          e = (e + chunk * r[b]!) % q;
        }
        const at = layout.dataOffset + 8 * (i * n + c); // poly 0 (c0), prime i, coefficient c
        const c0 = view.getUint32(at, true) + view.getUint32(at + 4, true) * 4294967296;
        const sum = (c0 + e + q - shift[i]!) % q;
        view.setUint32(at, sum % 4294967296, true);
        view.setUint32(at + 4, Math.floor(sum / 4294967296), true);
      }
    }
  } finally {
    random.fill(0);
  }
  try {
    ct.loadArray(context, bytes);
  } catch (e) {
    throw new TokenLookupError('unsupported_runtime', `flooded answer rejected by SEAL (${errorText(e)})`);
  }
}
