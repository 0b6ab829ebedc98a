import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { SLOTS, ciphertextsPerLookup } from './bfv-parameters.js';
import { getBfvRuntime } from './seal-runtime.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupError } from './token-lookup-error.js';
import { TokenLookupServer } from './token-lookup-server.js';
import { parsePlaintextLayout } from './seal-layout.js';

/** Noise budget (bits) an honest answer must keep, so decryption is right with margin. */
const MARGIN_BITS = 4;

let client: TokenLookupClient;
let server: TokenLookupServer;

beforeAll(async () => {
  client = await TokenLookupClient.create();
  server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
});
afterAll(() => {
  server.dispose();
  client.dispose();
});

/** Indices that exercise slice and row edges as well as random positions. */
function probeIndices(vocab: number, prg: Prg): number[] {
  const edges = [0, 1, SLOTS / 2 - 1, SLOTS / 2, SLOTS - 1, SLOTS, vocab - 1].filter((j) => j < vocab);
  return [...new Set([...edges, prg.below(vocab), prg.below(vocab)])];
}

describe('token lookup: P1 learns table[j] = π_out(j)', () => {
  for (const vocab of [512, 20000]) {
    it(`vocab ${vocab}: several indices of a random permutation`, () => {
      const prg = Prg.random();
      const table = prg.permutation(vocab);
      for (const j of probeIndices(vocab, prg)) {
        const query = client.query(j, vocab);
        const answer = server.answer(query, table);
        expect(client.decodeAnswer(answer, vocab)).toBe(table[j]);
      }
    });
  }

  it('vocab 128256 (Llama 3): one lookup, with noise budget to spare', () => {
    const vocab = 128256;
    const prg = Prg.random();
    const table = prg.permutation(vocab);
    const j = vocab - 1 - prg.below(SLOTS); // in the last, partly filled slice
    const answer = server.answer(client.query(j, vocab), table);
    expect(client.decodeAnswer(answer, vocab)).toBe(table[j]);
    expect(client.noiseBudgets(answer)[0]).toBeGreaterThanOrEqual(MARGIN_BITS);
  });

  it('the largest vocabulary the plain modulus allows still decrypts', async () => {
    const { plainModulus } = await getBfvRuntime();
    const vocab = plainModulus; // ids 0 .. t−1: ceil(t / N) = 253 ciphertexts
    const prg = Prg.random();
    const table = prg.permutation(vocab);
    const j = prg.below(vocab);
    const answer = server.answer(client.query(j, vocab), table);
    expect(client.decodeAnswer(answer, vocab)).toBe(table[j]);
    expect(client.noiseBudgets(answer)[0]).toBeGreaterThanOrEqual(MARGIN_BITS - 1);
  });

  it('queryMany / answerMany: independent lookups in one message, in order', async () => {
    const vocab = 5000;
    const prg = Prg.random();
    const table = prg.permutation(vocab);
    const indices = [4999, 0, prg.below(vocab), 17, 17];
    const five = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 5 });
    try {
      const answer = five.answerMany(client.queryMany(indices, vocab), table);
      expect(client.decodeAnswers(answer, vocab)).toEqual(indices.map((j) => table[j]));
      // answer() accepts the same many-lookup query (the engine uses one entry point).
      expect(client.decodeAnswers(five.answer(client.queryMany(indices, vocab), table))).toEqual(indices.map((j) => table[j]));
      expect(() => client.decodeAnswer(answer)).toThrow(/expected 1 lookup, got 5/);
    } finally {
      five.dispose();
    }
  });

  it('all-zero table slices (id 0 alone in a slice) are handled', () => {
    expect(client.decodeAnswer(server.answer(client.query(0, 1), Uint32Array.of(0)))).toBe(0);
    const vocab = SLOTS + 1;
    const table = new Uint32Array(vocab);
    for (let j = 0; j < SLOTS; j++) table[j] = j + 1; // the last slice holds only id 0
    for (const j of [SLOTS, 3]) expect(client.decodeAnswer(server.answer(client.query(j, vocab), table))).toBe(table[j]);
  });
});

