/**
 * P1's (the user's, gateway's) side of the homomorphic token lookup (protocol.md, "Token
 * output"). After Perm with P0's fresh π_out, P1 sees the permuted logits and samples a
 * permuted index j; it learns the real token id π_out(j) like this:
 *
 *   setup  (per session)  P1 → P0  public key pk (for P0's re-randomisation)
 *   query  (per token)    P1 → P0  Enc_sk(x^(j mod N)) in slice ⌊j/N⌋: the one-hot of j in
 *                                  coefficient form, as ceil(V / N) symmetric BFV ciphertexts
 *   answer                P0 → P1  one ciphertext whose constant coefficient is
 *                                  Σ_k e_j[k]·π_out(k) = π_out(j) (every other coefficient is
 *                                  masked by P0); P1 decrypts
 *
 * P0 sees only ciphertexts under P1's key, so it learns neither j nor the id.
 *
 * Query ahead (issue 12: the encryption and the query's bytes leave the online step). The
 * query depends on j only through the one-hot, so P1 encrypts, before j exists, the one-hot of
 * a fresh uniform offset r ∈ Z_M (M = ceil(V / N) · N, every coefficient of the query's
 * ciphertexts) and sends it as offline data (queryAhead). Once it has sampled j, P1 sends only
 * s = (j − r) mod M (offsetMessage), and P0 answers against its table rotated by s,
 * T'[k] = T[(k + s) mod M] with T[k] = 0 for k ≥ V, so the answer's constant coefficient is
 * T'[r] = T[j] = π_out(j) exactly as before (TokenLookupServer.answerShifted).
 * Why it reveals nothing to P0: r is uniform on Z_M and independent of everything else, so
 * s = j − r mod M is uniform on Z_M whatever j is (a one-time pad over Z_M); the ciphertexts are
 * encryptions under P1's key made before j was drawn. P0's view (Enc(e_r), s) is therefore
 * simulated by (Enc(0), uniform s). What P1 learns is unchanged: for any query vector q and any
 * s it gets Σ_k q[k]·T[(k + s) mod M], one linear combination of the table per lookup, and the
 * other coefficients stay masked. Each ahead query is used for one token only (its r is wiped
 * when its offsets are made: a second use would send s' − s = j' − j).
 *
 * The secret key
 * never leaves this object (its encryptor and decryptor hold the only copies once it is
 * created); keys are fresh per instance, so create one per session and
 * dispose() it at the end of the session (it owns WASM memory that the GC does not free).
 *
 * On the event loop (issue 15): what a party runs (create, queryAhead, decodeAnswersSliced) is
 * async and runs in bounded slices (compute/sliced-steps.ts), yielding between polynomials,
 * ciphertexts and SEAL calls. The synchronous query / queryMany / decodeAnswer(s) /
 * noiseBudgets run the same steps straight through, for tests and benchmarks.
 */
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import {
  MAX_LOOKUPS_PER_MESSAGE,
  MIN_ANSWER_NOISE_BUDGET_BITS,
  SLOTS,
  ciphertextsPerLookup,
} from './bfv-parameters.js';
import {
  type Templates,
  checkSameShape,
  constantCoefficient,
  decodeCiphertextPartSteps,
  encodeCiphertextPartSteps,
  loadTemplates,
  must,
  plaintextFromCoefficients,
} from './object-codec.js';
import { randomInt } from 'node:crypto';
import { yieldToEventLoop } from '../../compute/event-loop-slices.js';
import { type Steps, runSliced, runStraight } from '../../compute/sliced-steps.js';
import { type BfvRuntime, getBfvRuntime, secretKeyOf } from './seal-runtime.js';
import { TokenLookupError, errorText, invalidArgument, malformed } from './token-lookup-error.js';
import { MESSAGE_HEADER_BYTES, MessageKind, expectLength, readHeader, writeHeader } from './wire-format.js';

export class TokenLookupClient {
  private disposed = false;

  private constructor(
    private readonly runtime: BfvRuntime,
    private readonly templates: Templates,
    private readonly encryptor: Encryptor,
    private readonly decryptor: Decryptor,
    private readonly setup: Uint8Array,
  ) {}

