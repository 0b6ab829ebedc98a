/**
 * What blocks each party's event loop under load (a diagnostic, outside `npm test`): runs the
 * three parties as real processes under `node --cpu-prof` with tests/helpers/stall-trace.mjs preloaded
 * (it records every window longer than `--threshold` ms in which a 5 ms timer could not run:
 * a stall), sends `--long N` concurrent ~500-token prompts (the load test's), stops the parties
 * (SIGTERM: each writes its profile and its stall windows on exit), and attributes the profile
 * samples inside the stall windows that fall in the load period. For each party it prints the
 * number of stalls, the longest, and the functions that took the most time inside stalls (self
 * time, with the nearest frame of this repository as the caller), then the few in which the
 * main thread ran longest. The main thread's run and wait time (Linux schedstat) split a stall
 * into this process's work, the time the machine did not schedule it, and the rest, when the main
 * thread was asleep (on a lock another thread held: docs/deploy.md, the compute workers' relay).
 *
 *   npx tsx scripts/stall-profile.ts [--long 4] [--threshold 50] [--top 12] [--keep DIR] [--allocator auto|jemalloc|glibc|none]
 *
 * On a shared machine a stall also contains the time the OS did not schedule the process; the
 * attribution is to whatever the sampled stack was doing.
 */
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, setGlobalDispatcher } from 'undici';
import { allocatorEnvironment, allocatorSchema } from '../config/allocator.js';
import { killAllRoles, repoRoot, startThreeParties } from '../tests/helpers/processes.js';
import { pollHealthz } from '../tests/helpers/healthz-poller.js';
import { monotonicUs, readStallWindows, stallTraceFlags } from '../tests/helpers/stall-windows.js';

const { values } = parseArgs({
  options: {
    long: { type: 'string', default: '4' },
    threshold: { type: 'string', default: '50' },
    top: { type: 'string', default: '12' },
    keep: { type: 'string' },
    allocator: { type: 'string', default: 'auto' },
  },
});
setGlobalDispatcher(new Agent({ headersTimeout: 0, bodyTimeout: 0 }));
const thresholdMs = Number(values.threshold);
const top = Number(values.top);

type Party = 'gateway' | 'engine' | 'dealer';
const PARTIES: Party[] = ['gateway', 'engine', 'dealer'];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const dir = values.keep ?? (await mkdtemp(path.join(tmpdir(), 'permllm-stall-profile-')));
const dirs = Object.fromEntries(PARTIES.map((p) => [p, path.join(dir, p)])) as Record<Party, string>;
const flags = (p: Party) => ['--cpu-prof', '--cpu-prof-dir', dirs[p], '--cpu-prof-interval', '500', ...stallTraceFlags(dirs[p], thresholdMs)];
for (const p of PARTIES) await mkdir(dirs[p], { recursive: true });
let loadFrom = 0;
let loadTo = 0;

