/**
 * P0's (the engine's) side of the homomorphic token lookup (protocol.md, "Token output").
 *
 * Given P1's query Enc(q_0), …, Enc(q_{m−1}) (m = ceil(V / N) ciphertexts, q_i(x) the one-hot
 * of the permuted index in coefficient form) and the table T[j] = π_out(j) (the real id at
 * permuted index j), P0 computes
 *
 *   c = Σ_i Enc(q_i) · T_i(x) + R(x),   T_i(x) = T[iN] − Σ_{k≥1} T[iN+k]·x^(N−k)
 *
 * (negacyclic, x^N = −1), so the constant coefficient of c is Σ_j q[j]·T[j] mod t: π_out(j) for
 * an honest one-hot. R is fresh per lookup, 0 at x^0 and uniform in Z_t at every other
 * coefficient, so a deviating P1 that sets several entries or arbitrary values learns one
 * linear combination of the table per lookup, never the table entry by entry.
 *
 * Circuit privacy (issue 11): before returning, P0 adds a fresh public-key encryption of zero
 * (fresh c1: the answer's randomness no longer follows from the query ciphertexts and the order
 * of operations), then floods the noise: uniform noise of 2^floodBits(C) per coefficient,
 * 2^53 times a worst-case bound on the table-dependent noise (bfv-parameters.ts), so the noise
 * P1 can compute with its secret key is within 2^−40 of table-independent. Only then is c
 * switched to the last modulus level (a deterministic function of the flooded ciphertext, so
 * it keeps the statistical distance), which makes the answer as small as possible. It assumes
 * P1's keys were honestly generated (semi-honest model): a degenerate public key makes the
 * encryption of zero add nothing; the flood does not depend on P1's keys.
 *
 * Queries sent ahead (answerShifted; the privacy argument is in token-lookup-client.ts): the
 * query encrypts the one-hot of P1's random offset r, and the online message carries
 * s = (j − r) mod M, M = ceil(V / N) · N. P0 computes the same c against the rotated table
 * T'[k] = T[(k + s) mod M] (T[k] = 0 for k ≥ V), whose encoding therefore waits for s; the
 * blinding, the expensive query-independent part, is still prepared ahead.
 *
 * On the event loop (issue 15): what a party runs (fromSetup, prepareShifted, answerShifted) is
 * async and runs in bounded slices (compute/sliced-steps.ts): it yields between polynomials,
 * ciphertexts and blocks of coefficients, so one answer over 16 ciphertexts per lookup and 21
 * lookups (about 2 s of work) never holds the loop much longer than the slice budget. The
 * synchronous prepare / answerPrepared / answer / answerMany run the same steps straight
 * through, for tests and benchmarks; a server should not call them.
 */
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import { randomBytes } from 'node:crypto';
import { type Steps, runSliced, runStraight } from '../../compute/sliced-steps.js';
import { MAX_LOOKUPS_PER_MESSAGE, SLOTS, ciphertextsPerLookup, floodBits } from './bfv-parameters.js';
import { floodNoiseSteps } from './flood-noise.js';
import {
  type Templates,
  checkSameShape,
  decodeCiphertextPartSteps,
  encodeCiphertextPartSteps,
  loadTemplates,
  must,
  plaintextFromCoefficients,
} from './object-codec.js';
import { type BfvRuntime, getBfvRuntime } from './seal-runtime.js';
import { TokenLookupError, errorText, invalidArgument, malformed } from './token-lookup-error.js';
import { MESSAGE_HEADER_BYTES, MessageKind, expectLength, readHeader, writeHeader } from './wire-format.js';

const QUERY_FIELDS_BYTES = 8;

export class TokenLookupServer {
  private disposed = false;

  private constructor(
    private readonly runtime: BfvRuntime,
    private readonly templates: Templates,
    private readonly encryptor: Encryptor,
    private readonly lookupsPerQuery: number,
  ) {}