  /** A client with a fresh BFV key pair (never reuse one across sessions). */
  static async create(): Promise<TokenLookupClient> {
    const runtime = await getBfvRuntime();
    const templates = await loadTemplates(runtime);
    const { seal, context } = runtime;
    const keygen = seal.KeyGenerator(context);
    // The key generator, the secret key and the public key live only until the encryptor, the
    // decryptor (each keeps its own copy of what it needs) and the setup message exist: the
    // session then holds one copy of s in each of those two, not five, and half the WASM memory
    // (1 MiB instead of 2 at parameter set 3), which bounds the heap's growth under concurrent sessions.
    const transient: { delete(): void }[] = [keygen];
    let encryptor: Encryptor | undefined;
    let decryptor: Decryptor | undefined;
    try {
      const secretKey = secretKeyOf(seal, keygen);
      transient.push(secretKey);
      // Each key generation is one long WASM call: let the event loop turn between them (compute/event-loop-slices.ts).
      await yieldToEventLoop();
      // SEAL's Encryptor wants a public key even for symmetric use; this one is never sent.
      const publicKey = keygen.createPublicKey();
      transient.push(publicKey);
      encryptor = seal.Encryptor(context, publicKey, secretKey);
      decryptor = seal.Decryptor(context, secretKey);
      await yieldToEventLoop();
      const setup = await runSliced(setupMessageSteps(runtime, templates, keygen));
      const client = new TokenLookupClient(runtime, templates, encryptor, decryptor, setup);
      encryptor = decryptor = undefined; // the client's now
      return client;
    } finally {
      decryptor?.delete();
      encryptor?.delete();
      for (const o of transient.reverse()) o.delete();
    }
  }

  /** The session's setup message for P0: pk, nothing secret. A fresh copy. */
  setupMessage(): Uint8Array {
    this.assertLive();
    return this.setup.slice();
  }

  /**
   * A query for `lookups` lookups over a vocabulary of `vocabSize`, made before the indices are
   * known (see the file comment): the one-hots of fresh uniform offsets r_l ∈ Z_M. Yields to
   * the event loop between ciphertexts, so that it can run while the session waits on its links.
   * Send `bytes` as offline data; answer it once with offsetMessage().
   */
  async queryAhead(lookups: number, vocabSize: number): Promise<AheadQuery> {
    this.assertLive();
    this.checkVocab(vocabSize);
    if (!Number.isInteger(lookups) || lookups < 1 || lookups > MAX_LOOKUPS_PER_MESSAGE) {
      throw invalidArgument('lookups', `must be an integer in [1, ${MAX_LOOKUPS_PER_MESSAGE}], got ${lookups}`);
    }
    const perLookup = ciphertextsPerLookup(vocabSize);
    const span = perLookup * SLOTS;
    const offsets = new Uint32Array(lookups);
    for (let l = 0; l < lookups; l++) offsets[l] = randomInt(span);
    const steps = this.encryptQuerySteps(vocabSize, lookups, (lookup, slice, slots) => {
      const r = offsets[lookup]!;
      if (Math.floor(r / SLOTS) === slice) slots[r % SLOTS] = 1;
    }, perLookup);
    try {
      return new AheadQuery(await runSliced(steps, () => this.assertLive()), vocabSize, offsets);
    } catch (e) {
      offsets.fill(0);
      throw e;
    }
  }

  /**
   * The online part of a query sent ahead: s_l = (indices[l] − r_l) mod M for each lookup.
   * Wipes the ahead query's offsets (it answers one token only); throws if it was used before.
   */
  offsetMessage(ahead: AheadQuery, indices: readonly number[]): Uint8Array {
    this.assertLive();
    if (!(ahead instanceof AheadQuery)) throw invalidArgument('ahead', 'must come from queryAhead()');
    if (ahead.used) throw new TokenLookupError('disposed', 'ahead query used twice (its offsets would reveal the difference of two indices)');
    const { vocabSize, offsets } = ahead;
    if (!Array.isArray(indices) || indices.length !== offsets.length) {
      throw invalidArgument('indices', `must hold exactly ${offsets.length} indices (the ahead query's lookups)`);
    }
    indices.forEach((j, k) => {
      if (!Number.isInteger(j) || j < 0 || j >= vocabSize) {
        throw invalidArgument(`indices[${k}]`, `must be an integer in [0, ${vocabSize}), got ${j}`);
      }
    });
    const span = ciphertextsPerLookup(vocabSize) * SLOTS;
    const out = new Uint8Array(MESSAGE_HEADER_BYTES + 4 + 4 * offsets.length);
    const view = new DataView(out.buffer);
    const o = writeHeader(out, MessageKind.offset);
    view.setUint16(o, offsets.length, true);
    indices.forEach((j, l) => view.setUint32(o + 4 + 4 * l, (j - offsets[l]! + span) % span, true));
    ahead.dispose();
    return out;
  }

  /** Encrypts the one-hot of the permuted index `index` (0 <= index < vocabSize). */
  query(index: number, vocabSize: number): Uint8Array {
    return this.queryMany([index], vocabSize);
  }

