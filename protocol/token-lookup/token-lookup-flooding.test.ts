/**
 * Circuit privacy of the answer (issue 11): the noise P1 can measure with its secret key
 * depends on P0's table before flooding and no longer after. The distinguisher is the noise
 * budget (−log2 of the noise relative to Δ/2) of the ciphertext P0 holds right before the switch
 * to the last level, built exactly as the server builds it. Flooding must (a) make the budget
 * the same for every table, (b) sit at least 2^52 above the largest table noise measured (the
 * parameters claim 2^53 above a worst-case bound), and (c) still decrypt correctly after the
 * modulus switch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import { Prg } from '../../crypto/prg.js';
import { SLOTS, floodBits } from './bfv-parameters.js';
import { constantCoefficient, plaintextFromCoefficients } from './object-codec.js';
import { floodNoise } from './flood-noise.js';
import { type BfvRuntime, getBfvRuntime } from './seal-runtime.js';

let runtime: BfvRuntime;
let keygen: KeyGenerator;
let encryptor: Encryptor;
let decryptor: Decryptor;

beforeAll(async () => {
  runtime = await getBfvRuntime();
  keygen = runtime.seal.KeyGenerator(runtime.context);
  const sk = keygen.secretKey();
  encryptor = runtime.seal.Encryptor(runtime.context, keygen.createPublicKey(), sk);
  decryptor = runtime.seal.Decryptor(runtime.context, sk);
});
afterAll(() => {
  for (const o of [decryptor, encryptor, keygen]) o.delete();
});

/** P0's answer to the one-hot of `index` over `table` (one slice), at the top level, before flooding. */
function unflooded(table: Uint32Array, index: number): CipherText {
  const { seal, evaluator, plainModulus: t } = runtime;
  const one = new Uint32Array(SLOTS);
  one[index] = 1;
  const coefficients = new Uint32Array(SLOTS);
  coefficients[0] = table[0]!;
  for (let k = 1; k < SLOTS; k++) coefficients[SLOTS - k] = table[k] === 0 ? 0 : t - table[k]!;
  const mask = Uint32Array.from({ length: SLOTS }, (_, k) => (k === 0 ? 0 : (k * 40503) % t));
  const [queryPlain, tablePlain, maskPlain] = [one, coefficients, mask].map((c) => plaintextFromCoefficients(runtime, c));
  const query = encryptor.encryptSymmetric(queryPlain!)!;
  const acc = seal.CipherText();
  evaluator.multiplyPlain(query, tablePlain!, acc);
  evaluator.addPlain(acc, maskPlain!, acc);
  const zero = encryptor.encryptZero()!;
  evaluator.add(acc, zero, acc);
  for (const o of [query, zero, queryPlain!, tablePlain!, maskPlain!]) o.delete();
  return acc;
}

describe('noise flooding of the token-lookup answer', () => {
  it('hides the table in the noise and still decrypts', () => {
    const prg = Prg.fromSeed('flooding-test', 1);
    const sparse = new Uint32Array(SLOTS);
    sparse[100] = 7;
    const tables: [string, Uint32Array][] = [
      ['a single nonzero id', sparse],
      ['permutation of 512 ids', Uint32Array.from({ length: SLOTS }, (_, j) => prg.permutation(512)[j % 512]!)],
      ['random ids below t', Uint32Array.from({ length: SLOTS }, () => prg.below(runtime.plainModulus))],
    ];
    const f = floodBits(1);
    const before: number[] = [];
    const after: number[] = [];
    for (const [name, table] of tables) {
      const index = 100;
      const ct = unflooded(table, index);
      before.push(decryptor.invariantNoiseBudget(ct));
      floodNoise(runtime, ct, f);
      after.push(decryptor.invariantNoiseBudget(ct));
      runtime.evaluator.cipherModSwitchTo(ct, runtime.lastParmsId, ct);
      const final = decryptor.invariantNoiseBudget(ct);
      const plain = decryptor.decrypt(ct)!;
      const id = constantCoefficient(runtime, plain);
      plain.delete();
      console.log(`${name}: budget ${before.at(-1)} bits before flooding (2^${f}), ${after.at(-1)} after, ${final} at the last level`);
      expect(id, name).toBe(table[index]);
      expect(final, name).toBeGreaterThanOrEqual(1);
      ct.delete();
    }
    // Without flooding the noise tells the tables apart (so the check below means something).
    expect(Math.max(...before) - Math.min(...before)).toBeGreaterThanOrEqual(8);
    // With it, every table leaves the same budget, 2^52 or more below the noisiest table's.
    expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
    expect(Math.min(...before) - Math.max(...after)).toBeGreaterThanOrEqual(52);
  });
});
