/**
 * SEAL objects live in WebAssembly memory that the JS garbage collector does not free; a
 * missing .delete() leaks on every token. WASM memory only grows, so after a warm-up its size
 * (tests/helpers/wasm-heap.ts, read from the WebAssembly.Memory itself) must stay flat: one leaked
 * answer ciphertext per lookup (0.13 MB) would add 5 MB over 40 lookups, one leaked
 * session (its keys and SEAL objects) would show over the sessions.
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { wasmHeapBytes, wasmHeapCount } from '../../tests/helpers/wasm-heap.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupServer } from './token-lookup-server.js';

const MiB = 1024 * 1024;

describe('WASM memory stays bounded', () => {
  it('many lookups in one session', async () => {
    const client = await TokenLookupClient.create();
    const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
    const prg = Prg.random();
    const run = (n: number): void => {
      for (let k = 0; k < n; k++) {
        const table = prg.permutation(512);
        const j = prg.below(512);
        const query = client.query(j, 512);
        const ids = client.decodeAnswers(server.answer(query, table));
        expect(ids[0]).toBe(table[j]);
      }
    };
    try {
      run(10); // warm-up: SEAL's memory pools reach their working size
      // A leaked answer (0.13 MB in SEAL's memory at the last level) would add 5 MB to every
      // round of 40. WASM memory could also grow in a one-off step if its allocator fragments:
      // a leak shows in every round, a step in one.
      const growth: number[] = [];
      for (let round = 0; round < 3; round++) {
        const before = wasmHeapBytes();
        run(40);
        growth.push(wasmHeapBytes() - before);
      }
      expect(wasmHeapCount()).toBe(1);
      expect(Math.min(...growth)).toBeLessThan(1 * MiB);
    } finally {
      server.dispose();
      client.dispose();
    }
  });

  it('sessions created and disposed one after another', async () => {
    const session = async (): Promise<void> => {
      const client = await TokenLookupClient.create();
      const server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: 1 });
      const table = Prg.random().permutation(64);
      expect(client.decodeAnswer(server.answer(client.query(5, 64), table))).toBe(table[5]);
      server.dispose();
      client.dispose();
    };
    await session();
    await session();
    const before = wasmHeapBytes();
    for (let s = 0; s < 6; s++) await session();
    // One leaked key set would show as 256 KiB or more per session; the heap grows in 1 MiB+ steps.
    expect(wasmHeapCount()).toBe(1);
    expect(wasmHeapBytes() - before).toBeLessThanOrEqual(1 * MiB);
  });
});
