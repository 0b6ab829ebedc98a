/**
 * The homomorphic token lookup on its own, at the vocabulary sizes the extrapolation needs:
 * its cost depends on the vocabulary only (one BFV ciphertext per slots-worth of ids), so it
 * is measured directly instead of being scaled from a smaller vocabulary.
 */
import { TokenLookupClient, TokenLookupServer } from '../protocol/token-lookup/index.js';

export interface LookupTiming {
  vocab: number;
  /** Client query + server answer + client decode, per token (median of the repeats). */
  ms: number;
  queryBytes: number;
  answerBytes: number;
}

export async function timeTokenLookup(vocab: number, repeats = 3): Promise<LookupTiming> {
  const client = await TokenLookupClient.create();
  const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
  try {
    const table = Uint32Array.from({ length: vocab }, (_, i) => i);
    const times: number[] = [];
    let queryBytes = 0;
    let answerBytes = 0;
    for (let k = 0; k <= repeats; k++) {
      const t0 = performance.now();
      const query = client.queryMany([vocab - 1], vocab);
      const answer = server.answer(query, table);
      const [id] = client.decodeAnswers(answer);
      if (id !== vocab - 1) throw new Error(`token lookup at vocabulary ${vocab} returned ${id}`);
      if (k > 0) times.push(performance.now() - t0); // the first is a warm-up
      queryBytes = query.length;
      answerBytes = answer.length;
    }
    times.sort((a, b) => a - b);
    return { vocab, ms: times[Math.floor(times.length / 2)]!, queryBytes, answerBytes };
  } finally {
    client.dispose();
    server.dispose();
  }
}