  /**
   * Several independent lookups in one message (e.g. the sampled token plus top_logprobs
   * candidates). Each costs ceil(vocabSize / N) ciphertexts: bytes grow linearly.
   */
  queryMany(indices: readonly number[], vocabSize: number): Uint8Array {
    this.assertLive();
    this.checkVocab(vocabSize);
    if (!Array.isArray(indices) || indices.length < 1 || indices.length > MAX_LOOKUPS_PER_MESSAGE) {
      throw invalidArgument('indices', `must hold 1 to ${MAX_LOOKUPS_PER_MESSAGE} indices`);
    }
    indices.forEach((j, k) => {
      if (!Number.isInteger(j) || j < 0 || j >= vocabSize) {
        throw invalidArgument(`indices[${k}]`, `must be an integer in [0, ${vocabSize}), got ${j}`);
      }
    });
    const perLookup = ciphertextsPerLookup(vocabSize);
    return this.encryptQuery(vocabSize, indices.length, (lookup, slice, slots) => {
      const j = indices[lookup]!;
      if (Math.floor(j / SLOTS) === slice) slots[j % SLOTS] = 1;
    }, perLookup);
  }

  /**
   * Builds a query message whose ciphertext (lookup, slice) encrypts the coefficient vector
   * that `fill` writes into a zeroed `slots` array (coefficient k stands for id slice·N + k).
   * queryMany fills one-hots; a test can fill anything to check what a deviating P1 learns.
   */
  private encryptQuery(
    vocabSize: number,
    lookups: number,
    fill: (lookup: number, slice: number, slots: Uint32Array) => void,
    perLookup: number,
  ): Uint8Array {
    return runStraight(this.encryptQuerySteps(vocabSize, lookups, fill, perLookup));
  }

  /** encryptQuery as steps: the encryption of each ciphertext, then each polynomial and prime it packs. */
  private *encryptQuerySteps(
    vocabSize: number,
    lookups: number,
    fill: (lookup: number, slice: number, slots: Uint32Array) => void,
    perLookup: number,
  ): Generator<void, Uint8Array, void> {
    const { seal } = this.runtime;
    const t = this.templates.query;
    const out = new Uint8Array(MESSAGE_HEADER_BYTES + 8 + lookups * perLookup * t.wireBytes);
    const view = new DataView(out.buffer);
    let o = writeHeader(out, MessageKind.query);
    view.setUint32(o, vocabSize, true);
    view.setUint16(o + 4, lookups, true);
    view.setUint16(o + 6, perLookup, true);
    o += 8;
    const slots = new Uint32Array(SLOTS);
    try {
      for (let l = 0; l < lookups; l++) {
        for (let i = 0; i < perLookup; i++) {
          slots.fill(0);
          fill(l, i, slots);
          const plain = plaintextFromCoefficients(this.runtime, slots);
          let bytes: Uint8Array;
          try {
            const serializable = this.encryptor.encryptSymmetricSerializable(plain);
            try {
              bytes = serializable.saveArray(seal.ComprModeType.none);
            } finally {
              serializable.delete();
            }
          } finally {
            plain.delete(); // held the index
          }
          checkSameShape(bytes, t, 'query ciphertext');
          yield;
          o = yield* encodeCiphertextPartSteps(bytes, t.layout, t.moduli, out, o);
        }
      }
    } finally {
      slots.fill(0); // held the index
    }
    return out;
  }

