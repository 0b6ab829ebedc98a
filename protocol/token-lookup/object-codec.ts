/**
 * Compact, parse-safe wire encodings of the SEAL objects the lookup exchanges.
 *
 * Encoding (sender): serialize with SEAL (uncompressed), keep only the 64-byte seed (for
 * seeded objects) and the bit-packed coefficients. Decoding (receiver): copy a *template*, a
 * serialization of the same kind produced by the receiver's own SEAL at start-up, write the
 * peer's seed and range-checked coefficients into its variable regions, and only then hand
 * it to SEAL's loader. Every structural byte SEAL parses (header, sizes, parms_id, flags)
 * therefore comes from the receiver, never from the peer, which is what keeps a hostile
 * peer from aborting the WebAssembly instance (see seal-layout.ts). SEAL then still checks
 * the coefficients itself (is_valid_for) on load.
 *
 * A template's own random content is always fully overwritten: every coefficient region and
 * every seed is replaced before use.
 */
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import { POLY_MODULUS_DEGREE, SLOTS } from './bfv-parameters.js';
import { type Steps, runSliced, runStraight } from '../../compute/sliced-steps.js';
import { packPolysSteps, packedPolyBytes, unpackPolysSteps } from './coefficient-packing.js';
import {
  type CiphertextLayout,
  type PlaintextLayout,
  SEED_BYTES,
  parseCiphertextLayout,
  parsePlaintextLayout,
} from './seal-layout.js';
import { type BfvRuntime, secretKeyOf } from './seal-runtime.js';
import { TokenLookupError, malformed } from './token-lookup-error.js';

/** A serialization produced locally, and where its variable bytes are. */
export interface CiphertextTemplate {
  readonly bytes: Uint8Array;
  readonly layout: CiphertextLayout;
  /** RNS primes of this object's level. */
  readonly moduli: readonly number[];
  /** Bytes of this object on the wire. */
  readonly wireBytes: number;
}

/** A plaintext of N coefficients serialized locally, to write coefficients into and to read them from. */
export interface PlaintextTemplate {
  readonly bytes: Uint8Array;
  readonly layout: PlaintextLayout;
}

export interface Templates {
  /** A fresh symmetric, seeded encryption at the first data level: one query ciphertext. */
  readonly query: CiphertextTemplate;
  /** A two-polynomial ciphertext at the last data level: one answer. */
  readonly answer: CiphertextTemplate;
  /** A seeded public key. */
  readonly publicKey: CiphertextTemplate;
  /** A plaintext of N coefficients. */
  readonly plaintext: PlaintextTemplate;
}

/** Narrows node-seal's `T | void` results (the void case is only for destination overloads). */
export function must<T>(value: T | void, what: string): T {
  if (value === undefined) throw new TokenLookupError('unsupported_runtime', `${what}: node-seal returned nothing`);
  return value;
}

function wireBytesOf(layout: CiphertextLayout, moduli: readonly number[]): number {
  return (layout.seedOffset === null ? 0 : SEED_BYTES) + packedPolyBytes(layout.storedPolys, layout.degree, moduli);
}

function expectLayout(
  name: string,
  layout: CiphertextLayout,
  shape: { polys: number; primes: number; seeded: boolean; ntt: boolean },
): void {
  const { polys, primes, seeded, ntt } = shape;
  if (
    layout.nttForm !== ntt ||
    layout.polyCount !== polys ||
    layout.primeCount !== primes ||
    layout.degree !== POLY_MODULUS_DEGREE ||
    (layout.seedOffset !== null) !== seeded
  ) {
    throw new TokenLookupError('unsupported_runtime', `template ${name}: unexpected shape ${JSON.stringify(layout)}`);
  }
}

function ciphertextTemplate(bytes: Uint8Array, runtime: BfvRuntime, name: string): CiphertextTemplate {
  const layout = parseCiphertextLayout(bytes, 0, name);
  if (layout.end !== bytes.length) throw new TokenLookupError('unsupported_runtime', `template ${name}: trailing bytes`);
  const moduli = runtime.moduli.key.slice(0, layout.primeCount);
  return { bytes, layout, moduli, wireBytes: wireBytesOf(layout, moduli) };
}

