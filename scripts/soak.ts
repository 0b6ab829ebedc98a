/**
 * Soak and load check of the deployed system (outside `npm test`): engine, dealer and gateway
 * as three real processes on loopback, then
 *
 *   1. `--long N` concurrent long prompts (about 500 tokens each, within the default limits):
 *      each one's status and time, with /healthz of all three polled every 50 ms meanwhile;
 *   2. `--requests R` short requests at `--concurrency C`, printing every party's RSS, JS heap,
 *      external, ArrayBuffer and WASM (node-seal) bytes, anonymous memory and glibc's heap
 *      figures (from its /metrics: under jemalloc its allocated and resident bytes; under glibc
 *      malloc in use, free inside the heaps, mmapped on their own, and the RSS the malloc trimmer
 *      gave back) every `--every K` requests, then start and end figures, the growth per request over the whole run and
 *      after a warm-up, and every party's longest event-loop stall.
 *
 *   npx tsx scripts/soak.ts [--requests 5000] [--concurrency 4] [--long 4] [--every 250] [--max-tokens 2]
 *                           [--settle 15000] [--env NAME=VALUE ...]   (extra variables for all three, e.g. MALLOC_ARENA_MAX=2)
 *                           [--allocator auto|jemalloc|glibc|none]   (default auto: what `permllm start` gives its children,
 *                                                                     config/allocator.ts; none: no allocator variables)
 *
 * After the last request it waits `--settle` ms (idle: the parties' malloc trimmers run after
 * sessions end, at most every 10 s) and prints the figures once more, then each party's RSS curve.
 *
 * Prints only numbers it measured; exits 1 when a request failed. Ctrl-C stops issuing requests
 * and prints the summary of what ran.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Agent, setGlobalDispatcher } from 'undici';
import { allocatorEnvironment, allocatorSchema } from '../config/allocator.js';
import { pollHealthz } from '../tests/helpers/healthz-poller.js';
import { killAllRoles, startThreeParties, type ThreeParties } from '../tests/helpers/processes.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '4' },
    long: { type: 'string', default: '4' },
    every: { type: 'string', default: '250' },
    'max-tokens': { type: 'string', default: '2' },
    settle: { type: 'string', default: '15000' },
    env: { type: 'string', multiple: true, default: [] },
    allocator: { type: 'string', default: 'auto' },
  },
});
// Four long prompts on a loaded machine answer after minutes: no client-side header or body timeout.
setGlobalDispatcher(new Agent({ headersTimeout: 0, bodyTimeout: 0 }));
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const longPrompts = Number(values.long);
const every = Number(values.every);
const maxTokens = Number(values['max-tokens']);
const settleMs = Number(values.settle);

type Party = 'gateway' | 'engine' | 'dealer';
const PARTIES: Party[] = ['gateway', 'engine', 'dealer'];

async function metrics(parties: ThreeParties, party: Party): Promise<string> {
  const url = parties[party].url;
  // The engine's and the dealer's /metrics answer their operator credential only.
  const headers: Record<string, string> = party === 'gateway' ? {} : { authorization: `Bearer ${parties.trust.operator[party]}` };
  return (await fetch(`${url}/metrics`, { headers })).text();
}

function gauge(text: string, suffix: string): number {
  const match = new RegExp(`^permllm_\\w*${suffix} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** One party's memory (MiB) and longest stall so far (ms), from its /metrics. */
interface Sample {
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  wasmMiB: number;
  /** Anonymous memory of the process (Linux /proc/PID/smaps_rollup): malloc, the V8 heap, WASM memory. */
  anonMiB: number;
  /** glibc: bytes in use, free inside its heaps, mmapped on their own (NaN where the party is not on glibc). */
  mallocInUseMiB: number;
  mallocFreeMiB: number;
  mallocMmappedMiB: number;
  /** jemalloc: bytes allocated and resident (NaN where the party is not on jemalloc). */
  jemallocAllocatedMiB: number;
  jemallocResidentMiB: number;
  /** malloc_trim calls so far and the RSS they gave back. */
  trims: number;
  trimmedMiB: number;
  trimMs: number;
  stallMs: number;
}

