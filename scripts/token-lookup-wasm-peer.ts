/**
 * The engine's side (P0, TokenLookupServer) for scripts/token-lookup-wasm-sessions.ts, in a
 * worker thread of its own: its node-seal instance, and so its WebAssembly heap, is separate
 * from the main thread's, which then holds only what the gateway (P1) holds.
 */
import { parentPort } from 'node:worker_threads';
import { TokenLookupServer } from '../protocol/token-lookup/token-lookup-server.js';

export type PeerRequest =
  | { seq: number; id: number; kind: 'setup'; setup: Uint8Array }
  | { seq: number; id: number; kind: 'answer'; query: Uint8Array; offsets: Uint8Array; table: Uint32Array }
  | { seq: number; id: number; kind: 'end' };

export interface PeerReply {
  seq: number;
  answer?: Uint8Array;
}

const servers = new Map<number, TokenLookupServer>();
parentPort!.on('message', async (m: PeerRequest) => {
  const reply: PeerReply = { seq: m.seq };
  if (m.kind === 'setup') {
    servers.set(m.id, await TokenLookupServer.fromSetup(m.setup, { lookupsPerQuery: 1 }));
  } else if (m.kind === 'answer') {
    const server = servers.get(m.id)!;
    reply.answer = await server.answerShifted(m.query, m.offsets, await server.prepareShifted(m.table));
  } else {
    servers.get(m.id)?.dispose();
    servers.delete(m.id);
  }
  parentPort!.postMessage(reply);
});
