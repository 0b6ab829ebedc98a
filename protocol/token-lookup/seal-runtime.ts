/**
 * The node-seal WebAssembly module and the shared BFV context, loaded once per process.
 *
 * node-seal compiles its WASM asynchronously; every client and server in the process shares
 * one instance, one SEALContext, one BatchEncoder and one Evaluator (all three are stateless
 * with respect to keys). These shared objects live as long as the process and are never
 * deleted; everything per-session (keys, encryptors, ciphertexts) is deleted by its owner.
 *
 * We load the "throws" build: SEAL refuses to produce transparent ciphertexts (e.g. a product
 * by an all-zero plaintext) instead of silently returning one.
 */
import { createRequire } from 'node:module';
import type { BatchEncoder } from 'node-seal/implementation/batch-encoder.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import type { ParmsIdType } from 'node-seal/implementation/parms-id-type.js';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import { COEFF_MODULUS_PRIMES, PLAIN_MODULUS, POLY_MODULUS_DEGREE, SLOTS } from './bfv-parameters.js';
import { TokenLookupError } from './token-lookup-error.js';

export type { SEALLibrary };

export interface BfvRuntime {
  readonly seal: SEALLibrary;
  readonly context: Context;
  readonly encoder: BatchEncoder;
  readonly evaluator: Evaluator;
  /** Parameters id of the last data level (one 45-bit prime): answers are switched there. */
  readonly lastParmsId: ParmsIdType;
  /** t, the plain modulus: plaintext coefficients (token ids) live in Z_t. */
  readonly plainModulus: number;
  /**
   * The RNS primes by level, as numbers (all below 2^53): `key` is the full chain including
   * the special prime (the public key lives there), `first` the top data level (fresh
   * ciphertexts), `last` the bottom one (answers).
   */
  readonly moduli: { readonly key: readonly number[]; readonly first: readonly number[]; readonly last: readonly number[] };
}

// The UMD build is the package's CommonJS main and loads on every Node 20.x; its .d.ts
// declares an ES default export, so we type the require() result ourselves.
const requireCjs = createRequire(import.meta.url);

let sealPromise: Promise<SEALLibrary> | undefined;
let runtimePromise: Promise<BfvRuntime> | undefined;

/** The node-seal library, instantiated once per process. */
export function loadSeal(): Promise<SEALLibrary> {
  if (sealPromise === undefined) {
    const factory = requireCjs('node-seal/throws_wasm_node_umd.js') as () => Promise<SEALLibrary>;
    const loading = factory();
    sealPromise = loading;
    loading.catch(() => {
      if (sealPromise === loading) sealPromise = undefined;
    });
  }
  return sealPromise;
}

/** The shared BFV runtime for the parameters of bfv-parameters.ts, built once per process. */
export function getBfvRuntime(): Promise<BfvRuntime> {
  if (runtimePromise === undefined) {
    const building = loadSeal().then(buildRuntime);
    runtimePromise = building;
    // A failed build (not expected) must not be cached forever.
    building.catch(() => {
      if (runtimePromise === building) runtimePromise = undefined;
    });
  }
  return runtimePromise;
}

function buildRuntime(seal: SEALLibrary): BfvRuntime {
  checkPrimes();
  const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
  const moduli = COEFF_MODULUS_PRIMES.map((q) => seal.Modulus(q));
  const coeffModulus = seal.Vector();
  coeffModulus.from(moduli.map((m) => m.instance) as unknown as BigUint64Array, 'Modulus');
  const plainModulus = seal.Modulus(BigInt(PLAIN_MODULUS));
  parms.setPolyModulusDegree(POLY_MODULUS_DEGREE);
  parms.setCoeffModulus(coeffModulus);
  parms.setPlainModulus(plainModulus);
  const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  if (!context.parametersSet()) {
    throw new TokenLookupError('unsupported_runtime', `BFV parameters rejected by SEAL: ${context.toHuman()}`);
  }
  const key = Array.from(parms.coeffModulus, (q) => Number(q));
  const t = Number(plainModulus.value);
  coeffModulus.delete();
  for (const m of moduli) m.delete();
  plainModulus.delete();
  parms.delete();
  const encoder = seal.BatchEncoder(context);
  if (encoder.slotCount !== SLOTS) {
    throw new TokenLookupError('unsupported_runtime', `BatchEncoder: expected ${SLOTS} slots, got ${encoder.slotCount}`);
  }
  if (key.length !== COEFF_MODULUS_PRIMES.length || key.some((q, i) => BigInt(q) !== COEFF_MODULUS_PRIMES[i])) {
    throw new TokenLookupError('unsupported_runtime', `coeff modulus: SEAL holds ${key.join(', ')}`);
  }
  return {
    seal,
    context,
    encoder,
    evaluator: seal.Evaluator(context),
    lastParmsId: context.lastParmsId,
    plainModulus: t,
    moduli: { key, first: key.slice(0, -1), last: key.slice(0, 1) },
  };
}

/**
 * The fixed primes must be what bfv-parameters.ts says: at most 45 bits (coefficient-packing
 * works in doubles), ≡ 1 mod 2N (NTT) and ≡ 1 mod t, so that q ≡ 1 mod t.
 */
function checkPrimes(): void {
  const t = BigInt(PLAIN_MODULUS);
  const twoN = BigInt(2 * POLY_MODULUS_DEGREE);
  let q = 1n;
  for (const p of COEFF_MODULUS_PRIMES.slice(0, -1)) q *= p;
  for (const p of COEFF_MODULUS_PRIMES) {
    if (p >= 1n << 45n || (p - 1n) % twoN !== 0n || (p - 1n) % t !== 0n) {
      throw new TokenLookupError('unsupported_runtime', `coeff modulus prime ${p} is not a 45-bit prime ≡ 1 mod 2N·t`);
    }
  }
  if (q % t !== 1n) throw new TokenLookupError('unsupported_runtime', 'q mod t must be 1');
}

/**
 * The secret key s of `keygen`, as an object the caller owns and deletes.
 *
 * node-seal 6.0.3's KeyGenerator.secretKey() leaks: it asks the WASM side for the key (a
 * fresh C++ SecretKey returned by value), copies it into the wrapper it returns, and never
 * deletes the returned object. That is N · (L + 1) · 8 bytes (256 KiB at parameter set 3) of
 * WASM memory per key pair, never freed and never overwritten, holding a secret key that
 * outlives its session. Here the returned object is deleted right after the copy (SEAL clears
 * a secret key's memory on destruction).
 */
export function secretKeyOf(seal: SEALLibrary, keygen: KeyGenerator): SecretKey {
  const raw = (keygen.instance as { secretKey(): { delete(): void } }).secretKey();
  try {
    const key = seal.SecretKey();
    try {
      key.inject(raw);
    } catch (e) {
      key.delete();
      throw e;
    }
    return key;
  } finally {
    raw.delete();
  }
}