describe("what each party's bytes show", () => {
  it('queries have a size fixed by the vocabulary alone and fresh randomness each time', () => {
    const vocab = 5000;
    const a = client.query(3, vocab);
    const b = client.query(4000, vocab);
    const c = client.query(3, vocab);
    expect(a.length).toBe(b.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    expect(a.length).toBe(16 + ciphertextsPerLookup(vocab) * (64 + (8192 * 135) / 8));
  });

  it('two answers to the same query are different bytes (re-randomised) yet decrypt to the same id', () => {
    const vocab = 32000;
    const table = Prg.random().permutation(vocab);
    const query = client.query(31999, vocab);
    const first = server.answer(query, table);
    const second = server.answer(query, table);
    expect(first.length).toBe(second.length);
    // Compare the ciphertext bodies (the 10-byte header is the same by construction).
    let differing = 0;
    for (let i = 10; i < first.length; i++) if (first[i] !== second[i]) differing++;
    expect(differing).toBeGreaterThan(0.9 * (first.length - 10));
    expect(client.decodeAnswer(first)).toBe(table[31999]);
    expect(client.decodeAnswer(second)).toBe(table[31999]);
  });

  it('a deviating P1 that sets several coefficients learns only their weighted sum', async () => {
    const vocab = 10000;
    const { plainModulus } = await getBfvRuntime();
    const table = Prg.random().permutation(vocab);
    // Reach the private query builder: this test plays a P1 that deviates from the protocol.
    const deviating = client as unknown as {
      encryptQuery(v: number, l: number, fill: (l: number, i: number, s: Uint32Array) => void, per: number): Uint8Array;
    };
    const query = deviating.encryptQuery(vocab, 1, (_l, i, slots) => {
      if (i === 0) {
        slots[10] = 1;
        slots[20] = 5;
      } else {
        slots[100] = 1; // index 8292
      }
    }, ciphertextsPerLookup(vocab));
    const expected = (table[10]! + 5 * table[20]! + table[8292]!) % plainModulus;
    // decodeAnswer checks that every slot holds the same value.
    expect(client.decodeAnswer(server.answer(query, table))).toBe(expected);
  });

  it('every coefficient of the answer but the constant one is masked: the table cannot be read off it', async () => {
    const vocab = 512;
    const { plainModulus: t, seal } = await getBfvRuntime();
    const table = Prg.random().permutation(vocab);
    const answer = server.answer(client.query(3, vocab), table);
    // P1 decrypts the whole answer with its secret key (what a curious P1 can always do).
    const inner = client as unknown as { decryptor: { decrypt(ct: unknown): { saveArray(m: unknown): Uint8Array; delete(): void } }; forEachAnswer(b: Uint8Array, v: (ct: unknown) => void): void };
    let coefficients: number[] = [];
    inner.forEachAnswer(answer, (ct) => {
      const plain = inner.decryptor.decrypt(ct);
      const bytes = plain.saveArray(seal.ComprModeType.none);
      plain.delete();
      const layout = parsePlaintextLayout(bytes);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      coefficients = Array.from({ length: layout.coeffCount }, (_, k) => view.getUint32(layout.dataOffset + 8 * k, true));
    });
    expect(coefficients[0]).toBe(table[3]);
    // Unmasked, coefficient m would be ±T[3 − m]: an id below 512 or t minus one. Masked, only
    // about 1024/t of them land there by chance (8 expected of 8191).
    const tableLike = coefficients.slice(1).filter((c) => c < vocab || c > t - vocab).length;
    expect(tableLike).toBeLessThan(40);
  });

  it("another session's client cannot decrypt the answer", async () => {
    const other = await TokenLookupClient.create();
    try {
      const table = Prg.random().permutation(512);
      const answer = server.answer(client.query(7, 512), table);
      expect(() => other.decodeAnswer(answer)).toThrow(TokenLookupError);
      expect(Buffer.from(other.setupMessage()).equals(Buffer.from(client.setupMessage()))).toBe(false);
    } finally {
      other.dispose();
    }
  });
});

describe('the declared number of lookups per token (issue 10)', () => {
  it('a query with more (or fewer) lookups than the session declared is refused; the declared count is answered', async () => {
    const vocab = 512;
    const table = Prg.random().permutation(vocab);
    // A deviating P1 that declared 1 lookup per token asks for 64 in one query.
    const greedy = client.queryMany(Array.from({ length: 64 }, (_, k) => k), vocab);
    expect(() => server.answer(greedy, table)).toThrow(TokenLookupError);
    expect(() => server.answer(greedy, table)).toThrow(/64 lookups in one query, the session declared 1 per token/);
    const three = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 3 });
    try {
      expect(() => three.answer(client.query(5, vocab), table)).toThrow(/1 lookups in one query, the session declared 3/);
      expect(client.decodeAnswers(three.answer(client.queryMany([5, 6, 7], vocab), table))).toEqual([table[5], table[6], table[7]]);
    } finally {
      three.dispose();
    }
    expect(client.decodeAnswer(server.answer(client.query(9, vocab), table))).toBe(table[9]);
    await expect(TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 0 })).rejects.toThrow(/lookupsPerQuery/);
  });
});

describe('local argument checks', () => {
  it('rejects bad indices, vocab sizes and tables with an Error naming the argument', () => {
    expect(() => client.query(512, 512)).toThrow(/indices\[0\]: must be an integer in \[0, 512\)/);
    expect(() => client.query(-1, 512)).toThrow(/indices\[0\]/);
    expect(() => client.query(1.5, 512)).toThrow(/indices\[0\]/);
    expect(() => client.query(0, 0)).toThrow(/vocabSize/);
    expect(() => client.query(0, 2_000_000)).toThrow(/vocabSize/);
    expect(() => client.queryMany([], 512)).toThrow(/indices: must hold 1 to 64/);
    expect(() => client.queryMany(new Array<number>(65).fill(0), 512)).toThrow(/indices/);
    const query = client.query(1, 4);
    expect(() => server.answer(query, Uint32Array.of(1, 2, 3, 2_000_000))).toThrow(/table: id at index 3/);
    expect(() => server.answer(query, [1, 2, 3, 4] as unknown as Uint32Array)).toThrow(/table: must be a Uint32Array/);
  });

  it('a disposed client or server refuses to work', async () => {
    const c = await TokenLookupClient.create();
    const s = await TokenLookupServer.fromSetup(c.setupMessage(), { lookupsPerQuery: 1 });
    const query = c.query(1, 8);
    s.dispose();
    s.dispose(); // idempotent
    expect(() => s.answer(query, Prg.random().permutation(8))).toThrow(/used after dispose/);
    c.dispose();
    expect(() => c.query(1, 8)).toThrow(/used after dispose/);
  });
});