  /**
   * Loads P1's setup message (its public key). Malformed bytes throw a
   * TokenLookupError. `lookupsPerQuery` is the number of lookups the session declared per
   * token (1 + top_logprobs, SessionParams.lookupsPerToken): every query must carry exactly
   * that many, so a deviating P1 cannot read more real ids per token than it declared.
   */
  static async fromSetup(setupBytes: Uint8Array, options: { lookupsPerQuery: number }): Promise<TokenLookupServer> {
    const { lookupsPerQuery } = options;
    if (!Number.isInteger(lookupsPerQuery) || lookupsPerQuery < 1 || lookupsPerQuery > MAX_LOOKUPS_PER_MESSAGE) {
      throw invalidArgument('lookupsPerQuery', `must be an integer in [1, ${MAX_LOOKUPS_PER_MESSAGE}], got ${lookupsPerQuery}`);
    }
    const runtime = await getBfvRuntime();
    const templates = await loadTemplates(runtime);
    const msg = readHeader(setupBytes, MessageKind.setup, 'setupBytes');
    const pkT = templates.publicKey;
    expectLength(msg, MESSAGE_HEADER_BYTES + pkT.wireBytes, 'setupBytes', 'public key');
    const { seal, context } = runtime;
    const pkBytes = pkT.bytes.slice();
    await runSliced(decodeCiphertextPartSteps(msg, MESSAGE_HEADER_BYTES, pkT.layout, pkT.moduli, pkBytes, 'setupBytes public key'));
    const publicKey = seal.PublicKey();
    try {
      try {
        publicKey.loadArray(context, pkBytes);
      } catch (e) {
        throw malformed('setupBytes public key', `rejected by SEAL (${errorText(e)})`);
      }
      // The encryptor keeps its own copy of pk: the loaded one is freed now, not at the session's end.
      const encryptor = seal.Encryptor(context, publicKey);
      return new TokenLookupServer(runtime, templates, encryptor, lookupsPerQuery);
    } finally {
      publicKey.delete();
    }
  }

  /**
   * Answers a query of exactly `lookupsPerQuery` lookups (from query() or queryMany()), one
   * answer ciphertext per lookup, in order; any other count is refused ('lookup_count_refused'). `table[j]` is the real token id at permuted
   * index j (table[j] = π_out(j)); table.length must be the vocabulary size of the query.
   * Malformed query bytes throw a TokenLookupError ('malformed_message'); a bad table throws
   * one with code 'invalid_argument'.
   */
  answer(queryBytes: Uint8Array, table: Uint32Array): Uint8Array {
    return this.answerPrepared(queryBytes, this.prepare(table));
  }

  /** Same as answer(): named for call sites that send several lookups (top_logprobs). */
  answerMany(queryBytes: Uint8Array, table: Uint32Array): Uint8Array {
    return this.answerPrepared(queryBytes, this.prepare(table));
  }

  /**
   * Everything of an answer that does not depend on the query, computed before it arrives (P0
   * knows π_out as soon as the logits are opened, while P1 samples and encrypts): the table's
   * plaintexts, and per lookup the blinding ciphertext Enc(0) + R(x) + flood noise (fresh
   * randomness each; the same terms answer() adds, in another order, so the same distribution).
   * Use it once with answerPrepared(), which frees it; dispose() it if no query comes.
   */
  prepare(table: Uint32Array): PreparedAnswer {
    return runStraight(this.prepareSteps(table, false));
  }

  /**
   * prepare() (`shifted` false) or prepareShifted() as steps: the table's plaintexts unless
   * shifted, then the blinds; a prepared answer that does not get that far is freed.
   */
  private *prepareSteps(table: Uint32Array, shifted: boolean): Steps<PreparedAnswer> {
    this.checkTable(table);
    const perLookup = ciphertextsPerLookup(table.length);
    const prepared = new PreparedAnswer(table.length, perLookup, [], [], shifted ? table.slice() : null);
    let complete = false;
    try {
      if (!shifted) yield* encodeTableSteps(this.runtime, table, perLookup, prepared.plains);
      yield* this.blindSteps(prepared.blinds, perLookup);
      complete = true;
      return prepared;
    } finally {
      if (!complete) prepared.dispose();
    }
  }

  private checkTable(table: Uint32Array): void {
    if (this.disposed) throw new TokenLookupError('disposed', 'TokenLookupServer used after dispose()');
    const t = this.runtime.plainModulus;
    if (!(table instanceof Uint32Array) || table.length < 1 || table.length > t) {
      throw invalidArgument('table', `must be a Uint32Array of 1 to ${t} ids`);
    }
    for (let j = 0; j < table.length; j++) {
      if (table[j]! >= t) throw invalidArgument('table', `id at index ${j} does not fit the plain modulus`);
    }
  }

