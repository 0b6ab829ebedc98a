/**
 * The arithmetic behind the acceptance table's modelled cells (bench/modelled-cells.ts): what a
 * cell the run did not measure would have measured, from what the same run did measure.
 *
 * Time on a link = the compute of the cell's work + the link's cost of its exact flights and
 * bytes (bench/floor-model.ts networkFloorMs):
 *   T(link) = C + flights × RTT/2 + bytes × 8 / bandwidth,
 * C the cell's time on link `none` (no emulation: nothing hides behind a flight there), or,
 * where the cell's work was not run on link none, the nearest measured size's compute scaled by
 * a stated rule (modelled-cells.ts says which, per cell).
 *
 * Flights and bytes are never estimated: measured in the run, or computed from short real
 * sessions (bench/exact-counts.ts) with the two identities below, which hold exactly while the
 * plan takes one decision (fused P·V or not, plan-fused-values.ts) for every chunk or step
 * involved:
 * - prefill: a 32·M-token prompt is M chunks of 32 rows; chunk c's bytes are affine in c, so
 *   from prompts of 32·m0, 32·(m0+1), 32·(m0+2) tokens: b(32·M) = b(32·m0) + Σ_{c=m0}^{M−1} (A + B·c)
 *   with A + B·m0 = b(32·(m0+1)) − b(32·m0) and B = second difference; the same for flights;
 * - decode: a step's bytes are affine in its key count K: b(K) = b(K1) + (K − K1)·slope.
 */
import { fusedValuesAt } from '../model/fixed-point/plan-fused-values.js';
import { PREFILL_CHUNK_ROWS } from '../protocol/schedule/forward-program.js';
import { causalSize } from '../protocol/subprotocols/ring/ring-causal.js';
import { networkFloorMs } from './floor-model.js';
import type { ExactCounts } from './bench-results.js';
import type { LinkSetting } from './link-settings.js';

export type { ExactCounts };

/** Time of a cell on a link: its compute plus the link's cost of its flights and bytes. */
export function modelledMs(link: LinkSetting, computeMs: number, flights: number, bytes: number): number {
  return computeMs + networkFloorMs(link, flights, bytes);
}

/** The compute in a measured time on a link: the time less that link's cost of the flights and bytes. */
export function computeOfMeasured(link: LinkSetting, measuredMs: number, flights: number, bytes: number): number {
  return measuredMs - networkFloorMs(link, flights, bytes);
}

/** Probabilities a chunk of `rows` rows from position `start` opens: the causal triangle, per head. */
export function causalEntries(heads: number, rows: number, start: number): number {
  return causalSize({ heads, rows, start });
}

/** Whether the plan fuses P·V for that many probabilities (the rule of plan-fused-values.ts). */
export function fusedAt(fusedValuesBytes: number | null, headDim: number, probabilities: number): boolean {
  return fusedValuesAt({ fusedValuesBytes: fusedValuesBytes ?? undefined }, { headDim }, probabilities);
}

/** The first chunk index from which every chunk of a prompt takes the same fused-P·V decision as the last one. */
export function firstChunkOfLastRegime(counts: Pick<ExactCounts, 'fusedValuesBytes' | 'config'>, promptTokens: number): number {
  const chunks = Math.ceil(promptTokens / PREFILL_CHUNK_ROWS);
  const fused = (c: number) => fusedAt(counts.fusedValuesBytes, counts.config.headDim, causalEntries(counts.config.nHeads, Math.min(PREFILL_CHUNK_ROWS, promptTokens - c * PREFILL_CHUNK_ROWS), c * PREFILL_CHUNK_ROWS));
  const last = fused(chunks - 1);
  let c = chunks - 1;
  while (c > 0 && fused(c - 1) === last) c--;
  return c;
}

/**
 * x(32·M) from x at 32·m0, 32·(m0+1), 32·(m0+2) (chunk increments affine in the chunk index).
 * `at` maps a prompt length to its exact figure; throws when a needed length is missing.
 */
