/**
 * WASM memory over many sessions (issue 15, "memory is flat ... node-seal objects are freed").
 *
 * The gateway starts a TokenLookupClient per request and the engine a TokenLookupServer per
 * session, each with fresh keys (never reused across sessions). node-seal's WebAssembly heap
 * never shrinks, so what must hold is that it stops growing: after a warm-up, creating and
 * disposing sessions must not enlarge it at all. The figure read here is the WebAssembly
 * memory itself (tests/helpers/wasm-heap.ts), not
 * process.memoryUsage().external, whose JS buffers move by ±20 MiB between collections and
 * would hide a leak of a few hundred KiB per session.
 *
 * Before the fix, KeyGenerator.secretKey() left a 256 KiB copy of every secret key in WASM
 * memory (seal-runtime.ts, secretKeyOf): the heap grew from 23 to 58 MiB over 120 sessions,
 * in steps of several MiB, and kept growing.
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { wasmHeapBytes, wasmHeapCount } from '../../tests/helpers/wasm-heap.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupServer } from './token-lookup-server.js';

const MiB = 1024 * 1024;

describe('WASM memory over many sessions', () => {
  it('stops growing over 100 client+server sessions created and disposed', async () => {
    const prg = Prg.random();
    const session = async (): Promise<void> => {
      const client = await TokenLookupClient.create();
      try {
        const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
        try {
          const table = prg.permutation(512);
          const j = prg.below(512);
          expect(client.decodeAnswer(server.answer(client.query(j, 512), table), 512)).toBe(table[j]);
        } finally {
          server.dispose();
        }
      } finally {
        client.dispose();
      }
    };
    const sessions = 100;
    const curve: number[] = [];
    for (let s = 1; s <= sessions; s++) {
      await session();
      if (s % 10 === 0) curve.push(wasmHeapBytes());
    }
    expect(wasmHeapCount()).toBe(1); // node-seal's heap was seen (else the figure means nothing)
    // After a warm-up of 20 sessions (SEAL's memory pools reach their working size), the last
    // half of the run (sessions 50 to 100) must not grow the heap: a leak of one secret key per
    // session would add 12.5 MiB there. 1 MiB leaves room for one allocator step, nothing more.
    const warm = curve[1]!;
    const half = curve[4]!;
    const last = curve.at(-1)!;
    const summary = curve.map((b) => (b / MiB).toFixed(2)).join(' → ');
    expect(last - half, `WASM heap MiB every 10 sessions: ${summary}`).toBeLessThanOrEqual(1 * MiB);
    expect(last - warm, `WASM heap MiB every 10 sessions: ${summary}`).toBeLessThanOrEqual(2 * MiB);
  });
});
