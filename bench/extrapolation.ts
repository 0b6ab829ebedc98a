/**
 * From the measured models to full depth (bench/README.md, "Extrapolation").
 *
 * 1. Per layer, for a layer shape measured at two depths L1 < L2 on one link:
 *    per-layer X = (X(L2) − X(L1)) / (L2 − L1) for decode time, flights and bytes per token
 *    and for time to first token, flights and bytes per prompt length; the fixed part
 *    (embedding, LM head, logit opening, token lookup) is X(L1) − L1 × per-layer X. A shape
 *    measured at one depth only (the Llama-3.1-8B layer) borrows the fixed part of the widest
 *    two-depth shape on the same link.
 * 2. Compute: the time measured with no link emulation (`none`), where no compute can hide
 *    behind a flight; on a delayed link part of it does (the gateway's offline-computable
 *    products run while the engine's reply is in flight), so this over-estimates a little. When
 *    `none` was not measured: wall time less the link's network floor, the smallest over links.
 * 3. Vocabulary: the BFV token lookup is measured alone at each vocabulary size; the rest of the
 *    difference between the 32k-vocabulary model and its 512-vocabulary twin is scaled by
 *    vocabulary size (bytes) and by vocabulary × dim (compute).
 * 4. Full depth on a link = fixed compute + layers × per-layer compute + vocabulary compute
 *    + network floor of the full model's flights and bytes.
 * The per-layer table shows the measured difference on each link beside this prediction.
 */
import { FULL_DEPTH_TARGETS, LAYER_SHAPES, NARROW_VOCAB, type LayerShapeKey } from './bench-models.js';
import type { BenchResults, FullDepthResult, LinkResult, ModelResult, PerLayerResult } from './bench-results.js';
import { networkFloorMs } from './floor-model.js';
import { LINK_SETTINGS, type LinkSettingName } from './link-settings.js';
import type { LookupTiming } from './token-lookup-timing.js';

export const EXTRAPOLATION_METHOD =
  'per layer = difference of two depths of the same layer shape (time, flights, bytes; decode and first token); fixed part = the shallower model less its layers ' +
  '(a one-depth shape, e.g. the Llama-3.1-8B layer, borrows the fixed part of the widest two-depth shape measured on the same link); compute = the time measured without link emulation (none), where no compute hides behind a flight; ' +
  'vocabulary = the token lookup timed alone at the target vocabulary + the rest of (32k-vocabulary model − its 512-vocabulary twin) scaled by vocabulary (bytes) and vocabulary × dim (compute); ' +
  'full depth on a link = fixed compute + layers × per-layer compute + vocabulary compute + (flights × one-way delay + bytes / bandwidth) of the full model.';

/** Time, flights and bytes of one phase (a decode token, or a prompt's first token). */
interface Cost {
  ms: number;
  flights: number;
  bytes: number;
}

interface Figures {
  decode: Cost;
  plainMs: number;
  cpuMs: number;
  plainCpuMs: number;
  /** By prompt length. */
  prefill: Record<string, Cost>;
  plainPrefill: Record<string, number>;
}

function figuresOf(model: ModelResult, link: string): Figures | undefined {
  const r: LinkResult | undefined = model.private.find((p) => p.link === link);
  if (!r?.decode || model.plaintext.decodeMsPerToken === null) return undefined;
  const prefill: Record<string, Cost> = {};
  for (const p of r.prefill) prefill[String(p.promptTokens)] = { ms: p.ttftMs, flights: p.flights, bytes: p.bytesToEngine + p.bytesFromEngine };
  const plainPrefill: Record<string, number> = {};
  for (const p of model.plaintext.prefill) plainPrefill[String(p.promptTokens)] = p.ttftMs;
  return {
    decode: { ms: r.decode.msPerToken, flights: r.decode.flights, bytes: r.decode.bytesToEngine + r.decode.bytesFromEngine },
    plainMs: model.plaintext.decodeMsPerToken,
    cpuMs: r.decode.cpuMs,
    plainCpuMs: model.plaintext.decodeCpuMsPerToken ?? 0,
    prefill,
    plainPrefill,
  };
}

function mapCost(a: Cost, b: Cost, f: (x: number, y: number) => number): Cost {
  return { ms: f(a.ms, b.ms), flights: f(a.flights, b.flights), bytes: f(a.bytes, b.bytes) };
}

function mapRecord<T>(a: Record<string, T>, b: Record<string, T>, f: (x: T, y: T) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(a)) if (b[k] !== undefined) out[k] = f(a[k]!, b[k]!);
  return out;
}