let cached: { runtime: BfvRuntime; templates: Templates } | undefined;
let loading: { runtime: BfvRuntime; templates: Promise<Templates> } | undefined;

/** The templates of this process (built once, with a throwaway key pair). */
export function getTemplates(runtime: BfvRuntime): Templates {
  if (cached?.runtime === runtime) return cached.templates;
  return remember(runtime, runStraight(templateSteps(runtime)));
}

/**
 * getTemplates, built in bounded slices of the event loop (compute/sliced-steps.ts) the first
 * time: key generation and the throwaway encryptions are some 50 ms of WebAssembly. What a
 * party calls before its first session's lookup; concurrent callers share one build.
 */
export function loadTemplates(runtime: BfvRuntime): Promise<Templates> {
  if (cached?.runtime === runtime) return Promise.resolve(cached.templates);
  if (loading?.runtime !== runtime) {
    const templates = runSliced(templateSteps(runtime)).then((t) => remember(runtime, t));
    loading = { runtime, templates };
    const clear = () => {
      if (loading?.templates === templates) loading = undefined;
    };
    templates.then(clear, clear);
  }
  return loading.templates;
}

/** The first templates built for `runtime` are the process's (a second build is only discarded). */
function remember(runtime: BfvRuntime, templates: Templates): Templates {
  if (cached?.runtime !== runtime) cached = { runtime, templates };
  return cached.templates;
}

/** Builds the templates, one SEAL call (or two cheap ones) per step. */
function* templateSteps(runtime: BfvRuntime): Steps<Templates> {
  const { seal, context, encoder, evaluator } = runtime;
  const none = seal.ComprModeType.none;
  const owned: { delete(): void }[] = [];
  const own = <T extends { delete(): void }>(o: T): T => {
    owned.push(o);
    return o;
  };
  try {
    const keygen = own(seal.KeyGenerator(context));
    yield;
    const secretKey = own(secretKeyOf(seal, keygen));
    const publicKey = own(keygen.createPublicKey());
    yield;
    const encryptor = own(seal.Encryptor(context, publicKey, secretKey));
    const zero: PlainText = own(must(encoder.encode(new Uint32Array(SLOTS)), 'BatchEncoder.encode'));
    const answer = own(seal.CipherText());
    const pkS = own(keygen.createPublicKeySerializable());
    yield;
    const queryS = own(encryptor.encryptSymmetricSerializable(zero));
    yield;
    encryptor.encrypt(zero, answer);
    evaluator.cipherModSwitchTo(answer, runtime.lastParmsId, answer);
    yield;
    const nData = runtime.moduli.first.length;
    const query = ciphertextTemplate(queryS.saveArray(none), runtime, 'query ciphertext');
    expectLayout('query ciphertext', query.layout, { polys: 2, primes: nData, seeded: true, ntt: false });
    const answerT = ciphertextTemplate(answer.saveArray(none), runtime, 'answer ciphertext');
    expectLayout('answer ciphertext', answerT.layout, { polys: 2, primes: 1, seeded: false, ntt: false });
    const pk = ciphertextTemplate(pkS.saveArray(none), runtime, 'public key');
    expectLayout('public key', pk.layout, { polys: 2, primes: nData + 1, seeded: true, ntt: true });
    const plainBytes = zero.saveArray(none);
    const plainLayout = parsePlaintextLayout(plainBytes, 'plaintext template');
    if (plainLayout.coeffCount !== POLY_MODULUS_DEGREE) {
      throw new TokenLookupError('unsupported_runtime', `template plaintext: ${plainLayout.coeffCount} coefficients, expected ${POLY_MODULUS_DEGREE}`);
    }
    return {
      query,
      answer: answerT,
      publicKey: pk,
      plaintext: { bytes: plainBytes, layout: plainLayout },
    };
  } finally {
    for (const o of owned.reverse()) o.delete();
  }
}

/**
 * Writes the wire form of one ciphertext-shaped object (`serialized`, a local SEAL
 * serialization with the layout `layout`) into `dst` at `offset`: seed (if seeded), then the
 * packed coefficients. Returns the end offset.
 */
