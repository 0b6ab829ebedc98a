/**
 * The token lookup leaves the event loop free (issue 15): at a large vocabulary (Llama 3's
 * 128256, 16 ciphertexts per lookup) and several lookups per token, each call a party makes
 * (queryAhead, prepareShifted, answerShifted, decodeAnswersSliced) runs in bounded slices:
 *
 * - it yields to the event loop at least once per 4 slice budgets of its own duration
 *   (sliceYields(); yieldIfDue yields by wall time, so a loaded machine that stretches the call
 *   also makes it yield more: the bound is relative, not a timing);
 * - a setImmediate chain, which runs once per turn of the loop, never waits a third of the whole
 *   lookup's duration (as one synchronous lookup, it waits for all of it).
 *
 * Checked failing with the slicing removed (runSliced not yielding): no yields, and the chain
 * waited for the whole lookup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLICE_BUDGET_MS, sliceYields } from '../../compute/event-loop-slices.js';
import { Prg } from '../../crypto/prg.js';
import { TokenLookupClient } from './token-lookup-client.js';
import { TokenLookupServer } from './token-lookup-server.js';

const VOCAB = 128256;
const LOOKUPS = 3;

let client: TokenLookupClient;
let server: TokenLookupServer;

beforeAll(async () => {
  client = await TokenLookupClient.create();
  server = await TokenLookupServer.fromSetup(client.setupMessage(), { lookupsPerQuery: LOOKUPS });
});
afterAll(() => {
  server?.dispose();
  client?.dispose();
});

interface Call {
  name: string;
  durationMs: number;
  yields: number;
}

/** Runs `call`, counting the yields of the slicing in this process meanwhile. */
async function measured<T>(calls: Call[], name: string, call: () => Promise<T>): Promise<T> {
  const yields = sliceYields();
  const start = performance.now();
  const value = await call();
  calls.push({ name, durationMs: performance.now() - start, yields: sliceYields() - yields });
  return value;
}

describe('the token lookup on the event loop', () => {
  it(`yields all through a lookup at vocabulary ${VOCAB} with ${LOOKUPS} lookups per token`, async () => {
    const prg = Prg.random();
    const table = prg.permutation(VOCAB);
    const indices = Array.from({ length: LOOKUPS }, () => prg.below(VOCAB));
    const calls: Call[] = [];
    let last = performance.now();
    let longestWaitMs = 0;
    let running = true;
    const tick = () => {
      const now = performance.now();
      longestWaitMs = Math.max(longestWaitMs, now - last);
      last = now;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await new Promise((resolve) => setImmediate(resolve));
    const start = performance.now();
    last = start;
    const ahead = await measured(calls, 'queryAhead', () => client.queryAhead(LOOKUPS, VOCAB));
    const prepared = await measured(calls, 'prepareShifted', () => server.prepareShifted(table));
    const offsets = client.offsetMessage(ahead, indices);
    const answer = await measured(calls, 'answerShifted', () => server.answerShifted(ahead.bytes, offsets, prepared));
    const ids = await measured(calls, 'decodeAnswersSliced', () => client.decodeAnswersSliced(answer, VOCAB));
    const durationMs = performance.now() - start;
    tick();
    running = false;
    expect(ids).toEqual(indices.map((j) => table[j]));
    const summary = `${calls.map((c) => `${c.name} ${c.durationMs.toFixed(0)} ms, ${c.yields} yields`).join('; ')}; lookup ${durationMs.toFixed(0)} ms, longest wait ${longestWaitMs.toFixed(0)} ms`;
    for (const c of calls) expect(c.yields, summary).toBeGreaterThanOrEqual(Math.floor(c.durationMs / (4 * SLICE_BUDGET_MS)));
    expect(longestWaitMs, summary).toBeLessThan(durationMs / 3);
  });
});
