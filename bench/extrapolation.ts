/**
 * From the measured models to full depth (bench/README.md, "Extrapolation").
 *
 * Per layer, for a layer shape measured at two depths L1 < L2 on the same link:
 *   per-layer X = (X(L2) − X(L1)) / (L2 − L1), for decode ms/token, plaintext ms/token,
 *   flights/token, bytes/token and time to first token;
 *   fixed X = X(L1) − L1 × per-layer X (embedding, LM head, logit opening, token lookup).
 * A shape measured at one depth only (the Llama-3.1-8B layer) borrows the fixed cost of the
 * widest two-depth shape on the same link: per-layer X = X(L) / L − fixed / L.
 * The vocabulary's cost: the BFV token lookup is measured alone at each vocabulary size (it
 * depends on nothing else); the rest comes from the 32k-vocabulary model against its
 * 512-vocabulary twin: bytes per extra vocabulary entry, time per extra (entry × dim).
 * Full depth: fixed + N × per-layer + vocabulary cost at the target's vocabulary and width.
 * Cross-check: per-layer decode time predicted for a link from link none's per-layer compute
 * plus per-layer flights × one-way delay plus per-layer bytes / bandwidth.
 */
import { FULL_DEPTH_TARGETS, LAYER_SHAPES, NARROW_VOCAB, type LayerShapeKey } from './bench-models.js';
import type { BenchResults, FullDepthResult, LinkResult, ModelResult, PerLayerResult } from './bench-results.js';
import type { LookupTiming } from './token-lookup-timing.js';
import { networkFloorMs } from './floor-model.js';
import { LINK_SETTINGS, oneWayDelayMs, serializationMs, type LinkSettingName } from './link-settings.js';

export const EXTRAPOLATION_METHOD =
  'per-layer cost = difference of two depths of the same layer shape (decode ms/token, plaintext ms/token, flights, bytes, time to first token); ' +
  'fixed cost = the shallower model minus its layers; single-depth shapes (Llama-3.1-8B layer) borrow the fixed cost of the widest two-depth shape; ' +
  'vocabulary cost = the token lookup measured alone at the target vocabulary, plus the rest of (32k-vocabulary model minus its 512-vocabulary twin) scaled by vocabulary size (bytes) and vocabulary × dim (time); ' +
  'full depth = fixed + layers × per-layer + vocabulary cost. Predicted per-layer time on a link = link-none per-layer time + per-layer flights × one-way delay + per-layer bytes / bandwidth.';

interface Figures {
  decodeMs: number;
  plainMs: number;
  cpuMs: number;
  plainCpuMs: number;
  flights: number;
  bytes: number;
  ttft: Record<string, number>;
}

function figuresOf(model: ModelResult, link: string): Figures | undefined {
  const r: LinkResult | undefined = model.private.find((p) => p.link === link);
  if (!r?.decode || model.plaintext.decodeMsPerToken === null) return undefined;
  const ttft: Record<string, number> = {};
  for (const p of r.prefill) ttft[String(p.promptTokens)] = p.ttftMs;
  return {
    decodeMs: r.decode.msPerToken,
    plainMs: model.plaintext.decodeMsPerToken,
    cpuMs: r.decode.cpuMs,
    plainCpuMs: model.plaintext.decodeCpuMsPerToken ?? 0,
    flights: r.decode.flights, bytes: r.decode.bytesToEngine + r.decode.bytesFromEngine, ttft };
}

