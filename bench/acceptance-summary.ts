/**
 * Issue 12's acceptance figures in one table per run: for each model, mask profile and
 * attention mode, the decode critical path (flights per layer and per token), bytes per token,
 * bytes of the longest (512-token) prefill, time per token and time to first token on every
 * link setting, and private / plaintext per token; then, per mode, the extrapolation to the
 * full Llama-3.1-8B at the paper's link (10 ms RTT / 1 Gbps) beside the PermLLM paper's figures.
 *
 * Everything here is read from measured results (and extrapolation.ts), never assumed: when
 * the schedule changes (e.g. deferred normalisation), the flights change here with it.
 * "Pool warm": the decode figures are medians over the tokens after the first, by which time the
 * token-lookup queries of the next passes are already encrypted ahead (protocol/pool/ahead-pool.ts).
 */
import { FULL_DEPTH_TARGETS } from './bench-models.js';
import type { BenchResults, FullDepthResult, ModelResult } from './bench-results.js';
import { extrapolate } from './extrapolation.js';
import { isLinkSettingName, type LinkSettingName } from './link-settings.js';

/** The PermLLM paper's reported figures (Zheng et al. 2024) at 10 ms RTT / 1 Gbps, as issue 12 quotes them. */
export const PAPER_FIGURES = {
  secondsPerToken: 3,
  roundTripsPerLayer: 6,
  flightsPerLayer: 12,
  megabytesPerToken: 20,
  /** "89 s for a medium prompt" (as others measured the paper's system). */
  mediumPromptSeconds: 89,
} as const;

export interface AcceptanceRow {
  model: string;
  profile: string;
  attention: string;
  /** Measured between layer starts; null for a one-layer model (see the per-layer extrapolation). */
  flightsPerLayer: number | null;
  flightsPerToken: number | null;
  bytesPerToken: number | null;
  /** The longest prompt measured (512 where the context allows; stories260K: 512 − decoded tokens). */
  longPrompt: { tokens: number; bytes: number } | null;
  /** By link: decode ms per token (median), first token of the shortest and of the longest prompt. */
  perLink: Record<string, { msPerToken: number | null; ttftShortMs: number | null; ttftLongMs: number | null; privateOverPlaintext: number | null }>;
  shortPrompt: number | null;
  matchesPlaintext: boolean;
}

export interface PaperComparison {
  profile: string;
  target: string;
  link: string;
  secondsPerToken: number;
  flightsPerToken: number;
  flightsPerLayer: number;
  megabytesPerToken: number;
  /** Extrapolated first token for the longest measured prompt, and which prompt it was. */
  firstToken: { promptTokens: number; seconds: number; gigabytes: number } | null;
}

function attentionOf(profile: string): string {
  return profile.split(':')[1] ?? 'beaver';
}

export function acceptanceRows(r: BenchResults): AcceptanceRow[] {
  return r.models.map((m: ModelResult) => {
    const withDecode = m.private.find((p) => p.decode);
    const d = withDecode?.decode ?? null;
    const prompts = m.plaintext.prefill.map((p) => p.promptTokens).sort((a, b) => a - b);
    const shortest = prompts[0] ?? null;
    const longest = prompts[prompts.length - 1] ?? null;
    // A cell measured at one prompt length has no long prefill (it is not the short one relabelled).
    const longPrefill = longest === null || longest === shortest ? undefined : m.private.flatMap((p) => p.prefill).find((p) => p.promptTokens === longest);
    const perLink: AcceptanceRow['perLink'] = {};
    for (const p of m.private) {
      const ttft = (n: number | null) => (n === null ? null : (p.prefill.find((x) => x.promptTokens === n)?.ttftMs ?? null));
      const plain = m.plaintext.decodeMsPerToken;
      perLink[p.link] = {
        msPerToken: p.decode?.msPerToken ?? null,
        ttftShortMs: ttft(shortest),
        ttftLongMs: longest === shortest ? null : ttft(longest),
        privateOverPlaintext: p.decode && plain ? p.decode.msPerToken / plain : null,
      };
    }
    return {
      model: m.name,
      profile: m.profile.split(':')[0] ?? m.profile,
      attention: attentionOf(m.profile),
      // The gateway counts flights between layer starts: a one-layer model has none to count.
      flightsPerLayer: d && m.config.nLayers > 1 ? d.flightsPerLayer : null,
      flightsPerToken: d?.flights ?? null,
      bytesPerToken: d ? d.bytesToEngine + d.bytesFromEngine : null,
      longPrompt: longPrefill ? { tokens: longPrefill.promptTokens, bytes: longPrefill.bytesToEngine + longPrefill.bytesFromEngine } : null,
      perLink,
      shortPrompt: shortest,
      matchesPlaintext: m.private.every((p) => p.matchesPlaintext),
    };
  });
}