/** The process's anonymous resident memory (MiB) from /proc/PID/smaps_rollup (NaN where there is none). */
async function anonymousMiB(pid: number): Promise<number> {
  try {
    const match = /^Anonymous:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function sample(parties: ThreeParties): Promise<Record<Party, Sample>> {
  const out = {} as Record<Party, Sample>;
  for (const party of PARTIES) {
    const text = await metrics(parties, party);
    out[party] = {
      rssMiB: gauge(text, 'process_resident_memory_bytes') / 2 ** 20,
      heapMiB: gauge(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      externalMiB: gauge(text, 'nodejs_external_memory_bytes') / 2 ** 20,
      arrayBuffersMiB: gauge(text, 'array_buffers_bytes') / 2 ** 20,
      wasmMiB: gauge(text, 'wasm_heap_bytes') / 2 ** 20,
      anonMiB: await anonymousMiB(parties[party].pid),
      mallocInUseMiB: gauge(text, 'malloc_in_use_bytes') / 2 ** 20,
      mallocFreeMiB: gauge(text, 'malloc_free_bytes') / 2 ** 20,
      mallocMmappedMiB: gauge(text, 'malloc_mmapped_bytes') / 2 ** 20,
      jemallocAllocatedMiB: gauge(text, 'jemalloc_allocated_bytes') / 2 ** 20,
      jemallocResidentMiB: gauge(text, 'jemalloc_resident_bytes') / 2 ** 20,
      trims: gauge(text, 'malloc_trims_total'),
      trimmedMiB: gauge(text, 'malloc_trim_released_bytes_total') / 2 ** 20,
      trimMs: gauge(text, 'malloc_trim_seconds_total') * 1000,
      stallMs: gauge(text, 'event_loop_stall_max_seconds') * 1000,
    };
  }
  return out;
}

/**
 * RSS, JS heap, external, ArrayBuffers, WASM heap, anonymous memory per party (MiB), and either
 * jemalloc's figures (allocated / resident) or glibc's malloc (in use / free in its heaps /
 * mmapped) with the trims so far, the RSS they gave back and the time they took.
 */
function memoryLine(at: Record<Party, Sample>): string {
  return PARTIES.map((p) => {
    const s = at[p];
    const malloc = Number.isFinite(s.jemallocAllocatedMiB)
      ? ` jemalloc ${fmt(s.jemallocAllocatedMiB)}/${fmt(s.jemallocResidentMiB)}`
      : ` malloc ${fmt(s.mallocInUseMiB)}/${fmt(s.mallocFreeMiB)}/${fmt(s.mallocMmappedMiB)} trims ${fmt(s.trims, 0)} (-${fmt(s.trimmedMiB)} in ${fmt(s.trimMs, 0)} ms)`;
    return `${p} rss ${fmt(s.rssMiB)} heap ${fmt(s.heapMiB)} ext ${fmt(s.externalMiB)} ab ${fmt(s.arrayBuffersMiB)} wasm ${fmt(s.wasmMiB)} anon ${fmt(s.anonMiB)}${malloc}`;
  }).join(' | ');
}

async function complete(parties: ThreeParties, prompt: string, max: number): Promise<{ status: number; error?: string }> {
  const response = await fetch(`${parties.baseURL}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', prompt, max_tokens: max, temperature: 0 }),
  });
  const body = (await response.json()) as { error?: { message: string } };
  return response.ok ? { status: response.status } : { status: response.status, error: body.error?.message ?? 'unknown' };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

// The deployed default rendezvous timeout (the test helper's 3 s fails sessions on a loaded machine).
const ownEnv = Object.fromEntries(values.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
// The allocator `permllm start` would give them (config/allocator.ts), unless --allocator none.
const allocator = values.allocator === 'none' ? { allocator: 'as inherited', env: {} } : allocatorEnvironment(allocatorSchema.parse(values.allocator), ownEnv);
const extraEnv = { ...allocator.env, ...ownEnv };
console.log(`allocator of all three: ${allocator.allocator}${Object.keys(extraEnv).length > 0 ? `; environment: ${Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
const parties = await startThreeParties({
  args: { dealer: ['--rendezvous-timeout-ms', '10000'] },
  env: { engine: extraEnv, dealer: extraEnv, gateway: extraEnv },
});
// Ctrl-C (SIGINT): stop issuing requests, let the running ones finish, print the figures so far.
let stopping = false;
process.once('SIGINT', () => {
  stopping = true;
  console.log('SIGINT: finishing the running requests, then the summary');
});
let failures = 0;
try {
  await parties.waitUntilReady();
  const start = await sample(parties);
  console.log(`started: RSS MiB gateway ${fmt(start.gateway.rssMiB)} engine ${fmt(start.engine.rssMiB)} dealer ${fmt(start.dealer.rssMiB)}`);

  if (longPrompts > 0) {
    const prompt = 'Once upon a time, there was a little girl named Lily. '.repeat(33); // 497 tokens with BOS
    const poller = pollHealthz(parties);
    const { slowest } = poller;
    const began = performance.now();
    const results = await Promise.all(
      Array.from({ length: longPrompts }, async (_, i) => {
        const r = await complete(parties, prompt, 4);
        return { i, ...r, seconds: (performance.now() - began) / 1000 };
      }),
    );
    await poller.stop();
    for (const r of results) {
      if (r.status !== 200) failures++;
      console.log(`long prompt ${r.i}: HTTP ${r.status} after ${fmt(r.seconds)} s${r.error ? ` (${r.error})` : ''}`);
    }
    const after = await sample(parties);
    console.log(`long prompts: slowest /healthz ms gateway ${fmt(slowest.gateway, 0)} engine ${fmt(slowest.engine, 0)} dealer ${fmt(slowest.dealer, 0)}`);
    console.log(`long prompts: longest event-loop stall ms gateway ${fmt(after.gateway.stallMs, 0)} engine ${fmt(after.engine.stallMs, 0)} dealer ${fmt(after.dealer.stallMs, 0)}`);
    console.log(`long prompts: RSS MiB gateway ${fmt(after.gateway.rssMiB)} engine ${fmt(after.engine.rssMiB)} dealer ${fmt(after.dealer.rssMiB)}`);
  }

  if (requests > 0) {
    const curve: { done: number; at: Record<Party, Sample> }[] = [{ done: 0, at: await sample(parties) }];
    let issued = 0;
    let done = 0;
    const began = performance.now();
    const prompts = ['Once upon a time', 'Lily and Tom', 'The sun was', 'One day, a little'];
    const worker = async () => {
      while (issued < requests && !stopping) {
        const n = issued++;
        const r = await complete(parties, prompts[n % prompts.length]!, maxTokens);
        if (r.status !== 200) {
          failures++;
          if (failures <= 5) console.log(`request ${n}: HTTP ${r.status} ${r.error ?? ''}`);
        }
        const finished = ++done;
        if (finished % every === 0) {
          // Labelled by the count that triggered it (others finish while the sample is read).
          const at = await sample(parties);
          curve.push({ done: finished, at });
          const rate = finished / ((performance.now() - began) / 1000);
          console.log(`${String(finished).padStart(6)} requests (${fmt(rate, 2)}/s, ${failures} failed, load ${fmt(loadavg()[0]!, 1)}) MiB: ${memoryLine(at)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const end = await sample(parties);
    // Growth per request: over the whole run, and after warm-up (from the sample at a fifth of
    // the run to the last one), for RSS and for each native figure that could explain it.
    const first = curve[0]!;
    const warm = curve[Math.floor(curve.length / 5)]!;
    const last = curve.at(-1)!;
    console.log(`start (0 requests) MiB: ${memoryLine(first.at)}`);
    console.log(`end (${last.done} requests) MiB: ${memoryLine(last.at)}`);
    const kinds = ['rssMiB', 'heapMiB', 'externalMiB', 'arrayBuffersMiB', 'wasmMiB', 'anonMiB', 'mallocInUseMiB', 'mallocFreeMiB', 'jemallocAllocatedMiB', 'jemallocResidentMiB'] as const;
    for (const [label, from] of [['whole run', first], ['after warm-up', warm]] as const) {
      if (last.done <= from.done) continue;
      const perRequest = (party: Party, kind: (typeof kinds)[number]) => ((last.at[party][kind] - from.at[party][kind]) * 1024) / (last.done - from.done);
      const line = PARTIES.map((p) => `${p} ${kinds.map((k) => `${k.replace('MiB', '')} ${fmt(perRequest(p, k), 2)}`).join(' ')}`).join(' | ');
      console.log(`growth ${label} (${from.done} -> ${last.done} requests), KiB per request: ${line}`);
    }
    console.log(`${done} requests in ${fmt((performance.now() - began) / 1000)} s, ${failures} failed`);
    if (settleMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const idle = await sample(parties);
      console.log(`idle ${settleMs} ms after the last request MiB: ${memoryLine(idle)}`);
      curve.push({ done: last.done, at: idle });
    }
    for (const p of PARTIES) {
      const points = curve.map((c, i) => `${i === curve.length - 1 && settleMs > 0 ? 'idle' : c.done}: ${fmt(c.at[p].rssMiB)}`);
      console.log(`RSS curve MiB ${p}: ${points.join(' / ')}`);
    }
    console.log(`longest event-loop stall ms (whole run): gateway ${fmt(end.gateway.stallMs, 0)} engine ${fmt(end.engine.stallMs, 0)} dealer ${fmt(end.dealer.stallMs, 0)}`);
  }
} finally {
  await parties.stop();
  await killAllRoles();
}
process.exitCode = failures > 0 ? 1 : 0;
