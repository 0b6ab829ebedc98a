/**
 * A hostile peer's bytes must end in a TokenLookupError, never in a crash and never in an
 * abort of the shared SEAL WebAssembly instance (which would break every later lookup in the
 * process; see seal-layout.ts). Each fuzz loop therefore ends with a real lookup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupError } from './token-lookup-error.js';
import { TokenLookupServer } from './token-lookup-server.js';

const VOCAB = 512;
let client: TokenLookupClient;
let server: TokenLookupServer;
let setup: Uint8Array;
let table: Uint32Array;
let query: Uint8Array;
let answer: Uint8Array;
const prg = Prg.random();

beforeAll(async () => {
  client = await TokenLookupClient.create();
  setup = client.setupMessage();
  server = await TokenLookupServer.fromSetup(setup, { lookupsPerQuery: 1 });
  table = prg.permutation(VOCAB);
  query = client.query(123, VOCAB);
  answer = server.answer(query, table);
});
afterAll(() => {
  server.dispose();
  client.dispose();
});

function edited(bytes: Uint8Array, edit: (copy: Uint8Array, view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(copy, new DataView(copy.buffer));
  return copy;
}

function expectLookupStillWorks(): void {
  const j = prg.below(VOCAB);
  expect(client.decodeAnswer(server.answer(client.query(j, VOCAB), table))).toBe(table[j]);
}

/** Header-level damage that every message kind must reject. */
function headerCases(bytes: Uint8Array, otherKind: Uint8Array): [string, unknown, RegExp][] {
  return [
    ['not bytes', 'hello', /must be a Uint8Array/],
    ['empty', new Uint8Array(0), /too short/],
    ['bad magic', edited(bytes, (b) => (b[0] = 0x51)), /bad magic/],
    ['other version', edited(bytes, (b) => (b[4] = 2)), /unsupported version 2/],
    ['other kind', otherKind, /expected a \w+ message, got/],
    ['unknown kind', edited(bytes, (b) => (b[5] = 9)), /got unknown kind 9/],
    ['other parameter set', edited(bytes, (_b, v) => v.setUint16(6, 1, true)), /parameter set 1/],
    ['truncated by one byte', bytes.subarray(0, bytes.length - 1), /expected exactly \d+ bytes/],
    ['one byte too many', Uint8Array.from([...bytes, 0]), /expected exactly \d+ bytes/],
  ];
}

describe('setup bytes (P1 → P0)', () => {
  it('header damage, wrong sizes and out-of-range coefficients throw clear errors', async () => {
    const cases: [string, unknown, RegExp][] = [
      ...headerCases(setup, query),
      ['coefficient ≥ q', edited(setup, (b) => b.fill(0xff, 8 + 64, 8 + 64 + 16)), /setupBytes public key: coefficient out of range/],
      ['last coefficient ≥ q', edited(setup, (b) => b.fill(0xff, b.length - 16)), /setupBytes public key: (coefficient out of range|nonzero padding)/],
    ];
    for (const [name, bytes, message] of cases) {
      const attempt = TokenLookupServer.fromSetup(bytes as Uint8Array, { lookupsPerQuery: 1 });
      await expect(attempt, name).rejects.toThrow(TokenLookupError);
      await expect(attempt, name).rejects.toThrow(message);
    }
  });

  it('random mutations load or throw TokenLookupError; SEAL stays alive', async () => {
    for (let trial = 0; trial < 6; trial++) {
      const bytes = edited(setup, (b) => {
        for (let k = 0; k < 4; k++) b[8 + prg.below(b.length - 8)] = prg.below(256);
      });
      try {
        (await TokenLookupServer.fromSetup(bytes, { lookupsPerQuery: 1 })).dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(TokenLookupError);
      }
    }
    expectLookupStillWorks();
  });
});