  /** Per lookup: Enc(0) + R(x) + flood noise, fresh randomness each; into `blinds` (the caller frees them). */
  private *blindSteps(blinds: CipherText[], perLookup: number): Steps<void> {
    const { evaluator } = this.runtime;
    for (let l = 0; l < this.lookupsPerQuery; l++) {
      const blind = must(this.encryptor.encryptZero(), 'Encryptor.encryptZero');
      blinds.push(blind);
      yield;
      const mask = maskPlaintext(this.runtime);
      try {
        evaluator.addPlain(blind, mask, blind);
      } finally {
        mask.delete();
      }
      yield;
      yield* floodNoiseSteps(this.runtime, blind, floodBits(perLookup));
      yield;
    }
  }

  /**
   * prepare() for a query sent ahead (answerShifted): the blinding ciphertexts only, and a copy
   * of the table, which is encoded once the offsets arrive (its rotation depends on them). In
   * bounded slices of the event loop; throws if the server is disposed meanwhile.
   */
  prepareShifted(table: Uint32Array): Promise<PreparedAnswer> {
    return runSliced(this.prepareSteps(table, true), () => this.assertLive());
  }

  private assertLive(prepared?: PreparedAnswer): void {
    if (this.disposed) throw new TokenLookupError('disposed', 'TokenLookupServer disposed during a lookup');
    if (prepared?.disposed) throw new TokenLookupError('disposed', 'prepared answer disposed during a lookup');
  }

  /**
   * The answer to a query sent ahead (`queryBytes`, the one-hots of P1's offsets r_l) once P1's
   * `offsetBytes` (s_l = j_l − r_l mod M) arrive: lookup l is answered against the table rotated
   * by s_l, so it decrypts to table[j_l]. Frees `prepared` (from prepareShifted). Malformed or
   * out-of-range offsets throw a TokenLookupError ('malformed_message').
   */
  async answerShifted(queryBytes: Uint8Array, offsetBytes: Uint8Array, prepared: PreparedAnswer): Promise<Uint8Array> {
    try {
      if (this.disposed) throw new TokenLookupError('disposed', 'TokenLookupServer used after dispose()');
      const table = prepared.table;
      if (table === null) throw invalidArgument('prepared', 'must come from prepareShifted()');
      const span = prepared.perLookup * SLOTS;
      const msg = readHeader(offsetBytes, MessageKind.offset, 'offsetBytes');
      if (msg.length < MESSAGE_HEADER_BYTES + 4) throw malformed('offsetBytes', 'truncated before the lookup count');
      const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
      const lookups = view.getUint16(MESSAGE_HEADER_BYTES, true);
      if (view.getUint16(MESSAGE_HEADER_BYTES + 2, true) !== 0) throw malformed('offsetBytes', 'nonzero reserved field');
      if (lookups !== this.lookupsPerQuery) {
        throw new TokenLookupError('lookup_count_refused', `offsetBytes: ${lookups} offsets, the session declared ${this.lookupsPerQuery} lookups per token`);
      }
      expectLength(msg, MESSAGE_HEADER_BYTES + 4 + 4 * lookups, 'offsetBytes', `${lookups} offsets`);
      const shifts: number[] = [];
      for (let l = 0; l < lookups; l++) {
        const s = view.getUint32(MESSAGE_HEADER_BYTES + 4 + 4 * l, true);
        if (s >= span) throw malformed('offsetBytes', `offset ${l} is not below M = ${span}`);
        shifts.push(s);
      }
      const rotated = new Uint32Array(span);
      const { runtime } = this;
      try {
        const steps = this.answerSteps(queryBytes, prepared, function* (l, plains) {
          const s = shifts[l]!;
          // T'[k] = T[(k + s) mod M]; T is zero beyond V.
          rotated.fill(0);
          if (s < table.length) rotated.set(table.subarray(s), 0);
          if (s > 0) rotated.set(table.subarray(0, Math.min(table.length, s)), span - s);
          yield* encodeTableSteps(runtime, rotated, prepared.perLookup, plains);
        });
        return await runSliced(steps, () => this.assertLive(prepared));
      } finally {
        rotated.fill(0);
      }
    } finally {
      prepared.dispose();
    }
  }

