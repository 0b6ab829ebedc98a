/** The benchmark's markdown report (bench/results/bench.md): one table per question. */
import { renderAcceptance } from './acceptance-summary.js';
import { renderFilled } from './modelled-cells.js';
import { EXTRAPOLATION_METHOD } from './extrapolation.js';
import type { BenchResults, TimeSplitResult } from './bench-results.js';
import { LINK_SETTINGS, describeLink, isLinkSettingName } from './link-settings.js';

const f1 = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
const kib = (b: number) => (b / 1024).toFixed(1);
const mib = (b: number) => (b / 2 ** 20).toFixed(2);
const pct = (x: number, whole: number) => (whole > 0 ? Math.round((100 * x) / whole) : 0);
const split = (s: TimeSplitResult) => `${pct(s.computeMs, s.wallMs)} / ${pct(s.networkMs, s.wallMs)} / ${pct(s.dealerMs, s.wallMs)}`;

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function linkLabel(name: string): string {
  return isLinkSettingName(name) ? `${name} (${describeLink(LINK_SETTINGS[name])})` : name;
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`# permllm bench${r.quick ? ' (quick)' : ''}`);
  out.push('');
  out.push(
    `Run ${r.startedAt} → ${r.finishedAt} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadAverageStart.map((x) => x.toFixed(1)).join('/')} at the start, ${m.loadAverageEnd.map((x) => x.toFixed(1)).join('/')} at the end ` +
      `(a load above the core count means other work shared the machine: figures are noisy). All three parties run in this one process. Links: ${r.options.links.map(linkLabel).join(', ')}; ` +
      `emulation: ${r.options.emulation === 'wrapper' ? 'in-process MessageLink wrapper (delay + paced bandwidth on the gateway–engine link)' : 'real loopback TCP through the user-space relay (bench/link-emulator.ts)'}. ` +
      `Prompts ${r.options.prompts.join(', ')} tokens; decode measured over ${r.options.decodeTokens - 1} steps after the first token of the shortest prompt.`,
  );
  out.push('');
  out.push(
    `Dealer: ${r.options.dealer === 'ahead' ? 'ahead (it produces the session\'s material before the online phase; its time is reported as "dealer offline", off the critical path)' : 'streamed (it runs alongside the online phase in this process)'}. ` +
      'Time split: compute / network / dealer in % of wall time (see bench/README.md for the definitions). Floor = flights × one-way delay + gateway–engine bytes / bandwidth + plaintext compute. ' +
      '"Emulator late" = how late the link emulator\'s timers delivered frames, summed: part of the measured network time that a real link would not add.',
  );
  out.push('');
  out.push(renderAcceptance(r));
  // Every cell of the acceptance table, measured or modelled, for the models measured on more than one link.
  const linked = r.models.filter((m) => m.private.length > 1).map((m) => m.name);
  out.push(renderFilled(r, r.exactCounts ?? [], linked.length > 0 ? linked : undefined));
  out.push('## Decode, per token');
  out.push('');
  out.push('"ms" is the median wall-clock interval between tokens; "CPU ms" is this process\'s CPU time per token (all parties and onnxruntime threads; mean), the work done, which other load on the machine disturbs much less.');
  out.push('');
  const decodeRows: string[][] = [];
  for (const model of r.models) {
    for (const p of model.private) {
      const d = p.decode;
      if (!d) continue;
      decodeRows.push([
        `${model.name} (${model.profile})`,
        p.link,
        f1(d.msPerToken),
        f1(d.cpuMs),
        model.plaintext.decodeMsPerToken === null ? '–' : f1(model.plaintext.decodeMsPerToken),
        model.plaintext.decodeCpuMsPerToken === null ? '–' : f1(model.plaintext.decodeCpuMsPerToken),
        model.plaintext.decodeMsPerToken ? `${(d.msPerToken / model.plaintext.decodeMsPerToken).toFixed(0)}×` : '–',
        d.flights.toFixed(0),
        d.flightsPerLayer.toFixed(0),
        kib(d.bytesToEngine),
        kib(d.bytesFromEngine),
        `${kib(d.dealerBytesToGateway)} + ${kib(d.dealerBytesToEngine)}`,
        split(d.split),
        `${f1(d.split.busyMs.gateway)} / ${f1(d.split.busyMs.engine)}`,
        `${f1(d.matmulMs.gateway)} / ${f1(d.matmulMs.engine)}${d.matmulAnyMs === undefined ? '' : ` (any: ${f1(d.matmulAnyMs)})`}`,
        d.dealerMsPerToken === null ? '–' : f1(d.dealerMsPerToken),
        f1(d.floor.networkFloorMs),
        d.emulatorLateMs === null ? '–' : f1(d.emulatorLateMs),
        f1(d.floor.floorMs),
        d.floor.measuredOverFloor.toFixed(2),
      ]);
    }
  }
  out.push(
    table(
      ['model', 'link', 'private ms', 'private CPU ms', 'plaintext ms', 'plaintext CPU ms', 'slowdown', 'flights', 'flights/layer', 'KiB → engine', 'KiB ← engine', 'dealer KiB (→ gateway + → engine)', 'compute / network / dealer %', 'busy ms gateway / engine', 'matrix-product ms gateway / engine (any running)', 'dealer offline ms', 'network floor ms', 'emulator late ms', 'floor ms', 'measured / floor'],
      decodeRows,
    ),
  );
  out.push('');
  out.push('## Time to first token');
  out.push('');
  const ttftRows: string[][] = [];
  for (const model of r.models) {
    for (const p of model.private) {
      for (const q of p.prefill) {
        const plain = model.plaintext.prefill.find((x) => x.promptTokens === q.promptTokens);
        ttftRows.push([
          `${model.name} (${model.profile})`,
          p.link,
          String(q.promptTokens),
          f1(q.ttftMs),
          plain ? f1(plain.ttftMs) : '–',
          q.flights.toFixed(0),
          mib(q.bytesToEngine),
          mib(q.bytesFromEngine),
          mib(q.dealerBytesToGateway + q.dealerBytesToEngine),
          split(q.split),
          q.dealerOfflineMs === null ? '–' : f1(q.dealerOfflineMs),
          f1(q.floor.networkFloorMs),
          q.emulatorLateMs === null ? '–' : f1(q.emulatorLateMs),
          f1(q.floor.floorMs),
          q.floor.measuredOverFloor.toFixed(2),
        ]);
      }
    }
  }
  out.push(table(['model', 'link', 'prompt', 'private ms', 'plaintext ms', 'flights', 'MiB → engine', 'MiB ← engine', 'dealer MiB', 'compute / network / dealer %', 'dealer offline ms (whole session)', 'network floor ms', 'emulator late ms', 'floor ms', 'measured / floor'], ttftRows));
  out.push('');
  out.push('## Where the decode bytes go (gateway–engine, per token, first link)');
  out.push('');
  const kindRows: string[][] = [];
  for (const model of r.models) {
    const d = model.private[0]?.decode;
    if (!d) continue;
    const list = (rec: Record<string, number>) =>
      Object.entries(rec)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${kib(v)}`)
        .join(', ');
    const waits = Object.entries(d.split.gatewayWaitsByAwaited)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${f1(v)} ms`)
      .join(', ');
    kindRows.push([`${model.name} (${model.profile})`, list(d.bytesByKind.toEngine), list(d.bytesByKind.fromEngine), waits]);
  }
  out.push(table(['model', 'to the engine (KiB)', 'from the engine (KiB)', "gateway's longest waits on the engine, by message awaited"], kindRows));
  out.push('');
  const x = r.extrapolation;
  const byPrompt = (rec: Record<string, number>, fmt: (v: number) => string) =>
    Object.entries(rec)
      .map(([k, v]) => `${k}: ${fmt(v)}`)
      .join(', ');
  if (x.perLayer.length > 0) {
    out.push('## Per layer (extrapolation)');
    out.push('');
    out.push(`Method: ${EXTRAPOLATION_METHOD}`);
    out.push('');
    out.push(
      table(
        ['layer shape', 'link', 'method (depths)', 'measured ms/layer', 'compute ms/layer', 'predicted ms/layer', 'CPU ms/layer', 'plaintext ms/layer', 'flights/layer', 'KiB/layer', 'first token ms/layer, measured (predicted)', 'first-token MiB/layer'],
        x.perLayer.map((p) => [
          p.label,
          p.link,
          `${p.method} (${p.depths.join(', ')})`,
          f1(p.decodeMsPerToken),
          f1(p.computeMsPerToken),
          f1(p.predictedDecodeMsPerToken),
          f1(p.cpuMsPerToken),
          f1(p.plaintextDecodeMsPerToken),
          p.flightsPerToken.toFixed(1),
          kib(p.bytesPerToken),
          Object.entries(p.ttftMs)
            .map(([k, v]) => `${k}: ${f1(v)} (${f1(p.predictedTtftMs[k] ?? 0)})`)
            .join(', '),
          byPrompt(p.prefillBytes, mib),
        ]),
      ),
    );
    out.push('');
  }
  if (x.fullDepth.length > 0) {
    out.push('## Full depth (extrapolated)');
    out.push('');
    out.push(
      table(
        ['model', 'link', 'private s/token', 'of which compute s', 'network floor s', 'plaintext ms/token', 'flights/token', 'MiB/token', 'first token s by prompt', 'first-token GiB by prompt'],
        x.fullDepth.map((f) => [
          f.target,
          f.link,
          (f.decodeMsPerToken / 1000).toFixed(2),
          (f.computeMsPerToken / 1000).toFixed(2),
          (f.networkFloorMs / 1000).toFixed(2),
          f1(f.plaintextDecodeMsPerToken),
          f.flightsPerToken.toFixed(0),
          mib(f.bytesPerToken),
          byPrompt(f.ttftMs, (v) => (v / 1000).toFixed(1)),
          byPrompt(f.prefillBytes, (v) => (v / 2 ** 30).toFixed(2)),
        ]),
      ),
    );
    out.push('');
  }
  out.push('## Findings');
  out.push('');
  for (const line of r.findings) out.push(`- ${line}`);
  out.push('');
  return out.join('\n');
}