export function encodeCiphertextPart(
  serialized: Uint8Array,
  layout: CiphertextLayout,
  moduli: readonly number[],
  dst: Uint8Array,
  offset: number,
): number {
  return runStraight(encodeCiphertextPartSteps(serialized, layout, moduli, dst, offset));
}

/** encodeCiphertextPart as steps (one per polynomial and prime; compute/sliced-steps.ts). */
export function* encodeCiphertextPartSteps(
  serialized: Uint8Array,
  layout: CiphertextLayout,
  moduli: readonly number[],
  dst: Uint8Array,
  offset: number,
): Steps<number> {
  let o = offset;
  if (layout.seedOffset !== null) {
    dst.set(serialized.subarray(layout.seedOffset, layout.seedOffset + SEED_BYTES), o);
    o += SEED_BYTES;
  }
  return yield* packPolysSteps(serialized, layout.dataOffset, layout.storedPolys, layout.degree, moduli, dst, o);
}

/**
 * Reads one wire object from `src` at `offset` into `target` (a copy of the template) at the
 * template layout's regions. Returns the end offset in `src`. Throws malformed(`what`, …).
 */
export function decodeCiphertextPart(
  src: Uint8Array,
  offset: number,
  layout: CiphertextLayout,
  moduli: readonly number[],
  target: Uint8Array,
  what: string,
): number {
  return runStraight(decodeCiphertextPartSteps(src, offset, layout, moduli, target, what));
}

/** decodeCiphertextPart as steps (one per polynomial and prime; compute/sliced-steps.ts). */
export function* decodeCiphertextPartSteps(
  src: Uint8Array,
  offset: number,
  layout: CiphertextLayout,
  moduli: readonly number[],
  target: Uint8Array,
  what: string,
): Steps<number> {
  let o = offset;
  if (layout.seedOffset !== null) {
    if (o + SEED_BYTES > src.length) throw malformed(what, 'truncated seed');
    target.set(src.subarray(o, o + SEED_BYTES), layout.seedOffset);
    o += SEED_BYTES;
  }
  return yield* unpackPolysSteps(src, o, layout.storedPolys, layout.degree, moduli, target, layout.dataOffset, what);
}

/** Checks that a local serialization has exactly the template's size (same kind and level). */
export function checkSameShape(serialized: Uint8Array, template: CiphertextTemplate, what: string): void {
  if (serialized.length !== template.bytes.length) {
    throw new TokenLookupError('unsupported_runtime', `${what}: serialized to ${serialized.length} bytes, template has ${template.bytes.length}`);
  }
}

/**
 * A plaintext with the given coefficients (each below t; missing ones are 0), written into a
 * copy of the local template and loaded by SEAL. The caller deletes it.
 */
export function plaintextFromCoefficients(runtime: BfvRuntime, coefficients: Uint32Array): PlainText {
  const template = getTemplates(runtime).plaintext;
  if (coefficients.length > template.layout.coeffCount) throw new TokenLookupError('invalid_argument', 'too many coefficients');
  const bytes = template.bytes.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = runtime.plainModulus;
  for (let i = 0; i < coefficients.length; i++) {
    const c = coefficients[i]!;
    if (c >= t) throw new TokenLookupError('invalid_argument', `coefficient ${i} is not below t`);
    view.setUint32(template.layout.dataOffset + 8 * i, c, true);
  }
  const plain = runtime.seal.PlainText();
  try {
    plain.loadArray(runtime.context, bytes);
  } catch (e) {
    plain.delete();
    throw e;
  } finally {
    bytes.fill(0);
  }
  return plain;
}

/** The constant coefficient of a local plaintext (a decryption). */
export function constantCoefficient(runtime: BfvRuntime, plain: PlainText): number {
  const bytes = plain.saveArray(runtime.seal.ComprModeType.none);
  try {
    const layout = parsePlaintextLayout(bytes, 'decrypted answer');
    if (layout.coeffCount < 1) return 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return view.getUint32(layout.dataOffset, true) + view.getUint32(layout.dataOffset + 4, true) * 4294967296;
  } finally {
    bytes.fill(0);
  }
}
