/**
 * Issue 12's acceptance table with a value in every cell, each marked by where it comes from:
 *   measured — in this run;
 *   counted  — flights or bytes computed exactly from short real sessions on the same model and
 *              profile (bench/exact-counts.ts, bench/cell-model.ts), for a size the run did not measure;
 *   modelled — a time: the compute of the cell's work + its exact flights × one-way delay +
 *              its exact bytes / bandwidth (cell-model.ts). The compute is the same cell's time on
 *              link none where the run measured that work there; else the rule named in the cell's
 *              note (a long prefill: linear in prompt tokens from the same cell's short prompt
 *              on link none; a long-context decode: the short context's decode compute).
 * Then the checks that say how far to trust the modelled cells: every cell measured on a
 * delayed link beside its model (from link none), the long-prefill rule beside the long prefills
 * measured on link none, and the counted identities beside sessions or cells measured directly.
 */
import type { BenchResults, FullDepthResult, ModelResult } from './bench-results.js';
import { paperComparison } from './acceptance-summary.js';
import { networkFloorMs } from './floor-model.js';
import { extrapolate } from './extrapolation.js';
import { LINK_SETTINGS, isLinkSettingName, type LinkSettingName } from './link-settings.js';
import { computeOfMeasured, decodeCount, fusedAt, modelledMs, prefillCount, type ExactCounts } from './cell-model.js';
import { parseBenchProfile } from './bench-profile.js';
import { DEFAULT_FUSED_VALUES_BYTES } from '../model/fixed-point/plan-fused-values.js';

export type Mark = 'measured' | 'counted' | 'modelled';

export interface CellValue {
  value: number;
  mark: Mark;
  /** How a counted or modelled value was obtained. */
  note?: string;
}

export interface FilledRow {
  model: string;
  profile: string;
  flightsPerLayer: CellValue | null;
  flightsPerToken: CellValue | null;
  bytesPerToken: CellValue | null;
  longPrefill: { tokens: number; flights: CellValue; bytes: CellValue } | null;
  perLink: Partial<Record<LinkSettingName, { msPerToken: CellValue | null; ttftShortMs: CellValue | null; ttftLongMs: CellValue | null }>>;
  privateOverPlaintext: CellValue | null;
}

export interface LongContextRow {
  model: string;
  profile: string;
  keys: number;
  flightsPerLayer: number;
  flightsPerToken: number;
  bytesPerToken: number;
  /** From the counted session (keys it read; whether that pairing had the fused step switched off). */
  note: string;
  msPerToken: Partial<Record<LinkSettingName, CellValue>>;
}

export interface ModelCheck {
  what: string;
  model: string;
  profile: string;
  link: string;
  modelled: number;
  measured: number;
}

/** The long prompt the acceptance table asks for (512 tokens, or what the context leaves). */
export const LONG_PROMPT = 512;
/** The long context of the long-context decode rows. */
export const LONG_CONTEXT_KEYS = 512;

const measured = (value: number): CellValue => ({ value, mark: 'measured' });

function linksOf(r: BenchResults): LinkSettingName[] {
  return r.options.links.filter(isLinkSettingName);
}

/** Per model and profile, the counts that belong to its default plan (not a --no-fusion pairing). */
function countsFor(all: readonly ExactCounts[], model: string, profile: string, defaultPlan = true): ExactCounts | undefined {
  const mine = all.filter((c) => c.model === model && c.profile === profile && (!defaultPlan || !isNoFusion(c)));
  // Several files may hold one model's counts (prefill points in one, decode steps in another): the prefill points first.
  return mine.find((c) => c.prefill.length > 0) ?? mine[0];
}

function isNoFusion(c: ExactCounts): boolean {
  return c.fusedValuesBytes === null && parseBenchProfile(c.profile).profile === 'ring64' && parseBenchProfile(c.profile).attention === 'beaver';
}

/** The fused-P·V bound that governs the schedule of these counts (null where the mode has no fused step). */
function fusionBound(c: ExactCounts): number | null {
  const p = parseBenchProfile(c.profile);
  return p.profile === 'ring64' && p.attention === 'beaver' ? c.fusedValuesBytes : null;
}