  /** Frees the keys (WASM memory). Idempotent; any later call throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encryptor.delete();
  }

  /** The answer to `queryBytes` from what prepare() computed for its table; frees `prepared`. */
  answerPrepared(queryBytes: Uint8Array, prepared: PreparedAnswer): Uint8Array {
    try {
      if (prepared.table !== null) throw invalidArgument('prepared', 'comes from prepareShifted(): answer it with answerShifted()');
      return runStraight(this.answerSteps(queryBytes, prepared, null));
    } finally {
      prepared.dispose();
    }
  }

  /**
   * The answer's homomorphic part, as steps (one per polynomial and prime of each ciphertext
   * decoded or encoded, one per SEAL operation on a ciphertext). `tableFor(l, plains)`, when
   * given, encodes lookup l's (rotated) table into `plains`, which is freed after that lookup;
   * otherwise every lookup uses prepared.plains.
   */
  private *answerSteps(
    queryBytes: Uint8Array,
    prepared: PreparedAnswer,
    tableFor: ((lookup: number, plains: (PlainText | null)[]) => Steps<void>) | null,
  ): Steps<Uint8Array> {
    if (this.disposed) throw new TokenLookupError('disposed', 'TokenLookupServer used after dispose()');
    if (prepared.disposed) throw new TokenLookupError('disposed', 'prepared answer used twice');
    const table = { length: prepared.vocabSize };
    const msg = readHeader(queryBytes, MessageKind.query, 'queryBytes');
    if (msg.length < MESSAGE_HEADER_BYTES + QUERY_FIELDS_BYTES) throw malformed('queryBytes', 'truncated before the query fields');
    const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const vocabSize = view.getUint32(MESSAGE_HEADER_BYTES, true);
    const lookups = view.getUint16(MESSAGE_HEADER_BYTES + 4, true);
    const perLookup = view.getUint16(MESSAGE_HEADER_BYTES + 6, true);
    if (vocabSize !== table.length) {
      throw malformed('queryBytes', `query is for a vocabulary of ${vocabSize} tokens, the table has ${table.length}`);
    }
    if (perLookup !== ciphertextsPerLookup(vocabSize)) {
      throw malformed('queryBytes', `${perLookup} ciphertexts per lookup, expected ceil(${vocabSize}/${SLOTS}) = ${ciphertextsPerLookup(vocabSize)}`);
    }
    if (lookups < 1 || lookups > MAX_LOOKUPS_PER_MESSAGE) {
      throw malformed('queryBytes', `lookup count ${lookups} not in [1, ${MAX_LOOKUPS_PER_MESSAGE}]`);
    }
    if (lookups !== this.lookupsPerQuery) {
      throw new TokenLookupError('lookup_count_refused', `queryBytes: ${lookups} lookups in one query, the session declared ${this.lookupsPerQuery} per token`);
    }
    const qT = this.templates.query;
    expectLength(msg, MESSAGE_HEADER_BYTES + QUERY_FIELDS_BYTES + lookups * perLookup * qT.wireBytes, 'queryBytes', `${lookups} × ${perLookup} query ciphertexts`);

    const aT = this.templates.answer;
    const out = new Uint8Array(MESSAGE_HEADER_BYTES + 2 + lookups * aT.wireBytes);
    let w = writeHeader(out, MessageKind.answer);
    new DataView(out.buffer).setUint16(w, lookups, true);
    w += 2;

    const { seal, context, evaluator } = this.runtime;
    const { blinds } = prepared;
    const target = qT.bytes.slice(); // every variable region is overwritten per ciphertext
    const query = seal.CipherText();
    const product = seal.CipherText();
    try {
      let r = MESSAGE_HEADER_BYTES + QUERY_FIELDS_BYTES;
      for (let l = 0; l < lookups; l++) {
        let acc: CipherText | null = null;
        const plains: (PlainText | null)[] = tableFor ? [] : prepared.plains;
        try {
          if (tableFor) yield* tableFor(l, plains);
          for (let i = 0; i < perLookup; i++) {
            const what = `queryBytes ciphertext ${l * perLookup + i}`;
            r = yield* decodeCiphertextPartSteps(msg, r, qT.layout, qT.moduli, target, what);
            try {
              query.loadArray(context, target);
            } catch (e) {
              throw malformed(what, `rejected by SEAL (${errorText(e)})`);
            }
            const plain = plains[i];
            // An all-zero slice contributes nothing (and SEAL refuses a transparent product).
            if (plain === null || plain === undefined) continue;
            if (acc === null) {
              acc = seal.CipherText();
              evaluator.multiplyPlain(query, plain, acc);
            } else {
              evaluator.multiplyPlain(query, plain, product);
              evaluator.add(acc, product, acc);
            }
            yield;
          }
          acc ??= must(this.encryptor.encryptZero(), 'Encryptor.encryptZero');
          // + Enc(0) + R(x) + flood noise, prepared before the query came.
          evaluator.add(acc, blinds[l]!, acc);
          evaluator.cipherModSwitchTo(acc, this.runtime.lastParmsId, acc);
          const bytes = acc.saveArray(seal.ComprModeType.none);
          checkSameShape(bytes, aT, 'answer ciphertext');
          yield;
          w = yield* encodeCiphertextPartSteps(bytes, aT.layout, aT.moduli, out, w);
        } finally {
          acc?.delete();
          if (tableFor) for (const p of plains) p?.delete();
        }
      }
    } finally {
      for (const c of [query, product]) c.delete();
    }
    return out;
  }
}