/** Per profile entry (mask profile and mode): the full Llama-3.1-8B at the paper's link, when the run measured its layer. */
export function paperComparison(r: BenchResults): PaperComparison[] {
  const links = r.options.links.filter(isLinkSettingName) as LinkSettingName[];
  if (!links.includes('paper')) return [];
  const target = FULL_DEPTH_TARGETS.find((t) => t.shape === 'llama3-8b');
  if (!target) return [];
  const out: PaperComparison[] = [];
  for (const profile of r.options.profiles) {
    const models = r.models.filter((m) => m.profile === profile);
    const ex = profile === r.options.profiles[0] && r.extrapolation.fullDepth.length > 0 ? r.extrapolation : extrapolate(models, links, r.tokenLookup);
    const full: FullDepthResult | undefined = ex.fullDepth.find((f) => f.shape === target.shape && f.link === 'paper');
    if (!full) continue;
    // Flights do not depend on the link: any link's per-layer figure will do when the paper link was not measured at this width.
    const layer = ex.perLayer.find((p) => p.shape === target.shape && p.link === 'paper') ?? ex.perLayer.find((p) => p.shape === target.shape);
    const prompts = Object.keys(full.ttftMs).map(Number).sort((a, b) => a - b);
    const longest = prompts[prompts.length - 1];
    out.push({
      profile,
      target: full.target,
      link: 'paper',
      secondsPerToken: full.decodeMsPerToken / 1000,
      flightsPerToken: full.flightsPerToken,
      flightsPerLayer: layer?.flightsPerToken ?? (full.flightsPerToken / full.layers),
      megabytesPerToken: full.bytesPerToken / 1e6,
      firstToken: longest === undefined ? null : { promptTokens: longest, seconds: full.ttftMs[String(longest)]! / 1000, gigabytes: (full.prefillBytes[String(longest)] ?? 0) / 1e9 },
    });
  }
  return out;
}

