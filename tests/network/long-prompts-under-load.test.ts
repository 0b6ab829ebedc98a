/**
 * Opt-in load suite (PERMLLM_LOAD_TESTS=1; minutes on a loaded 2-core machine): four
 * concurrent ~500-token prompts on the networked system (three real processes, default limits)
 * all complete, and every party's /healthz answers within HEALTHZ_BOUND_MS throughout, polled
 * every 50 ms: no party's event loop is held by the protocol's per-step work
 * (compute/event-loop-slices.ts). It prints the slowest /healthz and the longest event-loop
 * stall of each party (the soak script prints the same).
 *
 * The bound (PERMLLM_HEALTHZ_BOUND_MS, default 1500) is what this shared 2-core machine met under
 * full load, not the 100 ms target of a dedicated host: a /healthz round trip here also waits
 * for the OS to schedule the process. Measured side by side with a soak running (load average
 * 10–19): slowest /healthz 450 / 380 / 249 ms (gateway / engine / dealer) with the slices, all four
 * complete in 175 s; the code before them 2,330 / 3,909 / 3,101 ms (fails at every party: a
 * prefill chunk's attention and P1's softmax each ran in one turn of the loop). An earlier run
 * with only the attention slices, at a load average of 27–32: 1,457 / 881 / 1,272 ms.
 * A probe that errs (connection reset) counts as a failed health check.
 */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllRoles, startThreeParties, type ThreeParties } from '../helpers/processes.js';

const enabled = process.env['PERMLLM_LOAD_TESTS'] === '1';
const HEALTHZ_BOUND_MS = Number(process.env['PERMLLM_HEALTHZ_BOUND_MS'] ?? 1500);
// Four long prompts answer after minutes here: no client-side header or body timeout.
const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
let parties: ThreeParties;

describe.runIf(enabled)('four concurrent long prompts', () => {
  beforeAll(async () => {
    parties = await startThreeParties();
    await parties.waitUntilReady();
  });
  afterAll(async () => {
    await parties?.stop();
    await killAllRoles();
  });

  it('all complete', { timeout: 1_800_000 }, async () => {
    const prompt = 'Once upon a time, there was a little girl named Lily. '.repeat(33);
    const slowest = { gateway: 0, engine: 0, dealer: 0 };
    const probeErrors: string[] = [];
    let polling = true;
    const poll = Promise.all(
      (['gateway', 'engine', 'dealer'] as const).map(async (party) => {
        while (polling) {
          const t = performance.now();
          try {
            await fetch(`${parties[party].url}/healthz`).then((r) => r.arrayBuffer());
          } catch (error) {
            probeErrors.push(`${party}: ${String((error as Error).cause ?? error)}`);
          }
          slowest[party] = Math.max(slowest[party], performance.now() - t);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
    let statuses: { status: number; promptTokens: number | undefined; error: string | undefined }[];
    try {
      statuses = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const response = await fetch(`${parties.baseURL}/completions`, {
            // @ts-expect-error undici's dispatcher option, which Node's fetch takes (not in the DOM RequestInit type)
            dispatcher: patient,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'stories260K', prompt, max_tokens: 4, temperature: 0 }),
          });
          const body = (await response.json()) as { usage?: { prompt_tokens: number }; error?: { message: string } };
          return { status: response.status, promptTokens: body.usage?.prompt_tokens, error: body.error?.message };
        }),
      );
    } finally {
      polling = false;
      await poll;
    }
    const stall = async (party: 'gateway' | 'engine' | 'dealer') => {
      const headers: Record<string, string> = party === 'gateway' ? {} : { authorization: `Bearer ${parties.trust.operator[party]}` };
      const text = await (await fetch(`${parties[party].url}/metrics`, { headers })).text();
      return Number(/^permllm_\w+_event_loop_stall_max_seconds (\S+)$/m.exec(text)?.[1]) * 1000;
    };
    console.log(`slowest /healthz ms ${JSON.stringify(slowest)}; longest stall ms gateway ${await stall('gateway')} engine ${await stall('engine')} dealer ${await stall('dealer')}`);
    expect(probeErrors).toEqual([]);
    expect(statuses).toEqual(Array.from({ length: 4 }, () => ({ status: 200, promptTokens: 497, error: undefined })));
    expect(slowest.gateway).toBeLessThan(HEALTHZ_BOUND_MS);
    expect(slowest.engine).toBeLessThan(HEALTHZ_BOUND_MS);
    expect(slowest.dealer).toBeLessThan(HEALTHZ_BOUND_MS);
  });
});