function oneLayerFlightsPerLayer(r: BenchResults, m: ModelResult, flightsPerToken: number): CellValue | null {
  // A one-layer model: its flights per token less the fixed part's, as the extrapolation counts them.
  if (m.shape === null) return null;
  const ex = extrapolate(r.models.filter((x) => x.profile === m.profile), linksOf(r), r.tokenLookup);
  const layer = ex.perLayer.find((p) => p.shape === m.shape);
  if (!layer) return null;
  return { value: layer.flightsPerToken, mark: 'measured', note: `flights per token ${flightsPerToken} less the fixed part's ${flightsPerToken - layer.flightsPerToken} (two-depth pair)` };
}

/** Fills every cell of the acceptance rows for `models` (default: every model with a decode). */
export function filledRows(r: BenchResults, counts: readonly ExactCounts[] = [], models?: readonly string[]): FilledRow[] {
  const links = linksOf(r);
  const rows: FilledRow[] = [];
  for (const m of r.models) {
    if (models && !models.includes(m.name)) continue;
    const withDecode = m.private.find((p) => p.decode);
    const d = withDecode?.decode;
    if (!d) continue;
    const none = m.private.find((p) => p.link === 'none');
    const prompts = m.plaintext.prefill.map((p) => p.promptTokens).sort((a, b) => a - b);
    const short = prompts[0]!;
    // The long prompt the run measured (stories260K: 512 less the decoded tokens), else LONG_PROMPT.
    const measuredLong = m.private.flatMap((p) => p.prefill).find((p) => p.promptTokens > short);
    const longN = measuredLong?.promptTokens ?? LONG_PROMPT;
    const c = countsFor(counts, m.name, m.profile);
    let longPrefill: FilledRow['longPrefill'] = null;
    if (measuredLong) {
      longPrefill = { tokens: longN, flights: measured(measuredLong.flights), bytes: measured(measuredLong.bytesToEngine + measuredLong.bytesFromEngine) };
    } else if (c) {
      const x = prefillCount(c, longN, fusionBound(c));
      if (x) {
        const note = `exact from sessions of ${x.fromPrompts.join(', ')} tokens (exact-counts.ts)`;
        longPrefill = { tokens: longN, flights: { value: x.flights, mark: 'counted', note }, bytes: { value: x.bytes, mark: 'counted', note } };
      }
    }
    // Compute of each piece of work, from link none.
    const noneShort = none?.prefill.find((p) => p.promptTokens === short);
    const noneLong = none?.prefill.find((p) => p.promptTokens === longN);
    const decodeCompute = none?.decode ? none.decode.msPerToken : null;
    const shortCompute = noneShort ? noneShort.ttftMs : null;
    let longCompute: { ms: number; note: string } | null = null;
    if (noneLong) longCompute = { ms: noneLong.ttftMs, note: `compute: the ${longN}-token prefill measured on link none` };
    else if (shortCompute !== null) longCompute = { ms: (shortCompute * longN) / short, note: `compute: the ${short}-token first token on link none × ${longN}/${short} (linear in prompt tokens)` };
    const flightsPerToken = d.flights;
    const bytesPerToken = d.bytesToEngine + d.bytesFromEngine;
    const perLink: FilledRow['perLink'] = {};
    for (const link of links) {
      const setting = LINK_SETTINGS[link];
      const lr = m.private.find((p) => p.link === link);
      const shortPrefill = lr?.prefill.find((p) => p.promptTokens === short);
      const longMeasured = lr?.prefill.find((p) => p.promptTokens === longN);
      const model = (compute: number | null, flights: number, bytes: number, note: string): CellValue | null =>
        compute === null ? null : { value: modelledMs(setting, compute, flights, bytes), mark: 'modelled', note };
      perLink[link] = {
        msPerToken: lr?.decode ? measured(lr.decode.msPerToken) : model(decodeCompute, flightsPerToken, bytesPerToken, 'compute: decode on link none'),
        ttftShortMs: shortPrefill ? measured(shortPrefill.ttftMs) : noneShort ? model(shortCompute, noneShort.flights, noneShort.bytesToEngine + noneShort.bytesFromEngine, 'compute: link none') : null,
        ttftLongMs: longMeasured ? measured(longMeasured.ttftMs) : longPrefill && longCompute ? model(longCompute.ms, longPrefill.flights.value, longPrefill.bytes.value, longCompute.note) : null,
      };
    }
    const plain = m.plaintext.decodeMsPerToken;
    rows.push({
      model: m.name,
      profile: m.profile,
      flightsPerLayer: m.config.nLayers > 1 ? measured(d.flightsPerLayer) : oneLayerFlightsPerLayer(r, m, flightsPerToken),
      flightsPerToken: measured(flightsPerToken),
      bytesPerToken: measured(bytesPerToken),
      longPrefill,
      perLink,
      privateOverPlaintext: none?.decode && plain ? measured(none.decode.msPerToken / plain) : null,
    });
  }
  return rows;
}