describe('query bytes (P1 → P0)', () => {
  it('header damage, wrong counts and wrong sizes throw clear errors', () => {
    const cases: [string, unknown, RegExp][] = [
      ...headerCases(query, answer),
      ['vocabulary mismatch', edited(query, (_b, v) => v.setUint32(8, VOCAB + 1, true)), /vocabulary of 513 tokens, the table has 512/],
      ['too many ciphertexts', edited(query, (_b, v) => v.setUint16(14, 2, true)), /2 ciphertexts per lookup, expected ceil\(512\/8192\) = 1/],
      ['zero lookups', edited(query, (_b, v) => v.setUint16(12, 0, true)), /lookup count 0 not in \[1, 64\]/],
      ['too many lookups', edited(query, (_b, v) => v.setUint16(12, 65, true)), /lookup count 65/],
      ['claims 2 lookups, carries 1', edited(query, (_b, v) => v.setUint16(12, 2, true)), /2 lookups in one query, the session declared 1/],
      ['claims 1 lookup, carries 2', edited(client.queryMany([1, 2], VOCAB), (_b, v) => v.setUint16(12, 1, true)), /1 × 1 query ciphertexts: expected exactly/],
      ['truncated fields', query.subarray(0, 12), /truncated before the query fields/],
      ['coefficient ≥ q', edited(query, (b) => b.fill(0xff, 16 + 64, 16 + 64 + 9)), /queryBytes ciphertext 0: coefficient out of range/],
    ];
    for (const [name, bytes, message] of cases) {
      expect(() => server.answer(bytes as Uint8Array, table), name).toThrow(TokenLookupError);
      expect(() => server.answer(bytes as Uint8Array, table), name).toThrow(message);
    }
  });

  it('random mutations, truncations and garbage are answered or rejected; SEAL stays alive', () => {
    for (let trial = 0; trial < 24; trial++) {
      const kind = trial % 3;
      let bytes: Uint8Array;
      if (kind === 0) bytes = edited(query, (b) => (b[prg.below(b.length)] = prg.below(256)));
      else if (kind === 1) bytes = query.subarray(0, prg.below(query.length));
      else bytes = Uint8Array.from([...query.subarray(0, 16), ...prg.bytes(query.length - 16)]);
      try {
        const reply = server.answer(bytes, table);
        try {
          expect(client.decodeAnswer(reply)).toBeTypeOf('number');
        } catch (e) {
          expect(e).toBeInstanceOf(TokenLookupError);
        }
      } catch (e) {
        expect(e).toBeInstanceOf(TokenLookupError);
      }
    }
    expectLookupStillWorks();
  });
});

describe('answer bytes (P0 → P1)', () => {
  it('header damage and out-of-range coefficients throw clear errors', () => {
    const cases: [string, unknown, RegExp][] = [
      ...headerCases(answer, query),
      ['zero lookups', edited(answer, (_b, v) => v.setUint16(8, 0, true)), /lookup count 0/],
      ['coefficient ≥ q', edited(answer, (b) => b.fill(0xff, 10, 19)), /answer ciphertext 0: coefficient out of range/],
    ];
    for (const [name, bytes, message] of cases) {
      expect(() => client.decodeAnswer(bytes as Uint8Array), name).toThrow(TokenLookupError);
      expect(() => client.decodeAnswer(bytes as Uint8Array), name).toThrow(message);
    }
  });

  it('a tampered or random answer is detected as undecryptable, not misread', () => {
    // Flip the top bit (bit 35) of c0's coefficient 100: far beyond the noise tolerance. (A
    // low bit would go unnoticed and change nothing: it is indistinguishable from noise.)
    const bit = 100 * 36 + 35;
    const flipped = edited(answer, (b) => (b[10 + (bit >> 3)] = b[10 + (bit >> 3)]! ^ (1 << (bit & 7))));
    expect(() => client.decodeAnswer(flipped)).toThrow(/noise budget exhausted|slots disagree|out of range/);
    for (let trial = 0; trial < 20; trial++) {
      const random = Uint8Array.from([...answer.subarray(0, 10), ...prg.bytes(answer.length - 10)]);
      expect(() => client.decodeAnswer(random)).toThrow(TokenLookupError);
    }
  });

  it('random mutations and truncations decode or throw TokenLookupError; SEAL stays alive', () => {
    for (let trial = 0; trial < 150; trial++) {
      const bytes =
        trial % 2 === 0
          ? edited(answer, (b) => (b[prg.below(b.length)] = prg.below(256)))
          : answer.subarray(0, prg.below(answer.length));
      try {
        expect(client.decodeAnswer(bytes)).toBeTypeOf('number');
      } catch (e) {
        expect(e).toBeInstanceOf(TokenLookupError);
      }
    }
    expectLookupStillWorks();
  });
});
