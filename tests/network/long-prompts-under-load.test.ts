/**
 * Load suite (part of `npm test` on Linux since the relay thread made it a minute on an idle
 * 2-core machine, 52 s for the four prompts; it is vitest's `load` project, which `npm test` runs
 * alone after the others so that it does not disturb their timing; PERMLLM_LOAD_TESTS=0 skips
 * it): four
 * concurrent ~500-token prompts on the networked system (three real processes, default limits)
 * all complete, every party's /healthz answers throughout (polled every 50 ms), and no party's
 * event loop is held by its own work for 100 ms or more.
 *
 * Two measures of a stall. (1) The wall time of a /healthz round trip, printed, and bounded only
 * where PERMLLM_HEALTHZ_BOUND_MS is set (a dedicated host: 100): on this shared machine it
 * mostly measures how long the OS leaves the process unscheduled (1,614 ms at the gateway in a
 * run that took 749 s, four times the usual, with the 1,500 ms bound this test had before).
 * (2) The 100 ms target itself, on the work the party does, always asserted: each party runs with tests/helpers/stall-trace.mjs preloaded, which records every window
 * in which its event loop ran no timer for over 50 ms together with the main thread's time on a
 * CPU in that window (Linux schedstat); the longest such run time must stay below
 * PERMLLM_STALL_CPU_BOUND_MS (default 100). That is what a stall would last on a host with a CPU
 * to spare; the rest of a window is time spent waiting for one.
 *
 * Measured (load average 33–37, a soak and other work running): slowest /healthz 1,614 / 1,642 /
 * 998 ms (gateway / engine / dealer), stall windows up to 1,739 / 1,315 / 1,178 ms wall, but the
 * main thread on a CPU at most 74 / 45 / 29 ms in any of them (scripts/stall-profile.ts, in an
 * earlier run: 73 / 68 / 83 ms, and 151 of the gateway's 178 s in stalls waiting for a CPU; most
 * of the rest the main thread waiting for the garbage collector's helper threads).
 * With the slice budget raised to 1,000 ms (a deliberately weakened build) it fails: the engine's
 * main thread ran 125 ms in one stall (gateway 89, dealer 66). That is far less than the 1 s a
 * dedicated host would show, since on a machine this loaded a wall-clock slice gets only a
 * share of a CPU: the CPU bound measures whole units (an onnxruntime product, a GC pause, a
 * permutation) faithfully and wall-clock-budgeted slices only in part. Earlier, at load 10–19: /healthz 450 / 380 / 249 ms with the slices;
 * the code before them 2,330 / 3,909 / 3,101 ms (a prefill chunk's attention and P1's softmax
 * each ran in one turn of the loop). A probe that errs (connection reset) counts as a failed
 * health check.
 */
import { pollHealthz } from '../helpers/healthz-poller.js';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killAllRoles, startThreeParties, type ThreeParties } from '../helpers/processes.js';
import { monotonicUs, readStallWindows, stallTraceFlags } from '../helpers/stall-windows.js';

// Linux: the stall trace reads the main thread's schedstat.
const enabled = process.env['PERMLLM_LOAD_TESTS'] !== '0' && process.platform === 'linux';
// Wall-clock bound on /healthz: only where set (it measures the machine's load as much as the code).
const HEALTHZ_BOUND_MS = process.env['PERMLLM_HEALTHZ_BOUND_MS'] === undefined ? undefined : Number(process.env['PERMLLM_HEALTHZ_BOUND_MS']);
const STALL_CPU_BOUND_MS = Number(process.env['PERMLLM_STALL_CPU_BOUND_MS'] ?? 100);
const PARTIES = ['gateway', 'engine', 'dealer'] as const;
// Four long prompts answer after minutes here: no client-side header or body timeout.
const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
let parties: ThreeParties;
let traceDir: string;
const traceOf = (party: (typeof PARTIES)[number]) => path.join(traceDir, party);

describe.runIf(enabled)('four concurrent long prompts', () => {
  beforeAll(async () => {
    traceDir = await mkdtemp(path.join(tmpdir(), 'permllm-stalls-'));
    for (const p of PARTIES) await mkdir(traceOf(p));
    parties = await startThreeParties({ execArgv: { gateway: stallTraceFlags(traceOf('gateway')), engine: stallTraceFlags(traceOf('engine')), dealer: stallTraceFlags(traceOf('dealer')) } });
    await parties.waitUntilReady();
  });
  afterAll(async () => {
    await parties?.stop();
    await killAllRoles();
    await rm(traceDir, { recursive: true, force: true });
  });

  it('all complete', { timeout: 1_800_000 }, async () => {
    const prompt = 'Once upon a time, there was a little girl named Lily. '.repeat(33);
    const loadFrom = monotonicUs();
    const poller = pollHealthz(parties);
    const { slowest, errors: probeErrors } = poller;
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
      await poller.stop();
    }
    const loadTo = monotonicUs();
    const stall = async (party: 'gateway' | 'engine' | 'dealer') => {
      const headers: Record<string, string> = party === 'gateway' ? {} : { authorization: `Bearer ${parties.trust.operator[party]}` };
      const text = await (await fetch(`${parties[party].url}/metrics`, { headers })).text();
      return Number(/^permllm_\w+_event_loop_stall_max_seconds (\S+)$/m.exec(text)?.[1]) * 1000;
    };
    console.log(`slowest /healthz ms ${JSON.stringify(slowest)}; longest stall ms gateway ${await stall('gateway')} engine ${await stall('engine')} dealer ${await stall('dealer')}`);
    // SIGTERM: each party drains (nothing is running) and writes its stall trace on exit.
    await parties.stop();
    const cpu = {} as Record<(typeof PARTIES)[number], number>;
    for (const p of PARTIES) {
      const windows = await readStallWindows(traceOf(p), loadFrom, loadTo);
      cpu[p] = windows.reduce((m, w) => Math.max(m, w.runMs), 0);
      const wall = windows.reduce((m, w) => Math.max(m, w.ms), 0);
      console.log(`${p}: ${windows.length} stalls > 50 ms during the load, longest ${wall.toFixed(0)} ms wall, main thread on a CPU at most ${cpu[p].toFixed(0)} ms in one`);
    }
    expect(probeErrors).toEqual([]);
    expect(statuses).toEqual(Array.from({ length: 4 }, () => ({ status: 200, promptTokens: 497, error: undefined })));
    if (HEALTHZ_BOUND_MS !== undefined) {
      expect(slowest.gateway).toBeLessThan(HEALTHZ_BOUND_MS);
      expect(slowest.engine).toBeLessThan(HEALTHZ_BOUND_MS);
      expect(slowest.dealer).toBeLessThan(HEALTHZ_BOUND_MS);
    }
    expect(cpu.gateway).toBeLessThan(STALL_CPU_BOUND_MS);
    expect(cpu.engine).toBeLessThan(STALL_CPU_BOUND_MS);
    expect(cpu.dealer).toBeLessThan(STALL_CPU_BOUND_MS);
  });
});