/** a ∘ b, element by element, over every figure. */
function combine(a: Figures, b: Figures, f: (x: number, y: number) => number): Figures {
  return {
    decode: mapCost(a.decode, b.decode, f),
    plainMs: f(a.plainMs, b.plainMs),
    cpuMs: f(a.cpuMs, b.cpuMs),
    plainCpuMs: f(a.plainCpuMs, b.plainCpuMs),
    prefill: mapRecord(a.prefill, b.prefill, (x, y) => mapCost(x, y, f)),
    plainPrefill: mapRecord(a.plainPrefill, b.plainPrefill, f),
  };
}

interface ShapeCost {
  perLayer: Figures;
  fixed: Figures;
  method: 'difference' | 'single-depth';
  depths: number[];
}

function narrowModels(models: readonly ModelResult[], shape: string): ModelResult[] {
  return models.filter((m) => m.shape === shape && m.config.vocabSize === NARROW_VOCAB).sort((a, b) => a.config.nLayers - b.config.nLayers);
}

function shapeCosts(models: readonly ModelResult[], link: string): Map<string, ShapeCost> {
  const out = new Map<string, ShapeCost>();
  for (const shape of Object.keys(LAYER_SHAPES)) {
    const ms = narrowModels(models, shape);
    const lo = ms[0];
    const hi = ms[ms.length - 1];
    if (!lo || !hi || lo === hi) continue;
    const a = figuresOf(lo, link);
    const b = figuresOf(hi, link);
    if (!a || !b) continue;
    const dl = hi.config.nLayers - lo.config.nLayers;
    const perLayer = combine(b, a, (y, x) => (y - x) / dl);
    const fixed = combine(a, perLayer, (x, p) => x - lo.config.nLayers * p);
    out.set(shape, { perLayer, fixed, method: 'difference', depths: [lo.config.nLayers, hi.config.nLayers] });
  }
  // The widest shape with a measured fixed part lends it to single-depth shapes.
  const lender = [...out.entries()].sort((x, y) => LAYER_SHAPES[y[0] as LayerShapeKey].dim - LAYER_SHAPES[x[0] as LayerShapeKey].dim)[0];
  // Where the run has a two-depth shape on some other link only (a preset measures the pair on
  // link none), a single-depth shape on this link has no fixed part to subtract: leave it out
  // rather than count the whole model as one layer. With no pair anywhere, the whole model is
  // the per-layer figure (fixed part 0), as a one-model run has always reported it.
  const pairElsewhere = Object.keys(LAYER_SHAPES).some((shape) => new Set(narrowModels(models, shape).filter((m) => m.private.length > 0).map((m) => m.config.nLayers)).size >= 2);
  if (!lender && pairElsewhere) return out;
  for (const shape of Object.keys(LAYER_SHAPES)) {
    if (out.has(shape)) continue;
    const m = narrowModels(models, shape)[0];
    const f = m && figuresOf(m, link);
    if (!m || !f) continue;
    const fixed = lender ? lender[1].fixed : combine(f, f, () => 0);
    const L = m.config.nLayers;
    out.set(shape, { perLayer: combine(f, fixed, (x, y) => (x - y) / L), fixed, method: 'single-depth', depths: [L] });
  }
  return out;
}

/** Wall time less the link's network floor: the compute in a cost. */
function computeOf(link: LinkSettingName, c: Cost): number {
  return c.ms - networkFloorMs(LINK_SETTINGS[link], c.flights, c.bytes);
}

/**
 * The compute in a set of per-link measurements: link none's when there is one (nothing is
 * hidden behind a flight there), else the smallest over the links (other load only adds time).
 */
function computeEstimate(perLink: { link: LinkSettingName; compute: number }[]): number {
  const none = perLink.find((x) => x.link === 'none');
  if (none) return Math.max(0, none.compute);
  return perLink.length === 0 ? 0 : Math.max(0, Math.min(...perLink.map((x) => x.compute)));
}

interface VocabularyCost {
  /** Per extra entry: decode bytes and compute (per entry × dim) besides the token lookup; prefill bytes per prompt. */
  bytesPerEntry: number;
  computePerEntryDim: number;
  plainPerEntryDim: number;
  prefillBytesPerEntry: Record<string, number>;
  prefillComputePerEntryDim: Record<string, number>;
  lookup: ReadonlyMap<number, LookupTiming>;
}

/**
 * The vocabulary's cost, from the 32k model against its narrow twin (same shape and depth),
 * less the token lookup's share, which is measured directly at each vocabulary size.
 */