  private checkVocab(vocabSize: number): void {
    if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > this.runtime.plainModulus) {
      throw invalidArgument('vocabSize', `must be an integer in [1, ${this.runtime.plainModulus}], got ${vocabSize}`);
    }
  }

  /**
   * The real token id from a one-lookup answer. With `vocabSize`, also checks id < vocabSize.
   * Throws if the bytes are malformed, the noise budget is exhausted, or the id is out of
   * range. (The other coefficients are P0's random mask: they carry no check.)
   */
  decodeAnswer(bytes: Uint8Array, vocabSize?: number): number {
    const ids = this.decodeAnswers(bytes, vocabSize);
    if (ids.length !== 1) throw malformed('answer', `expected 1 lookup, got ${ids.length}`);
    return ids[0]!;
  }

  /** The ids of a many-lookup answer, in query order. */
  decodeAnswers(bytes: Uint8Array, vocabSize?: number): number[] {
    return runStraight(this.decodeSteps(bytes, vocabSize));
  }

  /**
   * decodeAnswers in bounded slices of the event loop (what the gateway calls: 21 lookups are
   * some 50 ms of work). Throws if the client is disposed meanwhile.
   */
  decodeAnswersSliced(bytes: Uint8Array, vocabSize?: number): Promise<number[]> {
    return runSliced(this.decodeSteps(bytes, vocabSize), () => this.assertLive());
  }

  private *decodeSteps(bytes: Uint8Array, vocabSize: number | undefined): Steps<number[]> {
    const ids: number[] = [];
    yield* this.answerSteps(bytes, (ct, k) => {
      const budget = this.decryptor.invariantNoiseBudget(ct);
      if (budget < MIN_ANSWER_NOISE_BUDGET_BITS) {
        throw new TokenLookupError('undecryptable', `answer ${k}: noise budget exhausted`);
      }
      const plain = must(this.decryptor.decrypt(ct), 'Decryptor.decrypt');
      let id: number;
      try {
        id = constantCoefficient(this.runtime, plain);
      } finally {
        plain.delete();
      }
      if (vocabSize !== undefined && id >= vocabSize) {
        throw new TokenLookupError('undecryptable', `answer ${k}: id out of range for vocabSize ${vocabSize}`);
      }
      ids.push(id);
    });
    return ids;
  }

  /**
   * Diagnostic: the remaining invariant noise budget (bits) of each answer ciphertext. An
   * honest answer decrypts correctly while this is positive.
   */
  noiseBudgets(bytes: Uint8Array): number[] {
    const budgets: number[] = [];
    this.forEachAnswer(bytes, (ct) => budgets.push(this.decryptor.invariantNoiseBudget(ct)));
    return budgets;
  }

  /** Frees the keys (WASM memory). Idempotent; any later call throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.decryptor.delete();
    this.encryptor.delete();
  }

  private forEachAnswer(bytes: Uint8Array, visit: (ct: CipherText, index: number) => void): void {
    runStraight(this.answerSteps(bytes, visit));
  }

  /** Loads each answer ciphertext in turn and visits it: steps of one polynomial and prime, one load, one visit. */
  private *answerSteps(
    bytes: Uint8Array,
    visit: (ct: CipherText, index: number) => void,
  ): Steps<void> {
    this.assertLive();
    const msg = readHeader(bytes, MessageKind.answer, 'answer');
    const t = this.templates.answer;
    if (msg.length < MESSAGE_HEADER_BYTES + 2) throw malformed('answer', 'truncated before the lookup count');
    const lookups = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint16(MESSAGE_HEADER_BYTES, true);
    if (lookups < 1 || lookups > MAX_LOOKUPS_PER_MESSAGE) {
      throw malformed('answer', `lookup count ${lookups} not in [1, ${MAX_LOOKUPS_PER_MESSAGE}]`);
    }
    expectLength(msg, MESSAGE_HEADER_BYTES + 2 + lookups * t.wireBytes, 'answer', `${lookups} answer ciphertexts`);
    const { seal, context } = this.runtime;
    const target = t.bytes.slice();
    const ct = seal.CipherText();
    try {
      let o = MESSAGE_HEADER_BYTES + 2;
      for (let k = 0; k < lookups; k++) {
        o = yield* decodeCiphertextPartSteps(msg, o, t.layout, t.moduli, target, `answer ciphertext ${k}`);
        try {
          ct.loadArray(context, target);
        } catch (e) {
          throw malformed(`answer ciphertext ${k}`, `rejected by SEAL (${errorText(e)})`);
        }
        visit(ct, k);
        yield;
      }
    } finally {
      ct.delete();
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new TokenLookupError('disposed', 'TokenLookupClient used after dispose()');
  }
}

/**
 * A query encrypted ahead of its token (TokenLookupClient.queryAhead): `bytes` (the message, no
 * secret in it) and the secret offsets r_l, which offsetMessage() consumes and wipes. dispose()
 * wipes them for a query that is never used (the end of a session).
 */
export class AheadQuery {
  private wiped = false;
  constructor(
    readonly bytes: Uint8Array,
    readonly vocabSize: number,
    /** r_l: secret until wiped. */
    readonly offsets: Uint32Array,
  ) {}

  get used(): boolean {
    return this.wiped;
  }

  /** Bytes of the query message (for bounding a pool). */
  get byteLength(): number {
    return this.bytes.length;
  }

  dispose(): void {
    this.wiped = true;
    this.offsets.fill(0);
  }
}

/** The setup message (pk), as steps: the key's serialization, then each polynomial and prime it packs. */
function* setupMessageSteps(runtime: BfvRuntime, templates: Templates, keygen: KeyGenerator): Steps<Uint8Array> {
  const none = runtime.seal.ComprModeType.none;
  const pkT = templates.publicKey;
  const out = new Uint8Array(MESSAGE_HEADER_BYTES + pkT.wireBytes);
  let o = writeHeader(out, MessageKind.setup);
  const pkS = keygen.createPublicKeySerializable();
  let pk: Uint8Array;
  try {
    pk = pkS.saveArray(none);
  } finally {
    pkS.delete();
  }
  checkSameShape(pk, pkT, 'public key');
  yield;
  o = yield* encodeCiphertextPartSteps(pk, pkT.layout, pkT.moduli, out, o);
  if (o !== out.length) throw new TokenLookupError('unsupported_runtime', 'setup message size mismatch');
  return out;
}
