/**
 * Every node-seal object a token-lookup session makes is deleted (issue 15: "node-seal objects
 * are freed"), counted exactly by tests/helpers/seal-ledger.ts: after a session as the gateway
 * (P1) and the engine (P0) run it (queries encrypted ahead from a pool, answers against the
 * rotated table), after one cancelled midway (the client disposed while a query is being
 * encrypted ahead, a prepared answer never used), and after malformed messages, no SEAL object
 * is left alive. WASM memory never shrinks and the GC does not free it: one object left per
 * session is a leak that a soak finds only after thousands of requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { type SealLedger, installSealLedger } from '../../tests/helpers/seal-ledger.js';
import { AheadPool } from '../pool/ahead-pool.js';
import { type AheadQuery, TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupServer } from './token-lookup-server.js';

const VOCAB = 512;
let ledger: SealLedger;
const prg = Prg.random();

beforeAll(async () => {
  ledger = await installSealLedger();
});
afterAll(() => ledger.uninstall());

const live = () => Object.fromEntries(ledger.live());

describe('node-seal objects of a token-lookup session', () => {
  it('are all deleted after a session as the gateway and the engine run it', async () => {
    expect(ledger.liveCount()).toBe(0);
    const client = await TokenLookupClient.create();
    // A session holds only its encryptor and decryptor: the key generator, the secret key and the
    // public key (three more copies of key material, 1 MiB of WASM memory) are gone once it is set up.
    expect(live()).toEqual({ 'seal.Encryptor()': 1, 'seal.Decryptor()': 1 });
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    const passes = 4;
    // The gateway's pool of queries encrypted ahead (private-generation.ts).
    const pool = new AheadPool<AheadQuery>({ capacity: 2, total: passes, produce: () => client.queryAhead(1, VOCAB), release: (q) => q.dispose() });
    try {
      for (let p = 0; p < passes; p++) {
        const table = prg.permutation(VOCAB);
        const prepared = await server.prepareShifted(table); // the engine, before the query comes
        try {
          const j = prg.below(VOCAB);
          const ahead = await pool.take();
          const answer = await server.answerShifted(ahead.bytes, client.offsetMessage(ahead, [j]), prepared);
          expect(await client.decodeAnswersSliced(answer, VOCAB)).toEqual([table[j]]);
          expect(client.noiseBudgets(answer)[0]).toBeGreaterThan(0);
        } finally {
          prepared.dispose();
        }
      }
      // The query-at-once path (no ahead pool) too.
      const table = prg.permutation(VOCAB);
      expect(client.decodeAnswer(server.answer(client.query(7, VOCAB), table), VOCAB)).toBe(table[7]);
      expect(ledger.liveCount()).toBeGreaterThan(0); // the ledger sees the session's keys
    } finally {
      pool.dispose();
      server.dispose();
      client.dispose();
    }
    expect(live()).toEqual({});
  });

  it('are all deleted after a session cancelled while a query is encrypted ahead and an answer is prepared', async () => {
    const client = await TokenLookupClient.create();
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    // Eight ciphertexts per lookup (some 40 ms): queryAhead yields when its slice is used up, so it is midway when cancelled.
    const vocab = 8 * 8192;
    const prepared = await server.prepareShifted(prg.permutation(vocab));
    const pool = new AheadPool<AheadQuery>({ capacity: 2, total: 8, produce: () => client.queryAhead(1, vocab), release: (q) => q.dispose() });
    const taken = pool.take();
    await new Promise((resolve) => setImmediate(resolve)); // the first query is being encrypted
    expect(ledger.liveCount()).toBeGreaterThan(0);
    // The end of a cancelled session, in the order of private-generation.ts and engine-session.ts.
    pool.dispose();
    client.dispose();
    prepared.dispose();
    server.dispose();
    await expect(taken).rejects.toThrow();
    expect(live()).toEqual({});
  });

  it('are all deleted after the engine ends its session while an answer is being computed in slices', async () => {
    const client = await TokenLookupClient.create();
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    // 16 ciphertexts per lookup: the answer takes several slices (compute/sliced-steps.ts).
    const vocab = 128256;
    const ahead = await client.queryAhead(1, vocab);
    const prepared = await server.prepareShifted(prg.permutation(vocab));
    const answering = server.answerShifted(ahead.bytes, client.offsetMessage(ahead, [vocab - 1]), prepared);
    await new Promise((resolve) => setImmediate(resolve)); // the answer is between two slices
    expect(prepared.disposed).toBe(false);
    server.dispose();
    await expect(answering).rejects.toThrow(/disposed during a lookup/);
    expect(prepared.disposed).toBe(true);
    client.dispose();
    expect(live()).toEqual({});
  });

  it('are all deleted after malformed or refused messages on both sides', async () => {
    const client = await TokenLookupClient.create();
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    try {
      const table = prg.permutation(VOCAB);
      const ahead = await client.queryAhead(1, VOCAB);
      const offsets = client.offsetMessage(ahead, [3]);
      // A query cut short, then one with a ciphertext SEAL refuses: the prepared answer is freed either way.
      await expect(server.answerShifted(ahead.bytes.subarray(0, ahead.bytes.length - 9), offsets, await server.prepareShifted(table))).rejects.toThrow();
      const corrupt = ahead.bytes.slice();
      corrupt.fill(0xff, corrupt.length - 4096);
      await expect(server.answerShifted(corrupt, offsets, await server.prepareShifted(table))).rejects.toThrow();
      // Two lookups where the session declared one.
      expect(() => server.answerMany(client.queryMany([1, 2], VOCAB), table)).toThrow();
      // An answer the client cannot read: cut short, and one whose ciphertext SEAL refuses.
      const answer = await server.answerShifted(ahead.bytes, offsets, await server.prepareShifted(table));
      await expect(client.decodeAnswersSliced(answer.subarray(0, answer.length - 1))).rejects.toThrow();
      const garbled = answer.slice();
      garbled.fill(0xff, garbled.length - 4096);
      expect(() => client.decodeAnswers(garbled)).toThrow();
      expect(client.decodeAnswers(answer, VOCAB)).toEqual([table[3]]);
    } finally {
      server.dispose();
      client.dispose();
    }
    expect(live()).toEqual({});
  });
});