function vocabularyCost(models: readonly ModelResult[], lookups: readonly LookupTiming[], links: readonly LinkSettingName[]): VocabularyCost | undefined {
  const wide = models.find((m) => m.shape !== null && m.config.vocabSize > NARROW_VOCAB);
  if (!wide) return undefined;
  const twin = models.find((m) => m.shape === wide.shape && m.config.nLayers === wide.config.nLayers && m.config.vocabSize === NARROW_VOCAB);
  if (!twin) return undefined;
  const lookup = new Map(lookups.map((l) => [l.vocab, l]));
  const lo = lookup.get(NARROW_VOCAB);
  const hi = lookup.get(wide.config.vocabSize);
  const lookupMs = lo && hi ? lookupMsOf(hi) - lookupMsOf(lo) : 0;
  const lookupBytes = lo && hi ? hi.queryBytes + hi.answerBytes - lo.queryBytes - lo.answerBytes : 0;
  const dv = wide.config.vocabSize - NARROW_VOCAB;
  const dvDim = dv * wide.config.dim;
  const deltas = links.flatMap((link) => {
    const a = figuresOf(twin, link);
    const b = figuresOf(wide, link);
    return a && b ? [{ link, d: combine(b, a, (y, x) => y - x) }] : [];
  });
  const first = deltas[0];
  if (!first) return undefined;
  const prefillBytesPerEntry: Record<string, number> = {};
  const prefillComputePerEntryDim: Record<string, number> = {};
  for (const [p, c] of Object.entries(first.d.prefill)) {
    prefillBytesPerEntry[p] = c.bytes / dv;
    prefillComputePerEntryDim[p] = computeEstimate(deltas.flatMap(({ link, d }) => (d.prefill[p] ? [{ link, compute: computeOf(link, d.prefill[p]!) }] : []))) / dvDim;
  }
  return {
    bytesPerEntry: (first.d.decode.bytes - lookupBytes) / dv,
    computePerEntryDim: computeEstimate(deltas.map(({ link, d }) => ({ link, compute: computeOf(link, { ...d.decode, ms: d.decode.ms - lookupMs }) }))) / dvDim,
    plainPerEntryDim: first.d.plainMs / dvDim,
    prefillBytesPerEntry,
    prefillComputePerEntryDim,
    lookup,
  };
}

/** The lookup's time on the critical path: online only when the query is encrypted ahead (issue 12). */
function lookupMsOf(t: LookupTiming): number {
  return t.onlineMs ?? t.ms;
}

function lookupExtra(lookup: ReadonlyMap<number, LookupTiming>, vocab: number): { ms: number; bytes: number } {
  const lo = lookup.get(NARROW_VOCAB);
  const hi = lookup.get(vocab);
  // The online lookup time (query encrypted ahead) where measured; the bytes include the query sent ahead.
  return lo && hi ? { ms: lookupMsOf(hi) - lookupMsOf(lo), bytes: hi.queryBytes + hi.answerBytes - lo.queryBytes - lo.answerBytes } : { ms: 0, bytes: 0 };
}