/** What prepare() (or prepareShifted()) computes for one answer: the table's plaintexts (or the table) and one blinding ciphertext per lookup (WASM memory). */
export class PreparedAnswer {
  disposed = false;
  constructor(
    readonly vocabSize: number,
    readonly perLookup: number,
    /** Filled by prepare(); empty for prepareShifted(). */
    readonly plains: (PlainText | null)[],
    readonly blinds: CipherText[],
    /** prepareShifted(): the table, encoded once the offsets are known; null for prepare(). */
    readonly table: Uint32Array | null,
  ) {}

  /** Frees the plaintexts and ciphertexts. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.table?.fill(0);
    for (const p of this.plains) p?.delete();
    for (const b of this.blinds) b.delete();
  }
}

/**
 * The table in coefficient form, one plaintext per slice of N ids: coefficient 0 holds
 * T[iN], coefficient N − k holds −T[iN + k] mod t, so that x^k · T_i(x) has T[iN + k] as its
 * constant coefficient. null for an all-zero slice.
 */
function* encodeTableSteps(runtime: BfvRuntime, table: Uint32Array, slices: number, plains: (PlainText | null)[]): Steps<void> {
  const t = runtime.plainModulus;
  const coefficients = new Uint32Array(SLOTS);
  try {
    for (let i = 0; i < slices; i++) {
      coefficients.fill(0);
      const part = table.subarray(i * SLOTS, (i + 1) * SLOTS);
      coefficients[0] = part[0] ?? 0;
      for (let k = 1; k < part.length; k++) coefficients[SLOTS - k] = part[k] === 0 ? 0 : t - part[k]!;
      plains.push(part.some((v) => v !== 0) ? plaintextFromCoefficients(runtime, coefficients) : null);
      yield;
    }
  } finally {
    coefficients.fill(0);
  }
}

/** R(x): 0 at x^0, uniform in Z_t (node:crypto, rejection sampling on 20 bits) elsewhere. */
function maskPlaintext(runtime: BfvRuntime): PlainText {
  const t = runtime.plainModulus;
  const bits = Math.ceil(Math.log2(t));
  const coefficients = new Uint32Array(SLOTS);
  let filled = 1;
  while (filled < SLOTS) {
    const random = randomBytes(4 * (SLOTS - filled + 64));
    const words = new Uint32Array(random.buffer, random.byteOffset, random.byteLength / 4);
    for (let w = 0; w < words.length && filled < SLOTS; w++) {
      const candidate = words[w]! >>> (32 - bits);
      if (candidate < t) coefficients[filled++] = candidate;
    }
    random.fill(0);
  }
  try {
    return plaintextFromCoefficients(runtime, coefficients);
  } finally {
    coefficients.fill(0);
  }
}
