/**
 * The engine prepares an answer's query-independent part (table encoding, blinding) before the
 * query arrives: the prepared answer decrypts to the same id as answer(), is re-randomised per
 * preparation, is used at most once, and frees its WASM memory whether or not a query came.
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupError } from './token-lookup-error.js';
import { TokenLookupServer } from './token-lookup-server.js';

describe('prepared token lookup answers', () => {
  it('answer the query as answer() does, fresh each time, once', async () => {
    const client = await TokenLookupClient.create();
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 2 });
    try {
      const vocab = 9000; // two slices
      const table = Prg.random().permutation(vocab);
      const query = client.queryMany([17, 8500], vocab);
      const a = server.prepare(table);
      const b = server.prepare(table);
      const answerA = server.answerPrepared(query, a);
      const answerB = server.answerPrepared(query, b);
      expect(client.decodeAnswers(answerA, vocab)).toEqual([table[17], table[8500]]);
      expect(client.decodeAnswers(answerB, vocab)).toEqual(client.decodeAnswers(server.answerMany(query, table), vocab));
      expect(Buffer.from(answerA).equals(Buffer.from(answerB))).toBe(false);
      expect(a.disposed && b.disposed).toBe(true);
      expect(() => server.answerPrepared(query, a)).toThrow(TokenLookupError);
      // Prepared for a query that never came: freed by dispose().
      const unused = server.prepare(table);
      unused.dispose();
      unused.dispose();
      expect(unused.disposed).toBe(true);
    } finally {
      client.dispose();
      server.dispose();
    }
  });
});
