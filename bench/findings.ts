/**
 * Plain-language findings computed from the results: for every model and link, where the
 * decode time went and what the largest single item was; for every full-depth estimate, how
 * much of it the network alone forces. The README's discussion quotes these lines.
 */
import type { BenchResults } from './bench-results.js';
import { LINK_SETTINGS, isLinkSettingName, oneWayDelayMs, serializationMs } from './link-settings.js';

const pct = (part: number, whole: number) => `${whole > 0 ? Math.round((100 * part) / whole) : 0}%`;
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function top(record: Record<string, number>): [string, number] | undefined {
  return Object.entries(record).sort((a, b) => b[1] - a[1])[0];
}

export function findingsOf(results: BenchResults): string[] {
  const lines: string[] = [];
  for (const model of results.models) {
    for (const r of model.private) {
      const d = r.decode;
      if (!d || !isLinkSettingName(r.link)) continue;
      const link = LINK_SETTINGS[r.link];
      const latency = d.flights * oneWayDelayMs(link);
      const wire = serializationMs(link, d.bytesToEngine + d.bytesFromEngine);
      const s = d.split;
      const toEngine = top(d.bytesByKind.toEngine);
      const wait = top(s.gatewayWaitsByAwaited);
      const plain = model.plaintext.decodeMsPerToken;
      lines.push(
        `${model.name} [${model.profile}] @ ${r.link}: ${ms(d.msPerToken)} ms/token` +
          (plain !== null ? ` (plaintext ${ms(plain)}, ×${(d.msPerToken / plain).toFixed(0)})` : '') +
          ` = compute ${pct(s.computeMs, s.wallMs)} + network ${pct(s.networkMs, s.wallMs)} + dealer ${pct(s.dealerMs, s.wallMs)}; ` +
          `floor: ${d.flights} flights × ${oneWayDelayMs(link)} ms = ${ms(latency)} ms, ${kib(d.bytesToEngine + d.bytesFromEngine)} on the wire = ${ms(wire)} ms; ` +
          `measured / floor ${d.floor.measuredOverFloor.toFixed(2)}` +
          (toEngine ? `; largest message to the engine ${toEngine[0]} (${kib(toEngine[1])}/token)` : '') +
          (wait ? `; longest gateway wait on ${wait[0]} (${ms(wait[1])} ms/token)` : ''),
      );
    }
  }
  for (const f of results.extrapolation.fullDepth) {
    if (!isLinkSettingName(f.link)) continue;
    const link = LINK_SETTINGS[f.link];
    const latency = f.flightsPerToken * oneWayDelayMs(link);
    const wire = serializationMs(link, f.bytesPerToken);
    const parts: [string, number][] = [
      ['latency (flights × one-way delay)', latency],
      ['bandwidth (bytes / link rate)', wire],
      ['compute', f.computeMsPerToken],
    ];
    const largest = parts.sort((a, b) => b[1] - a[1])[0]!;
    const longest = Object.entries(f.ttftMs).sort((a, b) => Number(b[0]) - Number(a[0]))[0];
    lines.push(
      `${f.target} @ ${f.link} (extrapolated): ${ms(f.decodeMsPerToken)} ms/token (plaintext ${ms(f.plaintextDecodeMsPerToken)}) = compute ${ms(f.computeMsPerToken)} + ` +
        `${f.flightsPerToken.toFixed(0)} flights → ${ms(latency)} ms + ${kib(f.bytesPerToken)} → ${ms(wire)} ms; largest: ${largest[0]} (${pct(largest[1], f.decodeMsPerToken)})` +
        (longest ? `; first token after ${longest[0]} prompt tokens ≈ ${(longest[1] / 1000).toFixed(1)} s, ${((f.prefillBytes[longest[0]] ?? 0) / 2 ** 30).toFixed(2)} GiB on the wire` : ''),
    );
  }
  return lines;
}