// The allocator `permllm start` would give the parties (config/allocator.ts), unless --allocator none.
const allocator = values.allocator === 'none' ? { allocator: 'as inherited', env: {} } : allocatorEnvironment(allocatorSchema.parse(values.allocator), {});
console.log(`allocator of all three: ${allocator.allocator}`);
const parties = await startThreeParties({
  execArgv: { gateway: flags('gateway'), engine: flags('engine'), dealer: flags('dealer') },
  env: { gateway: allocator.env, engine: allocator.env, dealer: allocator.env },
});
try {
  await parties.waitUntilReady();
  const prompt = 'Once upon a time, there was a little girl named Lily. '.repeat(33); // 497 tokens with BOS
  loadFrom = monotonicUs();
  const poller = pollHealthz(parties);
  const { slowest } = poller;
  const statuses = await Promise.all(
    Array.from({ length: Number(values.long) }, async () => {
      const response = await fetch(`${parties.baseURL}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'stories260K', prompt, max_tokens: 4, temperature: 0 }),
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  await poller.stop();
  loadTo = monotonicUs();
  console.log(`statuses ${statuses.join(' ')}; slowest /healthz ms gateway ${slowest.gateway.toFixed(0)} engine ${slowest.engine.toFixed(0)} dealer ${slowest.dealer.toFixed(0)}`);
} finally {
  await parties.stop();
  await killAllRoles();
}

const own = (url: string) => url.includes(repoRoot) && !url.includes('node_modules');
const short = (frame: ProfileNode['callFrame']) =>
  `${frame.functionName || '(anonymous)'} ${frame.url ? `${path.relative(repoRoot, frame.url.replace('file://', ''))}:${frame.lineNumber + 1}` : ''}`.trim();

for (const party of PARTIES) {
  const files = (await readdir(dirs[party]).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) {
    console.log(`${party}: no profile written`);
    continue;
  }
  const profile = JSON.parse(await readFile(path.join(dirs[party], files[0]!), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The sample's leaf and the nearest frame of this repository on its stack.
  const label = (id: number): string => {
    const leaf = byId.get(id)!;
    let at: number | undefined = id;
    while (at !== undefined && !own(byId.get(at)!.callFrame.url)) at = parent.get(at);
    const caller = at === undefined || at === id ? '' : ` <- ${short(byId.get(at)!.callFrame)}`;
    return `${short(leaf.callFrame)}${caller}`;
  };
  const stalls = (await readStallWindows(dirs[party], loadFrom, loadTo)).map((w) => ({ ...w, self: new Map<string, number>() }));
  // Sample i is taken at startTime + Σ timeDeltas[0..i]; it stands for the time until the next one.
  let t = profile.startTime;
  let s = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    while (s < stalls.length && stalls[s]!.to < t) s++;
    const stall = stalls[s];
    if (!stall || t < stall.from) continue;
    const key = label(profile.samples[i]!);
    stall.self.set(key, (stall.self.get(key) ?? 0) + ms);
  }
  const total = new Map<string, number>();
  for (const s of stalls) for (const [k, v] of s.self) total.set(k, (total.get(k) ?? 0) + v);
  const longest = stalls.reduce((m, s) => Math.max(m, s.ms), 0);
  const over100 = stalls.filter((s) => s.ms > 100).length;
  // The main thread's own CPU time in a stall: what a dedicated host would still stall for.
  const longestRun = stalls.reduce((m, s) => Math.max(m, s.runMs), 0);
  const runOver100 = stalls.filter((s) => s.runMs > 100).length;
  console.log(`\n${party}: ${stalls.length} stalls > ${thresholdMs} ms during the load (${over100} > 100 ms), longest ${longest.toFixed(0)} ms, ${stalls.reduce((a, s) => a + s.ms, 0).toFixed(0)} ms in stalls`);
  // Neither on a CPU nor waiting for one: asleep (a lock held by another thread, a page fault on disk, ...).
  const asleep = (w: { ms: number; runMs: number; waitMs: number }) => Math.max(0, w.ms - w.runMs - w.waitMs);
  console.log(`  main thread on a CPU within a stall: longest ${longestRun.toFixed(0)} ms, ${runOver100} stalls with > 100 ms of it; waiting for a CPU: ${stalls.reduce((a, s) => a + s.waitMs, 0).toFixed(0)} ms of the ${stalls.reduce((a, s) => a + s.ms, 0).toFixed(0)} ms; asleep inside one stall at most ${stalls.reduce((m, s) => Math.max(m, asleep(s)), 0).toFixed(0)} ms`);
  for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
  for (const worst of stalls.sort((a, b) => b.runMs - a.runMs).slice(0, 5)) {
    console.log(`  a stall of ${worst.ms.toFixed(0)} ms (main thread on a CPU ${worst.runMs.toFixed(0)} ms, waiting for one ${worst.waitMs.toFixed(0)} ms, asleep ${asleep(worst).toFixed(0)} ms):`);
    for (const [k, v] of [...worst.self].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`    ${v.toFixed(0).padStart(7)} ms  ${k}`);
  }
}
console.log(`\nprofiles in ${dir}`);
