/**
 * What blocks each party's event loop under load (a diagnostic, outside `npm test`): runs the
 * three parties as real processes under `node --cpu-prof`, sends `--long N` concurrent ~500-token
 * prompts (the load test's), stops the parties (SIGTERM: each writes its profile on exit), and
 * reads every profile for its stalls: runs of consecutive non-idle samples longer than
 * `--threshold` ms, i.e. time in which the event loop could not poll its sockets. For each
 * party it prints the number of stalls, the longest, and the functions that took the most time
 * inside stalls (self time, with the nearest frame of this repository as the caller).
 *
 *   npx tsx scripts/stall-profile.ts [--long 4] [--threshold 50] [--top 12] [--keep DIR]
 *
 * On a shared machine a stall also contains the time the OS did not schedule the process; the
 * attribution is to whatever the sampled stack was doing.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, setGlobalDispatcher } from 'undici';
import { killAllRoles, repoRoot, startThreeParties } from '../tests/helpers/processes.js';

const { values } = parseArgs({
  options: {
    long: { type: 'string', default: '4' },
    threshold: { type: 'string', default: '50' },
    top: { type: 'string', default: '12' },
    keep: { type: 'string' },
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
  samples: number[];
  timeDeltas: number[];
}

const dir = values.keep ?? (await mkdtemp(path.join(tmpdir(), 'permllm-stall-profile-')));
const dirs = Object.fromEntries(PARTIES.map((p) => [p, path.join(dir, p)])) as Record<Party, string>;
const flags = (p: Party) => ['--cpu-prof', '--cpu-prof-dir', dirs[p], '--cpu-prof-interval', '500'];

const parties = await startThreeParties({ execArgv: { gateway: flags('gateway'), engine: flags('engine'), dealer: flags('dealer') } });
const slowest: Record<Party, number> = { gateway: 0, engine: 0, dealer: 0 };
try {
  await parties.waitUntilReady();
  const prompt = 'Once upon a time, there was a little girl named Lily. '.repeat(33); // 497 tokens with BOS
  let polling = true;
  const poll = Promise.all(
    PARTIES.map(async (party) => {
      while (polling) {
        const t = performance.now();
        await fetch(`${parties[party].url}/healthz`).then((r) => r.arrayBuffer()).catch(() => undefined);
        slowest[party] = Math.max(slowest[party], performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }),
  );
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
  polling = false;
  await poll;
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
  const stalls: { ms: number; self: Map<string, number> }[] = [];
  let current: { ms: number; self: Map<string, number> } | undefined;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000; // time until the next sample belongs to this one
    if (node.callFrame.functionName === '(idle)') {
      if (current && current.ms >= thresholdMs) stalls.push(current);
      current = undefined;
      continue;
    }
    current ??= { ms: 0, self: new Map() };
    current.ms += ms;
    const key = label(node.id);
    current.self.set(key, (current.self.get(key) ?? 0) + ms);
  }
  if (current && current.ms >= thresholdMs) stalls.push(current);
  const total = new Map<string, number>();
  for (const s of stalls) for (const [k, v] of s.self) total.set(k, (total.get(k) ?? 0) + v);
  const longest = stalls.reduce((m, s) => Math.max(m, s.ms), 0);
  const over100 = stalls.filter((s) => s.ms > 100).length;
  console.log(`\n${party}: ${stalls.length} stalls >= ${thresholdMs} ms (${over100} > 100 ms), longest ${longest.toFixed(0)} ms, ${stalls.reduce((a, s) => a + s.ms, 0).toFixed(0)} ms in stalls`);
  for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
  for (const worst of stalls.sort((a, b) => b.ms - a.ms).slice(0, 5)) {
    console.log(`  a stall of ${worst.ms.toFixed(0)} ms:`);
    for (const [k, v] of [...worst.self].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`    ${v.toFixed(0).padStart(7)} ms  ${k}`);
  }
}
console.log(`\nprofiles in ${dir}`);