const fmt = (x: number | null, digits = 1) => (x === null ? '–' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(digits));
const kib = (b: number | null) => (b === null ? '–' : (b / 1024).toFixed(1));
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The acceptance section of bench.md (also printed at the end of a run). */
export function renderAcceptance(r: BenchResults): string {
  const rows = acceptanceRows(r);
  const links = r.options.links;
  const out: string[] = [];
  out.push('## Issue 12 acceptance: per mode and profile');
  out.push('');
  out.push(
    'Decode: median ms per token over the tokens after the first (the token-lookup query pool is warm then), flights on the decode critical path, gateway–engine bytes per token (both ways, offline frames included). ' +
      'First token: of the shortest prompt, and of the longest (512 tokens, or what the context leaves). private / plaintext: decode time per token against the plaintext forward pass on the same machine. ' +
      '"–": not measured in this run (a preset names the cells it measures, e.g. bench/acceptance-preset.ts; flights per layer are not counted on a one-layer model).',
  );
  out.push('');
  const header = ['model', 'profile', 'mode', 'flights / layer', 'flights / token', 'KiB / token', 'long prefill MiB (tokens)'];
  for (const l of links) header.push(`${l}: ms / token`, `${l}: first token ms (short / long)`, `${l}: private / plaintext`);
  header.push('tokens == plaintext');
  out.push(
    table(
      header,
      rows.map((row) => {
        const cells = [row.model, row.profile, row.attention, fmt(row.flightsPerLayer), fmt(row.flightsPerToken, 0), kib(row.bytesPerToken), row.longPrompt ? `${mib(row.longPrompt.bytes)} (${row.longPrompt.tokens})` : '–'];
        for (const l of links) {
          const x = row.perLink[l];
          cells.push(fmt(x?.msPerToken ?? null), `${fmt(x?.ttftShortMs ?? null, 0)} / ${fmt(x?.ttftLongMs ?? null, 0)}`, x?.privateOverPlaintext ? `${x.privateOverPlaintext.toFixed(0)}×` : '–');
        }
        cells.push(row.matchesPlaintext ? 'yes' : 'no');
        return cells;
      }),
    ),
  );
  out.push('');
  out.push('### The decode critical path, per party (per token, first link measured)');
  out.push('');
  out.push(
    'Busy = the party is not blocked on any link (bench/time-split.ts); products = its matrix products (bench/timed-backend.ts) that ran while it was busy; the rest of a data party\'s busy time is its nonlinear steps, mask and PRG expansion, framing and the lookup. ' +
      'Gateway products ahead: its MulW products f(X − U, V) made while it waited on a link, for the next pass (protocol/pool/products-ahead.ts), off its critical path; in one process they still take the one event loop, so they show up in the engine\'s busy time instead (deployed, they overlap the engine\'s work). Pool hits: MulW products taken from the pool / all MulW calls of the session (the prefill pass is never predicted). ' +
      'The dealer works ahead (off the critical path): its production time per pass is shown apart. Lookup online / ahead: the token lookup alone at this vocabulary, its online part and the query encryption that the pool moves ahead (token-lookup-timing.ts; – where not timed).',
  );
  out.push('');
  const lookupAt = new Map(r.tokenLookup.map((t) => [t.vocab, t]));
  out.push(
    table(
      ['model', 'profile', 'link', 'ms / token', 'gateway busy (products + rest)', 'gateway products ahead', 'pool hits', 'engine busy (products + rest)', 'both busy', 'network', 'dealer ahead ms / pass', 'lookup online / ahead ms'],
      r.models.flatMap((m) => {
        const p = m.private.find((x) => x.decode);
        const d = p?.decode;
        if (!p || !d) return [];
        const s = d.split;
        const t = lookupAt.get(m.config.vocabSize);
        const busy = (total: number, products: number) => `${fmt(total)} (${fmt(products)} + ${fmt(Math.max(0, total - products))})`;
        const ahead = d.gatewayProductsAheadMs;
        const pool = d.productsAhead ? `${d.productsAhead.hits} / ${d.productsAhead.hits + d.productsAhead.misses}` : 'off';
        return [[m.name, m.profile, p.link, fmt(d.msPerToken), busy(s.busyMs.gateway, d.matmulMs.gateway - (ahead ?? 0)), fmt(ahead ?? null), pool, busy(s.busyMs.engine, d.matmulMs.engine), fmt(s.bothBusyMs), fmt(s.networkMs), fmt(d.dealerMsPerToken), t?.onlineMs !== undefined ? `${fmt(t.onlineMs)} / ${fmt(t.aheadMs ?? null)}` : '–']];
      }),
    ),
  );
  out.push('');
  const paper = paperComparison(r);
  out.push('### Full Llama-3.1-8B at 10 ms RTT / 1 Gbps, extrapolated, beside the paper');
  out.push('');
  if (paper.length === 0) {
    out.push('Not in this run: it needs the paper link and the Llama-3.1-8B layer with a two-depth shape to lend the fixed part (`--models full`, or at least `syn-d2048-l1,syn-d2048-l2,llama3-8b-l1`; the 128k vocabulary also needs `syn-d512-l1,syn-d512-l1-v32k`).');
  } else {
    const p = PAPER_FIGURES;
    const rowsOut = paper.map((c) => [
      c.profile,
      c.secondsPerToken.toFixed(2),
      c.flightsPerLayer.toFixed(1),
      c.flightsPerToken.toFixed(0),
      c.megabytesPerToken.toFixed(1),
      c.firstToken ? `${c.firstToken.seconds.toFixed(0)} s (${c.firstToken.promptTokens} tokens, ${c.firstToken.gigabytes.toFixed(2)} GB)` : '–',
    ]);
    rowsOut.push(['PermLLM paper', `≈ ${p.secondsPerToken}`, `${p.flightsPerLayer} (${p.roundTripsPerLayer} round trips)`, '–', `≈ ${p.megabytesPerToken}`, `${p.mediumPromptSeconds} s (a medium prompt)`]);
    out.push(table(['profile', 's / token', 'flights / layer', 'flights / token', 'MB / token', 'first token'], rowsOut));
    out.push('');
    out.push(
      'Ours: compute measured on this machine (all three parties in one process, CPU, float64 or ring64 shares) + the network floor of the full model\'s flights and bytes (bench/extrapolation.ts); the paper\'s: its own hardware. ' +
        'Flights and bytes per token are those of the context the 8B layer was decoded at (the shortest prompt plus the decoded tokens): the schedule can depend on it (ring64 fuses P·V at 8B shapes only while keys ≤ 32, model/fixed-point/plan-fused-values.ts). ' +
        (r.extrapolation.vocabularyCost
          ? 'The 128k vocabulary\'s embedding and LM-head products are scaled from the `syn-d512-l1` / `syn-d512-l1-v32k` pair; the 128k token lookup is timed alone.'
          : 'Without the `syn-d512-l1` / `syn-d512-l1-v32k` pair in the run, the 128k vocabulary\'s embedding and LM-head products are missing from ours (the 128k token lookup, timed alone, is included).'),
    );
  }
  out.push('');
  return out.join('\n');
}