export function extendByChunks(at: (promptTokens: number) => number | undefined, m0: number, M: number): number {
  const R = PREFILL_CHUNK_ROWS;
  const need = (n: number) => {
    const x = at(n);
    if (x === undefined) throw new RangeError(`extendByChunks: no exact count at ${n} tokens`);
    return x;
  };
  if (M < m0) throw new RangeError(`extendByChunks: target ${M} chunks before the base ${m0}`);
  const base = need(R * m0);
  if (M === m0) return base;
  const d1 = need(R * (m0 + 1)) - base;
  if (M === m0 + 1) return base + d1;
  const B = need(R * (m0 + 2)) - base - 2 * d1; // second difference: x(m0+2) − 2 x(m0+1) + x(m0)
  // Σ_{c=m0}^{M−1} (d1 + B·(c − m0)) = k·d1 + B·k(k−1)/2, k = M − m0.
  const k = M - m0;
  return base + k * d1 + (B * k * (k - 1)) / 2;
}

/** The smallest m0 ≥ `from` such that 32·m0 .. 32·(m0+2) are all among the counted prompts. */
export function chunkBase(counted: readonly number[], from: number): number | undefined {
  const have = new Set(counted);
  for (let m0 = Math.max(1, from); m0 * PREFILL_CHUNK_ROWS <= Math.max(...counted); m0++) {
    if ([0, 1, 2].every((i) => have.has(PREFILL_CHUNK_ROWS * (m0 + i)))) return m0;
  }
  return undefined;
}

export interface PrefillCount {
  promptTokens: number;
  flights: number;
  bytes: number;
  /** The chunk index the identity started from, and the three prompt lengths it read. */
  fromPrompts: number[];
}

/**
 * Exact flights and bytes of a `promptTokens`-token prefill (a multiple of 32) from counted
 * sessions whose chunks take the same fused-P·V decision as the target's last chunks
 * (`fusedValuesBytes`: the bound that governs the schedule; null where the mode has no fused step).
 */
export function prefillCount(counts: ExactCounts, promptTokens: number, fusedValuesBytes: number | null = counts.fusedValuesBytes): PrefillCount | undefined {
  if (promptTokens % PREFILL_CHUNK_ROWS !== 0) return undefined;
  const direct = counts.prefill.find((p) => p.promptTokens === promptTokens);
  if (direct) return { promptTokens, flights: direct.flights, bytes: direct.bytes, fromPrompts: [promptTokens] };
  const regime = firstChunkOfLastRegime({ fusedValuesBytes, config: counts.config }, promptTokens);
  // The increments read (chunks m0 and m0 + 1) must take the target's decision: m0 ≥ regime.
  const m0 = chunkBase(counts.prefill.map((p) => p.promptTokens), regime);
  const M = promptTokens / PREFILL_CHUNK_ROWS;
  if (m0 === undefined || M < m0) return undefined;
  const at = (field: 'flights' | 'bytes') => (n: number) => counts.prefill.find((p) => p.promptTokens === n)?.[field];
  return { promptTokens, flights: extendByChunks(at('flights'), m0, M), bytes: extendByChunks(at('bytes'), m0, M), fromPrompts: [0, 1, 2].map((i) => PREFILL_CHUNK_ROWS * (m0 + i)) };
}

export interface DecodeCount {
  keys: number;
  flightsPerToken: number;
  flightsPerLayer: number;
  /** One decode pass's gateway–engine bytes, with exactly one token-lookup query. */
  bytes: number;
  fromKeys: number[];
}

/**
 * A decode pass at `keys` keys from the counted steps in the same fused-P·V regime as the
 * target (`regime`: fused at that many keys, as the counted pairing's plan decides): bytes affine
 * in keys, each step's token-query bytes replaced by exactly one query. The counted session's
 * flights per token are those of its steps' regime.
 */
export function decodeCount(counts: ExactCounts, keys: number, tokenQueryBytes: number, regime: (keys: number) => boolean = (k) => fusedAt(counts.fusedValuesBytes, counts.config.headDim, counts.config.nHeads * k)): DecodeCount | undefined {
  const d = counts.decode;
  if (!d) return undefined;
  const steps = d.steps.filter((s) => regime(s.keys) === regime(keys)).map((s) => ({ keys: s.keys, bytes: s.bytes - s.tokenQueryBytes + tokenQueryBytes }));
  const [a, b] = steps;
  if (!a || !b) return undefined;
  const slope = (b.bytes - a.bytes) / (b.keys - a.keys);
  return { keys, flightsPerToken: d.flightsPerToken, flightsPerLayer: d.flightsPerLayer, bytes: a.bytes + (keys - a.keys) * slope, fromKeys: [a.keys, b.keys] };
}
