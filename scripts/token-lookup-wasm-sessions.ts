/**
 * node-seal's WebAssembly heap on the gateway's side over many token-lookup sessions, several
 * at once, without the three processes of the soak (scripts/soak.ts): the main thread runs what
 * the gateway runs per request (TokenLookupClient.create, queries encrypted ahead from a pool of
 * 2, offsets, decoding, dispose), the engine's side answers from a worker thread with its own
 * heap (token-lookup-wasm-peer.ts). Prints the heap every tenth of the run; it never shrinks,
 * so what matters is whether it stops growing.
 *
 *   npx tsx scripts/token-lookup-wasm-sessions.ts [sessions 200] [concurrency 4] [passes 3]
 */
import { Worker } from 'node:worker_threads';
import { Prg } from '../crypto/prg.js';
import { wasmHeapBytes } from '../observability/wasm-heap.js';
import { AheadPool } from '../protocol/pool/ahead-pool.js';
import { type AheadQuery, TokenLookupClient } from '../protocol/token-lookup/token-lookup-client.js';
import type { PeerReply, PeerRequest } from './token-lookup-wasm-peer.js';

const sessions = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 4);
const passes = Number(process.argv[4] ?? 3);
const VOCAB = 512;
const peerUrl = new URL('./token-lookup-wasm-peer.ts', import.meta.url).href;
const worker = new Worker(`import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(peerUrl)});`, { eval: true });
let seq = 0;
const waiting = new Map<number, (reply: PeerReply) => void>();
worker.on('message', (reply: PeerReply) => {
  waiting.get(reply.seq)?.(reply);
  waiting.delete(reply.seq);
});
type Request = PeerRequest extends infer R ? (R extends PeerRequest ? Omit<R, 'seq'> : never) : never;
const call = (request: Request) =>
  new Promise<PeerReply>((resolve) => {
    const s = ++seq;
    waiting.set(s, resolve);
    worker.postMessage({ ...request, seq: s });
  });

const prg = Prg.random();
let started = 0;
let done = 0;
const session = async (id: number): Promise<void> => {
  const client = await TokenLookupClient.create();
  const pool = new AheadPool<AheadQuery>({ capacity: 2, total: passes, produce: () => client.queryAhead(1, VOCAB), release: (q) => q.dispose() });
  try {
    await call({ id, kind: 'setup', setup: client.setupMessage() });
    for (let p = 0; p < passes; p++) {
      const table = prg.permutation(VOCAB);
      const j = prg.below(VOCAB);
      const ahead = await pool.take();
      const { answer } = await call({ id, kind: 'answer', query: ahead.bytes, offsets: client.offsetMessage(ahead, [j]), table });
      if (client.decodeAnswers(answer!)[0] !== table[j]) throw new Error('wrong token id');
    }
  } finally {
    pool.dispose();
    client.dispose();
    await call({ id, kind: 'end' });
  }
};

const began = performance.now();
const curve: string[] = [];
const every = Math.max(1, Math.floor(sessions / 10));
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (started < sessions) {
      await session(++started);
      if (++done % every === 0) curve.push(`${done}: ${(wasmHeapBytes() / 2 ** 20).toFixed(1)}`);
    }
  }),
);
console.log(`${sessions} sessions, ${concurrency} at once, ${passes} lookups each, in ${((performance.now() - began) / 1000).toFixed(0)} s`);
console.log(`gateway-side WASM heap MiB after N sessions: ${curve.join(' | ')}`);
await worker.terminate();