export function extrapolate(models: readonly ModelResult[], links: readonly LinkSettingName[], lookups: readonly LookupTiming[]): BenchResults['extrapolation'] {
  const perLayer: PerLayerResult[] = [];
  const fullDepth: FullDepthResult[] = [];
  const byLink = new Map(links.map((l) => [l, shapeCosts(models, l)]));
  const vocab = vocabularyCost(models, lookups, links);
  const shapes = new Set([...byLink.values()].flatMap((m) => [...m.keys()]));
  for (const shape of shapes) {
    const measured = links.flatMap((link) => {
      const c = byLink.get(link)?.get(shape);
      return c ? [{ link, c }] : [];
    });
    const first = measured[0];
    if (!first) continue;
    // Compute per layer and fixed part, for decode and for each prompt length.
    const layerCompute = computeEstimate(measured.map(({ link, c }) => ({ link, compute: computeOf(link, c.perLayer.decode) })));
    const fixedCompute = computeEstimate(measured.map(({ link, c }) => ({ link, compute: computeOf(link, c.fixed.decode) })));
    const prompts = Object.keys(first.c.perLayer.prefill);
    const layerPrefillCompute: Record<string, number> = {};
    const fixedPrefillCompute: Record<string, number> = {};
    for (const p of prompts) {
      layerPrefillCompute[p] = computeEstimate(measured.flatMap(({ link, c }) => (c.perLayer.prefill[p] ? [{ link, compute: computeOf(link, c.perLayer.prefill[p]!) }] : [])));
      fixedPrefillCompute[p] = computeEstimate(measured.flatMap(({ link, c }) => (c.fixed.prefill[p] ? [{ link, compute: computeOf(link, c.fixed.prefill[p]!) }] : [])));
    }
    for (const { link, c } of measured) {
      const setting = LINK_SETTINGS[link];
      const ttft: Record<string, number> = {};
      const predictedTtft: Record<string, number> = {};
      for (const p of prompts) {
        const x = c.perLayer.prefill[p];
        if (!x) continue;
        ttft[p] = x.ms;
        predictedTtft[p] = layerPrefillCompute[p]! + networkFloorMs(setting, x.flights, x.bytes);
      }
      perLayer.push({
        shape,
        label: LAYER_SHAPES[shape as LayerShapeKey].label,
        link,
        method: c.method,
        depths: c.depths,
        decodeMsPerToken: c.perLayer.decode.ms,
        computeMsPerToken: layerCompute,
        predictedDecodeMsPerToken: layerCompute + networkFloorMs(setting, c.perLayer.decode.flights, c.perLayer.decode.bytes),
        plaintextDecodeMsPerToken: c.perLayer.plainMs,
        cpuMsPerToken: c.perLayer.cpuMs,
        plaintextCpuMsPerToken: c.perLayer.plainCpuMs,
        flightsPerToken: c.perLayer.decode.flights,
        bytesPerToken: c.perLayer.decode.bytes,
        ttftMs: ttft,
        predictedTtftMs: predictedTtft,
        prefillBytes: Object.fromEntries(prompts.map((p) => [p, c.perLayer.prefill[p]?.bytes ?? 0])),
      });
    }
    for (const target of FULL_DEPTH_TARGETS.filter((t) => t.shape === shape)) {
      const dim = LAYER_SHAPES[target.shape].dim;
      const entries = target.vocab - NARROW_VOCAB;
      // The token lookup is timed alone at the target vocabulary, so it counts even without the 32k model pair.
      const lookup = lookupExtra(vocab?.lookup ?? new Map(lookups.map((l) => [l.vocab, l])), target.vocab);
      // Flights and bytes do not depend on the link; take them from the first one measured.
      const flights = first.c.fixed.decode.flights + target.layers * first.c.perLayer.decode.flights;
      const bytes = first.c.fixed.decode.bytes + target.layers * first.c.perLayer.decode.bytes + lookup.bytes + (vocab ? vocab.bytesPerEntry * entries : 0);
      const compute = fixedCompute + target.layers * layerCompute + lookup.ms + (vocab ? vocab.computePerEntryDim * entries * dim : 0);
      const plain = first.c.fixed.plainMs + target.layers * first.c.perLayer.plainMs + (vocab ? vocab.plainPerEntryDim * entries * dim : 0);
      for (const link of links) {
        const setting = LINK_SETTINGS[link];
        const ttft: Record<string, number> = {};
        const prefillBytes: Record<string, number> = {};
        for (const p of prompts) {
          const fx = first.c.fixed.prefill[p];
          const pl = first.c.perLayer.prefill[p];
          if (!fx || !pl) continue;
          const pBytes = fx.bytes + target.layers * pl.bytes + (vocab?.prefillBytesPerEntry[p] ?? 0) * entries;
          const pCompute = fixedPrefillCompute[p]! + target.layers * layerPrefillCompute[p]! + (vocab?.prefillComputePerEntryDim[p] ?? 0) * entries * dim;
          ttft[p] = pCompute + networkFloorMs(setting, fx.flights + target.layers * pl.flights, pBytes);
          prefillBytes[p] = pBytes;
        }
        fullDepth.push({
          target: target.name,
          shape: target.shape,
          layers: target.layers,
          vocab: target.vocab,
          link,
          decodeMsPerToken: compute + networkFloorMs(setting, flights, bytes),
          computeMsPerToken: compute,
          plaintextDecodeMsPerToken: plain,
          flightsPerToken: flights,
          bytesPerToken: bytes,
          networkFloorMs: networkFloorMs(setting, flights, bytes),
          ttftMs: ttft,
          prefillBytes,
        });
      }
    }
  }
  const vocabularyFigures = vocab
    ? { bytesPerEntry: vocab.bytesPerEntry, computeMsPerEntryDim: vocab.computePerEntryDim, plaintextMsPerEntryDim: vocab.plainPerEntryDim }
    : null;
  return { method: EXTRAPOLATION_METHOD, perLayer, fullDepth, vocabularyCost: vocabularyFigures };
}
