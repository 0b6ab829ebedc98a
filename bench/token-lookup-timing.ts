/**
 * The homomorphic token lookup on its own, at the vocabulary sizes the extrapolation needs:
 * its cost depends on the vocabulary only (one BFV ciphertext per slots-worth of ids), so it
 * is measured directly instead of being scaled from a smaller vocabulary.
 */
import { pathToFileURL } from 'node:url';
import { TokenLookupClient, TokenLookupServer } from '../protocol/token-lookup/index.js';

export interface LookupTiming {
  vocab: number;
  /** Client query + server answer + client decode, per token (median of the repeats). */
  ms: number;
  queryBytes: number;
  answerBytes: number;
  /** Of `ms`: the engine's part that does not need the query (table encoding, blinding; TokenLookupServer.prepare). */
  prepareMs?: number | undefined;
  /** Of `ms`: the engine's answer once the query is there (answerPrepared). */
  answerMs?: number | undefined;
  /**
   * With the query encrypted ahead (the protocol's path since issue 12): the online part only,
   * offsets + the engine's answer against the rotated table + decode (median); the query's
   * encryption (`aheadMs`) runs ahead, off the critical path, and its bytes travel as offline data.
   */
  onlineMs?: number | undefined;
  aheadMs?: number | undefined;
  offsetBytes?: number | undefined;
}

export async function timeTokenLookup(vocab: number, repeats = 3): Promise<LookupTiming> {
  const client = await TokenLookupClient.create();
  const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
  try {
    const table = Uint32Array.from({ length: vocab }, (_, i) => i);
    const times: number[] = [];
    const prepares: number[] = [];
    const answers: number[] = [];
    let queryBytes = 0;
    let answerBytes = 0;
    for (let k = 0; k <= repeats; k++) {
      const t0 = performance.now();
      const query = client.queryMany([vocab - 1], vocab);
      const t1 = performance.now();
      const prepared = server.prepare(table);
      const t2 = performance.now();
      const answer = server.answerPrepared(query, prepared);
      const t3 = performance.now();
      const [id] = client.decodeAnswers(answer);
      if (id !== vocab - 1) throw new Error(`token lookup at vocabulary ${vocab} returned ${id}`);
      if (k > 0) {
        // the first is a warm-up
        times.push(performance.now() - t0);
        prepares.push(t2 - t1);
        answers.push(t3 - t2);
      }
      queryBytes = query.length;
      answerBytes = answer.length;
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const onlines: number[] = [];
    const aheads: number[] = [];
    let offsetBytes = 0;
    for (let k = 0; k <= repeats; k++) {
      const t0 = performance.now();
      const ahead = await client.queryAhead(1, vocab);
      const t1 = performance.now();
      const prepared = await server.prepareShifted(table);
      const t2 = performance.now();
      const offsets = client.offsetMessage(ahead, [vocab - 1]);
      const [id] = await client.decodeAnswersSliced(await server.answerShifted(ahead.bytes, offsets, prepared));
      const t3 = performance.now();
      if (id !== vocab - 1) throw new Error(`token lookup (query ahead) at vocabulary ${vocab} returned ${id}`);
      if (k > 0) {
        aheads.push(t1 - t0);
        onlines.push(t3 - t2);
      }
      offsetBytes = offsets.length;
    }
    return { vocab, ms: median(times), queryBytes, answerBytes, prepareMs: median(prepares), answerMs: median(answers), onlineMs: median(onlines), aheadMs: median(aheads), offsetBytes };
  } finally {
    client.dispose();
    server.dispose();
  }
}

// `npx tsx bench/token-lookup-timing.ts [vocab ...]`: one line per vocabulary.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const vocabs = process.argv.slice(2).map(Number);
  for (const vocab of vocabs.length ? vocabs : [512, 128256]) {
    const r = await timeTokenLookup(vocab, 5);
    console.log(`vocabulary ${vocab}: lookup ${r.ms.toFixed(1)} ms per token, of which the engine's prepare (before the query) ${r.prepareMs!.toFixed(1)} ms and its answer (after) ${r.answerMs!.toFixed(1)} ms; query ${r.queryBytes} B, answer ${r.answerBytes} B`);
    console.log(`  query encrypted ahead: online ${r.onlineMs!.toFixed(1)} ms per token (offsets ${r.offsetBytes} B + answer against the rotated table + decode); the encryption, ${r.aheadMs!.toFixed(1)} ms, runs ahead`);
  }
}