function combine(a: Figures, b: Figures, f: (x: number, y: number) => number): Figures {
  const ttft: Record<string, number> = {};
  for (const k of Object.keys(a.ttft)) if (b.ttft[k] !== undefined) ttft[k] = f(a.ttft[k]!, b.ttft[k]!);
  return {
    decodeMs: f(a.decodeMs, b.decodeMs),
    plainMs: f(a.plainMs, b.plainMs),
    cpuMs: f(a.cpuMs, b.cpuMs),
    plainCpuMs: f(a.plainCpuMs, b.plainCpuMs),
    flights: f(a.flights, b.flights), bytes: f(a.bytes, b.bytes), ttft };
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
  // Widest shape with a measured fixed cost lends it to single-depth shapes.
  const lender = [...out.entries()].sort((x, y) => LAYER_SHAPES[y[0] as LayerShapeKey].dim - LAYER_SHAPES[x[0] as LayerShapeKey].dim)[0];
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

interface VocabularyCost {
  /** Per extra vocabulary entry, the bytes that are not the token lookup's (one-hot input, logits). */
  bytesPerEntry: number;
  /** Per extra (vocabulary entry × dim), the time that is not the token lookup's (embedding and LM head products). */
  msPerEntryDim: number;
  plainMsPerEntryDim: number;
  /** The token lookup measured on its own, by vocabulary. */
  lookup: ReadonlyMap<number, LookupTiming>;
}

/**
 * The vocabulary's cost, from the 32k model against its narrow twin (same shape and depth),
 * less the token lookup's share, which is measured directly at each vocabulary size.
 */
function vocabularyCost(models: readonly ModelResult[], lookups: readonly LookupTiming[], link: string): VocabularyCost | undefined {
  const wide = models.find((m) => m.shape !== null && m.config.vocabSize > NARROW_VOCAB);
  if (!wide) return undefined;
  const twin = models.find((m) => m.shape === wide.shape && m.config.nLayers === wide.config.nLayers && m.config.vocabSize === NARROW_VOCAB);
  const a = twin && figuresOf(twin, link);
  const b = figuresOf(wide, link);
  if (!a || !b) return undefined;
  const lookup = new Map(lookups.map((l) => [l.vocab, l]));
  const lo = lookup.get(NARROW_VOCAB);
  const hi = lookup.get(wide.config.vocabSize);
  const lookupMs = lo && hi ? hi.ms - lo.ms : 0;
  const lookupBytes = lo && hi ? hi.queryBytes + hi.answerBytes - lo.queryBytes - lo.answerBytes : 0;
  const dv = wide.config.vocabSize - NARROW_VOCAB;
  const dim = wide.config.dim;
  return {
    bytesPerEntry: (b.bytes - a.bytes - lookupBytes) / dv,
    msPerEntryDim: (b.decodeMs - a.decodeMs - lookupMs) / (dv * dim),
    plainMsPerEntryDim: (b.plainMs - a.plainMs) / (dv * dim),
    lookup,
  };
}

/** Extra decode time and bytes per token at `vocab` and `dim`, over the narrow vocabulary. */
function vocabularyExtra(v: VocabularyCost | undefined, vocab: number, dim: number): { ms: number; plainMs: number; bytes: number } {
  if (!v) return { ms: 0, plainMs: 0, bytes: 0 };
  const entries = vocab - NARROW_VOCAB;
  const lo = v.lookup.get(NARROW_VOCAB);
  const hi = v.lookup.get(vocab);
  const lookupMs = lo && hi ? hi.ms - lo.ms : 0;
  const lookupBytes = lo && hi ? hi.queryBytes + hi.answerBytes - lo.queryBytes - lo.answerBytes : 0;
  return { ms: lookupMs + v.msPerEntryDim * entries * dim, plainMs: v.plainMsPerEntryDim * entries * dim, bytes: lookupBytes + v.bytesPerEntry * entries };
}

export function extrapolate(models: readonly ModelResult[], links: readonly LinkSettingName[], lookups: readonly LookupTiming[]): BenchResults['extrapolation'] {
  const perLayer: PerLayerResult[] = [];
  const fullDepth: FullDepthResult[] = [];
  let vocabularyFigures: Record<string, number> | null = null;
  const noneCosts = links.includes('none') ? shapeCosts(models, 'none') : undefined;
  for (const linkName of links) {
    const link = LINK_SETTINGS[linkName];
    const costs = shapeCosts(models, linkName);
    const vocab = vocabularyCost(models, lookups, linkName);
    if (vocab) {
      vocabularyFigures ??= {};
      vocabularyFigures[`${linkName}.bytesPerEntry`] = vocab.bytesPerEntry;
      vocabularyFigures[`${linkName}.msPerEntryDim`] = vocab.msPerEntryDim;
      vocabularyFigures[`${linkName}.plaintextMsPerEntryDim`] = vocab.plainMsPerEntryDim;
    }
    for (const [shape, c] of costs) {
      const base = noneCosts?.get(shape)?.perLayer ?? c.perLayer;
      perLayer.push({
        shape,
        label: LAYER_SHAPES[shape as LayerShapeKey].label,
        link: linkName,
        method: c.method,
        depths: c.depths,
        decodeMsPerToken: c.perLayer.decodeMs,
        plaintextDecodeMsPerToken: c.perLayer.plainMs,
        cpuMsPerToken: c.perLayer.cpuMs,
        plaintextCpuMsPerToken: c.perLayer.plainCpuMs,
        flightsPerToken: c.perLayer.flights,
        bytesPerToken: c.perLayer.bytes,
        predictedDecodeMsPerToken: base.decodeMs + c.perLayer.flights * oneWayDelayMs(link) + serializationMs(link, c.perLayer.bytes),
        ttftMs: c.perLayer.ttft,
      });
    }
    for (const target of FULL_DEPTH_TARGETS) {
      const c = costs.get(target.shape);
      if (!c) continue;
      const extra = vocabularyExtra(vocab, target.vocab, LAYER_SHAPES[target.shape].dim);
      const flights = c.fixed.flights + target.layers * c.perLayer.flights;
      const bytes = c.fixed.bytes + target.layers * c.perLayer.bytes + extra.bytes;
      fullDepth.push({
        target: target.name,
        shape: target.shape,
        layers: target.layers,
        vocab: target.vocab,
        link: linkName,
        decodeMsPerToken: c.fixed.decodeMs + target.layers * c.perLayer.decodeMs + extra.ms,
        plaintextDecodeMsPerToken: c.fixed.plainMs + target.layers * c.perLayer.plainMs + extra.plainMs,
        flightsPerToken: flights,
        bytesPerToken: bytes,
        networkFloorMs: networkFloorMs(link, flights, bytes),
      });
    }
  }
  return { method: EXTRAPOLATION_METHOD, perLayer, fullDepth, vocabularyCost: vocabularyFigures };
}