/**
 * Decode at a long context (LONG_CONTEXT_KEYS keys), per counted model and profile: exact
 * flights and bytes (the fused-P·V decision taken as the default plan takes it at that many
 * keys) and the time on each link from the short context's decode compute on link none.
 */
export function longContextRows(r: BenchResults, counts: readonly ExactCounts[], keys = LONG_CONTEXT_KEYS): LongContextRow[] {
  const out: LongContextRow[] = [];
  const links = linksOf(r);
  const seen = new Set<string>();
  for (const c of counts) {
    if (!c.decode) continue;
    const key = `${c.model}|${c.profile}`;
    const bound = fusionBound(c);
    const defaultFused = (k: number) => parseBenchProfile(c.profile).attention === 'beaver' && parseBenchProfile(c.profile).profile === 'ring64' && fusedAt(DEFAULT_FUSED_VALUES_BYTES, c.config.headDim, c.config.nHeads * k);
    // A no-fusion pairing stands for the default plan only where the default plan does not fuse either.
    if (isNoFusion(c) && defaultFused(keys)) continue;
    if (!isNoFusion(c) && bound !== null && fusedAt(bound, c.config.headDim, c.config.nHeads * keys) !== defaultFused(keys)) continue;
    if (seen.has(key)) continue;
    const queries = c.decode.steps.map((s) => s.tokenQueryBytes).filter((b) => b > 0);
    if (queries.length === 0) continue;
    const regime = (k: number) => (bound === null ? false : fusedAt(bound, c.config.headDim, c.config.nHeads * k));
    const x = decodeCount(c, keys, Math.min(...queries), regime);
    if (!x) continue;
    seen.add(key);
    const m = r.models.find((mm) => mm.name === c.model && mm.profile === c.profile);
    const compute = m?.private.find((p) => p.link === 'none')?.decode?.msPerToken;
    const fixedFlights = c.config.nLayers === 1 ? shortContextFixedFlights(r, m) : null;
    const msPerToken: LongContextRow['msPerToken'] = {};
    if (compute !== undefined) for (const link of links) msPerToken[link] = { value: modelledMs(LINK_SETTINGS[link], compute, x.flightsPerToken, x.bytes), mark: 'modelled', note: 'compute: the short-context decode on link none (a lower bound: attention over more keys adds to it)' };
    out.push({
      model: c.model,
      profile: c.profile,
      keys,
      flightsPerLayer: c.config.nLayers > 1 ? x.flightsPerLayer : x.flightsPerToken - (fixedFlights ?? 0),
      flightsPerToken: x.flightsPerToken,
      bytesPerToken: x.bytes,
      note: `counted: decode steps at ${x.fromKeys.join(', ')} keys${isNoFusion(c) ? ' of a pairing without the fused P·V (the schedule the default plan runs at this many keys)' : ''}, bytes affine in keys, one token query per token`,
      msPerToken,
    });
  }
  return out;
}

export interface FullLongContext {
  profile: string;
  keys: number;
  flightsPerLayer: number;
  flightsPerToken: number;
  megabytesPerToken: number;
  /** At the paper's link: the extrapolation's compute (short context) + the link's cost of these flights and bytes. */
  secondsPerToken: number;
  networkSeconds: number;
}

/**
 * The full Llama-3.1-8B decode at a long context, per profile with counted 8B-layer steps: the
 * extrapolation at the short context (paperComparison) with each of its layers' flights and bytes
 * replaced by the counted ones at `keys` keys (the fixed part does not depend on the keys). Both
 * sides are taken without their token-query bytes, so the query counts once per token as in the
 * extrapolation. Time: the short context's compute (a lower bound) + the paper link's cost.
 */
