/**
 * Queries encrypted ahead of their token (issue 12): P1 encrypts the one-hot of a random offset
 * r before it samples, then sends only s = (j − r) mod M. The answer must decrypt to the same
 * id as a query for j (bit for bit the table entry); P0's online view, s, must not depend on j
 * (uniform on Z_M); an ahead query answers one token only; hostile offsets end in a
 * TokenLookupError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { SLOTS } from './bfv-parameters.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupError } from './token-lookup-error.js';
import { TokenLookupServer } from './token-lookup-server.js';
import { MESSAGE_HEADER_BYTES } from './wire-format.js';

let client: TokenLookupClient;
const prg = Prg.random();

beforeAll(async () => {
  client = await TokenLookupClient.create();
});
afterAll(() => client.dispose());

/** s_l from an offset message. */
function offsetsOf(message: Uint8Array): number[] {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const lookups = view.getUint16(MESSAGE_HEADER_BYTES, true);
  return Array.from({ length: lookups }, (_, l) => view.getUint32(MESSAGE_HEADER_BYTES + 4 + 4 * l, true));
}

describe('token lookup with the query sent ahead', () => {
  it('decrypts to table[j] for every index, across slices and at the edges', async () => {
    const vocab = 9000; // two slices, M = 16384: the rotation wraps over the zero padding
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 2 });
    try {
      const table = prg.permutation(vocab);
      const pairs: [number, number][] = [[0, vocab - 1], [SLOTS - 1, SLOTS], [17, 8500], [prg.below(vocab), prg.below(vocab)]];
      for (const [a, b] of pairs) {
        const ahead = await client.queryAhead(2, vocab);
        const offsets = client.offsetMessage(ahead, [a, b]);
        const answer = await server.answerShifted(ahead.bytes, offsets, await server.prepareShifted(table));
        expect(await client.decodeAnswersSliced(answer, vocab)).toEqual([table[a], table[b]]);
      }
    } finally {
      server.dispose();
    }
  });

  it('shows P0 offsets that do not depend on the index (uniform on Z_M)', async () => {
    // Fails if r is not drawn uniformly from all of Z_M: r = 0 sends j itself, and r drawn from
    // [0, V) only keeps s within V of j (checked: both weakened versions fail this test).
    const vocab = 512;
    const span = SLOTS; // M for one slice
    const samples = 64;
    for (const j of [0, 300]) {
      const seen: number[] = [];
      for (let k = 0; k < samples; k++) {
        const ahead = await client.queryAhead(1, vocab);
        seen.push(offsetsOf(client.offsetMessage(ahead, [j]))[0]!);
      }
      expect(seen.every((s) => s >= 0 && s < span)).toBe(true);
      expect(new Set(seen).size).toBeGreaterThanOrEqual(samples - 8);
      // The window of V values that r < V would confine s to: 1/16 of Z_M, expected 4 of 64.
      const nearJ = seen.filter((s) => (j - s + span) % span < vocab).length;
      expect(nearJ).toBeLessThan(samples / 2);
    }
  });

  it('answers one token per ahead query, and refuses to mix the two answer paths', async () => {
    const vocab = 512;
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    try {
      const table = prg.permutation(vocab);
      const ahead = await client.queryAhead(1, vocab);
      const offsets = client.offsetMessage(ahead, [5]);
      expect(ahead.used).toBe(true);
      expect(Array.from(ahead.offsets)).toEqual([0]); // r wiped
      expect(() => client.offsetMessage(ahead, [6])).toThrow(/used twice/);
      const shifted = await server.prepareShifted(table);
      expect(() => server.answerPrepared(ahead.bytes, shifted)).toThrow(TokenLookupError);
      await expect(server.answerShifted(ahead.bytes, offsets, server.prepare(table))).rejects.toThrow(/prepareShifted/);
      const unused = await client.queryAhead(1, vocab);
      unused.dispose();
      expect(() => client.offsetMessage(unused, [1])).toThrow(/used twice/);
      expect(() => client.offsetMessage(ahead, [1, 2])).toThrow(TokenLookupError);
    } finally {
      server.dispose();
    }
  });

  it('ends hostile offset messages in a TokenLookupError and keeps working', async () => {
    const vocab = 512;
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    try {
      const table = prg.permutation(vocab);
      const ahead = await client.queryAhead(1, vocab);
      const good = client.offsetMessage(ahead, [42]);
      const edit = (f: (v: DataView, b: Uint8Array) => void) => {
        const b = good.slice();
        f(new DataView(b.buffer), b);
        return b;
      };
      const cases: [string, Uint8Array, RegExp][] = [
        ['offset not below M', edit((v) => v.setUint32(MESSAGE_HEADER_BYTES + 4, SLOTS, true)), /not below M/],
        ['two offsets for one lookup', Uint8Array.from([...edit((v) => v.setUint16(MESSAGE_HEADER_BYTES, 2, true)), 0, 0, 0, 0]), /declared 1/],
        ['reserved field set', edit((v) => v.setUint16(MESSAGE_HEADER_BYTES + 2, 1, true)), /reserved/],
        ['truncated', good.subarray(0, good.length - 1), /expected exactly/],
        ['a query instead', ahead.bytes, /expected a offset message, got query/],
        ['bad magic', edit((_v, b) => (b[0] = 0)), /bad magic/],
      ];
      for (const [name, bytes, message] of cases) {
        let caught: unknown;
        try {
          await server.answerShifted(ahead.bytes, bytes, await server.prepareShifted(table));
        } catch (e) {
          caught = e;
        }
        expect(caught, name).toBeInstanceOf(TokenLookupError);
        expect(String((caught as Error).message), name).toMatch(message);
      }
      expect(client.decodeAnswer(await server.answerShifted(ahead.bytes, good, await server.prepareShifted(table)), vocab)).toBe(table[42]);
    } finally {
      server.dispose();
    }
  });
});
