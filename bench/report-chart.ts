/**
 * The chart (bench/results/time-per-token.svg), written by hand: decode time per token against
 * the link's RTT, log scale, for the private protocol (measured: solid; extrapolated to full
 * depth: dashed) and the plaintext forward pass (dotted; a plaintext server streams tokens, so
 * its time per token does not grow with the RTT).
 */
import type { BenchResults } from './bench-results.js';
import { LINK_SETTINGS, isLinkSettingName } from './link-settings.js';

const WIDTH = 1060;
const HEIGHT = 560;
const PLOT = { left: 80, top: 50, right: 620, bottom: 480 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

interface Series {
  label: string;
  color: string;
  dash: string;
  marker: 'circle' | 'square' | 'none';
  points: { rtt: number; ms: number }[];
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (x: number) => x.toFixed(1);

function bandwidthLabel(bps: number): string {
  if (!Number.isFinite(bps)) return 'unpaced';
  return bps >= 1e9 ? `${bps / 1e9} Gbps` : `${bps / 1e6} Mbps`;
}

function seriesOf(r: BenchResults): Series[] {
  const series: Series[] = [];
  // One measured model per layer shape (the deepest), plus the unshaped ones (stories260K).
  const charted = r.models.filter((m) => m.config.vocabSize <= 512 && (m.shape === null || !r.models.some((o) => o.shape === m.shape && o.config.vocabSize <= 512 && o.config.nLayers > m.config.nLayers)));
  const colorOf = new Map<string, string>();
  charted.forEach((m, i) => {
    const color = COLORS[i % COLORS.length]!;
    colorOf.set(m.shape ?? m.name, color);
    const points = m.private.filter((p) => p.decode).map((p) => ({ rtt: p.rttMs, ms: p.decode!.msPerToken }));
    if (points.length > 0) series.push({ label: `${m.name} private ${m.profile} (measured)`, color, dash: '', marker: 'circle', points });
    const plain = m.plaintext.decodeMsPerToken;
    if (plain !== null && points.length > 0) series.push({ label: `${m.name} plaintext`, color, dash: '2 4', marker: 'none', points: [{ rtt: 0, ms: plain }, { rtt: 40, ms: plain }] });
  });
  const targets = [...new Set(r.extrapolation.fullDepth.map((f) => f.target))];
  targets.forEach((target, i) => {
    const rows = r.extrapolation.fullDepth.filter((f) => f.target === target);
    const color = colorOf.get(rows[0]!.shape) ?? COLORS[(charted.length + i) % COLORS.length]!;
    const points = rows.filter((f) => isLinkSettingName(f.link)).map((f) => ({ rtt: LINK_SETTINGS[f.link as keyof typeof LINK_SETTINGS].rttMs, ms: f.decodeMsPerToken }));
    const t = rows[0]!;
    const name = `${t.shape} × ${t.layers} layers, ${Math.round(t.vocab / 1000)}k vocab`;
    series.push({ label: `${name}: private (extrapolated)`, color, dash: '8 5', marker: 'square', points });
    const plain = t.plaintextDecodeMsPerToken;
    if (plain > 0) series.push({ label: `${name}: plaintext (extrapolated)`, color, dash: '8 3 2 3', marker: 'none', points: [{ rtt: 0, ms: plain }, { rtt: 40, ms: plain }] });
  });
  for (const s of series) s.points = s.points.filter((p) => p.ms > 0).sort((a, b) => a.rtt - b.rtt);
  return series.filter((s) => s.points.length > 0);
}

export function renderChart(r: BenchResults): string {
  const series = seriesOf(r);
  const values = series.flatMap((s) => s.points.map((p) => p.ms));
  const lo = Math.floor(Math.log10(Math.max(1e-3, Math.min(...values, 1))));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (rtt: number) => PLOT.left + (rtt / 45) * (PLOT.right - PLOT.left);
  const y = (ms: number) => PLOT.bottom - ((Math.log10(ms) - lo) / Math.max(1, hi - lo)) * (PLOT.bottom - PLOT.top);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(`<text x="${PLOT.left}" y="28" font-size="16" font-weight="bold">${escape(`Decode time per token against link RTT${r.quick ? ' (quick run)' : ''}`)}</text>`);
  // Axes and grid.
  parts.push(`<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#000"/>`);
  parts.push(`<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#000"/>`);
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    parts.push(`<line x1="${PLOT.left}" y1="${n(y(v))}" x2="${PLOT.right}" y2="${n(y(v))}" stroke="#ddd"/>`);
    parts.push(`<text x="${PLOT.left - 8}" y="${n(y(v) + 4)}" text-anchor="end">${escape(v >= 1 ? String(v) : v.toString())}</text>`);
  }
  const ticks = new Map<number, string>([[0, '0 (no emulation)']]);
  for (const name of r.options.links) if (isLinkSettingName(name)) {
    const l = LINK_SETTINGS[name];
    if (l.rttMs > 0) ticks.set(l.rttMs, `${l.rttMs} (${bandwidthLabel(l.bitsPerSecond)})`);
  }
  for (const [rtt, label] of ticks) {
    parts.push(`<line x1="${n(x(rtt))}" y1="${PLOT.top}" x2="${n(x(rtt))}" y2="${PLOT.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${n(x(rtt))}" y="${PLOT.bottom + 18}" text-anchor="middle">${escape(label)}</text>`);
  }
  parts.push(`<text x="${n((PLOT.left + PLOT.right) / 2)}" y="${PLOT.bottom + 40}" text-anchor="middle">${escape('RTT between gateway and engine, ms (link bandwidth)')}</text>`);
  parts.push(`<text x="20" y="${n((PLOT.top + PLOT.bottom) / 2)}" text-anchor="middle" transform="rotate(-90 20 ${n((PLOT.top + PLOT.bottom) / 2)})">${escape('ms per decoded token (log scale)')}</text>`);
  // Series.
  for (const s of series) {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(x(p.rtt))},${n(y(p.ms))}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of s.points) {
      if (s.marker === 'circle') parts.push(`<circle cx="${n(x(p.rtt))}" cy="${n(y(p.ms))}" r="4" fill="${s.color}"><title>${escape(`${s.label}: ${p.ms.toFixed(1)} ms at ${p.rtt} ms RTT`)}</title></circle>`);
      if (s.marker === 'square') parts.push(`<rect x="${n(x(p.rtt) - 4)}" y="${n(y(p.ms) - 4)}" width="8" height="8" fill="none" stroke="${s.color}" stroke-width="2"><title>${escape(`${s.label}: ${p.ms.toFixed(1)} ms at ${p.rtt} ms RTT`)}</title></rect>`);
    }
  }
  // Legend.
  const lx = PLOT.right + 20;
  series.forEach((s, i) => {
    const ly = PLOT.top + 10 + i * 18;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    parts.push(`<text x="${lx + 34}" y="${ly + 4}" font-size="11">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