export function fullLongContext(r: BenchResults, counts: readonly ExactCounts[], keys = LONG_CONTEXT_KEYS): FullLongContext[] {
  const out: FullLongContext[] = [];
  for (const row of longContextRows(r, counts, keys)) {
    if (row.model !== 'llama3-8b-l1') continue;
    const m = r.models.find((x) => x.name === row.model && x.profile === row.profile);
    const d = m?.private.find((p) => p.decode)?.decode;
    const full = paperComparison(r).find((p) => p.profile === row.profile);
    const target = r.extrapolation.fullDepth.length > 0 ? paperExtrapolation(r, row.profile) : undefined;
    if (!d || !full || !target) continue;
    const c = counts.find((x) => x.model === row.model && x.profile === row.profile && x.decode);
    const query = Math.min(...(c?.decode?.steps.map((s) => s.tokenQueryBytes).filter((b) => b > 0) ?? [0]));
    const shortLayer = d.bytesToEngine + d.bytesFromEngine - (d.bytesByKind.toEngine.TokenQuery ?? 0);
    const longLayer = row.bytesPerToken - query;
    const layers = target.layers;
    const flights = full.flightsPerToken + layers * (row.flightsPerLayer - full.flightsPerLayer);
    const bytes = full.megabytesPerToken * 1e6 + layers * (longLayer - shortLayer);
    const network = networkFloorMs(LINK_SETTINGS.paper, flights, bytes);
    out.push({ profile: row.profile, keys, flightsPerLayer: row.flightsPerLayer, flightsPerToken: flights, megabytesPerToken: bytes / 1e6, secondsPerToken: (target.computeMsPerToken + network) / 1000, networkSeconds: network / 1000 });
  }
  return out;
}

/** The full-8B extrapolation at the paper link for one profile (as paperComparison computes it). */
function paperExtrapolation(r: BenchResults, profile: string): FullDepthResult | undefined {
  const links = linksOf(r);
  const ex = profile === r.options.profiles[0] ? r.extrapolation : extrapolate(r.models.filter((m) => m.profile === profile), links, r.tokenLookup);
  return ex.fullDepth.find((f) => f.shape === 'llama3-8b' && f.link === 'paper');
}

/** The fixed part's flights (embedding, final norm, LM head, logit opening, lookup) of a one-layer model's decode. */
function shortContextFixedFlights(r: BenchResults, m: ModelResult | undefined): number | null {
  if (!m?.shape) return null;
  const d = m.private.find((p) => p.decode)?.decode;
  if (!d) return null;
  const ex = extrapolate(r.models.filter((x) => x.profile === m.profile), linksOf(r), r.tokenLookup);
  const layer = ex.perLayer.find((p) => p.shape === m.shape);
  return layer ? d.flights - layer.flightsPerToken : null;
}

/**
 * Every cell measured on a delayed link beside its model from link none (same flights and
 * bytes), and every long prefill measured on link none beside the linear rule from its short prompt.
 */
export function modelChecks(r: BenchResults, models?: readonly string[]): ModelCheck[] {
  const out: ModelCheck[] = [];
  for (const m of r.models) {
    if (models && !models.includes(m.name)) continue;
    const none = m.private.find((p) => p.link === 'none');
    if (!none) continue;
    const prompts = m.plaintext.prefill.map((p) => p.promptTokens).sort((a, b) => a - b);
    const short = prompts[0]!;
    for (const lr of m.private) {
      if (lr.link === 'none' || !isLinkSettingName(lr.link)) continue;
      const setting = LINK_SETTINGS[lr.link];
      if (lr.decode && none.decode) out.push({ what: 'decode ms / token', model: m.name, profile: m.profile, link: lr.link, modelled: modelledMs(setting, none.decode.msPerToken, lr.decode.flights, lr.decode.bytesToEngine + lr.decode.bytesFromEngine), measured: lr.decode.msPerToken });
      for (const p of lr.prefill) {
        const n = none.prefill.find((x) => x.promptTokens === p.promptTokens);
        if (n) out.push({ what: `first token, ${p.promptTokens} tokens`, model: m.name, profile: m.profile, link: lr.link, modelled: modelledMs(setting, n.ttftMs, p.flights, p.bytesToEngine + p.bytesFromEngine), measured: p.ttftMs });
      }
    }
    const noneShort = none.prefill.find((p) => p.promptTokens === short);
    for (const p of none.prefill) {
      if (p.promptTokens === short || !noneShort) continue;
      out.push({ what: `long-prefill rule: ${p.promptTokens} tokens from ${short}`, model: m.name, profile: m.profile, link: 'none', modelled: (computeOfMeasured(LINK_SETTINGS.none, noneShort.ttftMs, 0, 0) * p.promptTokens) / short, measured: p.ttftMs });
    }
  }
  return out;
}

export interface CountCheck {
  model: string;
  profile: string;
  what: string;
  counted: number;
  direct: number;
  against: string;
}

/**
 * The counted identities beside what was measured directly: a counted prompt predicted from the
 * others (the point itself left out), a measured cell predicted from the counts, and a
 * no-fusion pairing's chunk increments beside the default plan's unfused ones.
 */
export function countChecks(r: BenchResults, counts: readonly ExactCounts[]): CountCheck[] {
  const out: CountCheck[] = [];
  for (const c of counts) {
    // Decode steps beyond the first two follow from them (bytes affine in keys), query bytes aside.
    const steps = c.decode?.steps ?? [];
    const [a, b, ...rest] = steps.map((s) => ({ keys: s.keys, bytes: s.bytes - s.tokenQueryBytes }));
    for (const s of rest) {
      if (!a || !b) break;
      out.push({ model: c.model, profile: isNoFusion(c) ? `${c.profile} (no fusion)` : c.profile, what: `decode step at ${s.keys} keys: bytes (less its token query)`, counted: a.bytes + ((s.keys - a.keys) * (b.bytes - a.bytes)) / (b.keys - a.keys), direct: s.bytes, against: `that step (from the steps at ${a.keys}, ${b.keys} keys)` });
    }
    if (isNoFusion(c) && c.decode) {
      // The no-fusion pairing's decode, extended to the keys where a default-plan session decoded past its bound.
      const queries = c.decode.steps.map((s) => s.tokenQueryBytes).filter((q) => q > 0);
      for (const d of counts.filter((x) => x.model === c.model && x.profile === c.profile && !isNoFusion(x) && x.decode)) {
        const bound = fusionBound(d);
        for (const s of d.decode!.steps) {
          if (fusedAt(bound, d.config.headDim, d.config.nHeads * s.keys) || s.tokenQueryBytes === 0 || queries.length === 0) continue;
          const x = decodeCount(c, s.keys, s.tokenQueryBytes, () => false);
          if (x) out.push({ model: c.model, profile: `${c.profile} (no fusion)`, what: `decode step at ${s.keys} keys: bytes`, counted: x.bytes, direct: s.bytes, against: `the default plan's step there (past its fused-P·V bound), from the no-fusion steps at ${x.fromKeys.join(', ')} keys` });
        }
      }
    }
    if (isNoFusion(c)) {
      const d = countsFor(counts, c.model, c.profile);
      const inc = (x: ExactCounts, n: number) => {
        const a = x.prefill.find((p) => p.promptTokens === n);
        const b = x.prefill.find((p) => p.promptTokens === n + 32);
        return a && b ? b.bytes - a.bytes : undefined;
      };
      for (const p of c.prefill) {
        const mine = inc(c, p.promptTokens);
        const theirs = d ? inc(d, p.promptTokens) : undefined;
        const bound = d ? fusionBound(d) : null;
        const unfusedThere = d && !fusedAt(bound, d.config.headDim, d.config.nHeads * (32 * p.promptTokens + 528));
        if (mine !== undefined && theirs !== undefined && unfusedThere) out.push({ model: c.model, profile: `${c.profile} (no fusion)`, what: `bytes of the chunk at ${p.promptTokens}`, counted: mine, direct: theirs, against: 'the default plan, where that chunk is not fused either' });
      }
      continue;
    }
    for (const p of c.prefill) {
      const without: ExactCounts = { ...c, prefill: c.prefill.filter((x) => x.promptTokens !== p.promptTokens) };
      const x = prefillCount(without, p.promptTokens, fusionBound(c));
      if (x) {
        out.push({ model: c.model, profile: c.profile, what: `prefill ${p.promptTokens} tokens: bytes`, counted: x.bytes, direct: p.bytes, against: `a session of ${p.promptTokens} tokens (from ${x.fromPrompts.join(', ')})` });
        out.push({ model: c.model, profile: c.profile, what: `prefill ${p.promptTokens} tokens: flights`, counted: x.flights, direct: p.flights, against: `a session of ${p.promptTokens} tokens` });
      }
    }
    const m = r.models.find((mm) => mm.name === c.model && mm.profile === c.profile);
    for (const lp of m?.private.flatMap((l) => l.prefill) ?? []) {
      const x = prefillCount(c, lp.promptTokens, fusionBound(c));
      if (!x || x.fromPrompts.length === 1) continue;
      if (out.some((o) => o.model === c.model && o.profile === c.profile && o.what.startsWith(`run's ${lp.promptTokens}`))) continue;
      out.push({ model: c.model, profile: c.profile, what: `run's ${lp.promptTokens}-token prefill: bytes`, counted: x.bytes, direct: lp.bytesToEngine + lp.bytesFromEngine, against: 'the benchmark run' });
      out.push({ model: c.model, profile: c.profile, what: `run's ${lp.promptTokens}-token prefill: flights`, counted: x.flights, direct: lp.flights, against: 'the benchmark run' });
    }
  }
  return out;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
const tag = (c: CellValue | null | undefined, f: (x: number) => string = fmt): string => (!c ? '–' : c.mark === 'measured' ? f(c.value) : c.mark === 'counted' ? `${f(c.value)} ᶜ` : `≈${f(c.value)}`);

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

/** The filled table, the long-context rows and the checks, as markdown. */
export function renderFilled(r: BenchResults, counts: readonly ExactCounts[], models?: readonly string[]): string {
  const links = linksOf(r);
  const rows = filledRows(r, counts, models);
  const out: string[] = [];
  out.push('## Issue 12 acceptance: every cell, measured or modelled');
  out.push('');
  out.push(
    'Plain figures were measured in this run. **ᶜ** = counted: exact flights or bytes from short real sessions of the same model and profile (bench/exact-counts.ts; the identities in bench/cell-model.ts), for a size the run did not measure. ' +
      '**≈** = modelled time: compute + flights × one-way delay + bytes / bandwidth, with that cell\'s exact flights and bytes, and as compute the same work\'s time on link none where it was measured; a long prefill not measured on link none takes the short prompt\'s first token there × (long / short tokens). ' +
      'The checks below set each model beside what was measured. – : neither measured nor countable from the counts given.',
  );
  out.push('');
  const header = ['model', 'profile', 'flights / layer (per token)', 'KiB / token', 'long prefill MiB (tokens, flights)'];
  for (const l of links) header.push(`${l}: ms / token`);
  for (const l of links) header.push(`${l}: first token short / long, ms`);
  header.push('private / plaintext (none)');
  out.push(
    table(
      header,
      rows.map((row) => {
        const cells = [
          row.model,
          row.profile,
          `${tag(row.flightsPerLayer)} (${tag(row.flightsPerToken, (x) => x.toFixed(0))})`,
          tag(row.bytesPerToken, (b) => (b / 1024).toFixed(1)),
          row.longPrefill ? `${tag(row.longPrefill.bytes, (b) => (b / 2 ** 20).toFixed(1))} (${row.longPrefill.tokens}, ${tag(row.longPrefill.flights, (x) => x.toFixed(0))})` : '–',
        ];
        for (const l of links) cells.push(tag(row.perLink[l]?.msPerToken));
        for (const l of links) cells.push(`${tag(row.perLink[l]?.ttftShortMs)} / ${tag(row.perLink[l]?.ttftLongMs)}`);
        cells.push(tag(row.privateOverPlaintext, (x) => `${x.toFixed(0)}×`));
        return cells;
      }),
    ),
  );
  out.push('');
  const notes = new Set<string>();
  for (const row of rows) {
    for (const c of [row.flightsPerLayer, row.longPrefill?.bytes, ...links.flatMap((l) => [row.perLink[l]?.msPerToken, row.perLink[l]?.ttftShortMs, row.perLink[l]?.ttftLongMs])]) {
      if (c && c.mark !== 'measured' && c.note) notes.add(`${row.model} [${row.profile}]: ${c.mark}, ${c.note}`);
    }
  }
  if (notes.size > 0) {
    out.push('How each counted or modelled cell was obtained:');
    out.push('');
    for (const n of notes) out.push(`- ${n}`);
    out.push('');
  }
  const lc = longContextRows(r, counts);
  out.push(`### Decode at a long context (${LONG_CONTEXT_KEYS} keys)`);
  out.push('');
  if (lc.length === 0) out.push('No counted decode steps given (bench/exact-counts.ts --decode-prompt).');
  else {
    out.push(
      table(
        ['model', 'profile', 'keys', 'flights / layer (per token)', 'KiB / token', ...links.map((l) => `${l}: ms / token`)],
        lc.map((x) => [x.model, x.profile, String(x.keys), `${x.flightsPerLayer.toFixed(0)} ᶜ (${x.flightsPerToken.toFixed(0)} ᶜ)`, `${(x.bytesPerToken / 1024).toFixed(1)} ᶜ`, ...links.map((l) => tag(x.msPerToken[l]))]),
      ),
    );
    out.push('');
    for (const x of lc) out.push(`- ${x.model} [${x.profile}]: ${x.note}; ms: ${Object.values(x.msPerToken)[0]?.note ?? '–'}`);
  }
  const full = fullLongContext(r, counts);
  if (full.length > 0) {
    out.push('');
    out.push(`Full Llama-3.1-8B at ${LONG_CONTEXT_KEYS} keys, 10 ms RTT / 1 Gbps (the extrapolation above with each layer's flights and bytes counted at that context; compute of the short context, a lower bound):`);
    out.push('');
    out.push(table(['profile', 's / token', 'of it network s', 'flights / layer (per token)', 'MB / token'], full.map((f) => [f.profile, `≈${f.secondsPerToken.toFixed(2)}`, f.networkSeconds.toFixed(2), `${f.flightsPerLayer.toFixed(0)} ᶜ (${f.flightsPerToken.toFixed(0)} ᶜ)`, `${f.megabytesPerToken.toFixed(1)} ᶜ`])));
  }
  out.push('');
  out.push('### How far to trust the modelled cells: model beside measurement');
  out.push('');
  out.push('Each cell of this run measured on a delayed link, modelled from link none as the table models the missing ones, and the long-prefill rule on the long prefills measured on link none. modelled / measured near 1 means the link model explains the cell; the spread is this machine\'s load (times noisy, flights and bytes exact).');
  out.push('');
  const checks = modelChecks(r, models);
  out.push(table(['what', 'model', 'profile', 'link', 'modelled ms', 'measured ms', 'modelled / measured'], checks.map((c) => [c.what, c.model, c.profile, c.link, fmt(c.modelled), fmt(c.measured), (c.modelled / c.measured).toFixed(2)])));
  out.push('');
  const ratios = (pred: (c: ModelCheck) => boolean) => checks.filter(pred).map((c) => c.modelled / c.measured).sort((a, b) => a - b);
  const link = ratios((c) => c.link !== 'none');
  const rule = ratios((c) => c.link === 'none');
  if (link.length > 0) out.push(`Link model: modelled / measured from ${link[0]!.toFixed(2)} to ${link[link.length - 1]!.toFixed(2)}, median ${link[Math.floor(link.length / 2)]!.toFixed(2)} over ${link.length} cells.`);
  if (rule.length > 0) out.push(`Long-prefill compute rule (linear in tokens): from ${rule[0]!.toFixed(2)} to ${rule[rule.length - 1]!.toFixed(2)} over ${rule.length} cells.`);
  out.push('');
  const cc = countChecks(r, counts);
  if (cc.length > 0) {
    out.push('### The counted identities beside direct measurements (exact: the difference must be 0)');
    out.push('');
    out.push(table(['model', 'profile', 'what', 'counted', 'direct', 'difference', 'against'], cc.map((c) => [c.model, c.profile, c.what, String(c.counted), String(c.direct), String(c.counted - c.direct), c.against])));
    out.push('');
  }
  return out.join('\n');
}
