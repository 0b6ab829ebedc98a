/**
 * End-to-end comparison helpers: the plaintext oracle (plaintext) and the full private
 * session (three in-process parties: handshake, forward passes, permuted logits, BFV token
 * lookup) generating from the same prompt with the same sampling rule and seed.
 */
import type { ModelDescription } from '../../model/model-description.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { pairInProcessFor, runInProcess, type InProcessParties } from '../../in-process/in-process-parties.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import type { PrivateSessionStats } from '../../gateway/private/private-generation.js';
import type { SamplingParams } from '../../gateway/pipeline/generation-backend.js';
import { argmax, sampleToken, samplingRng } from '../../sampling/index.js';
import { DEFAULT_PROFILE, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import type { AttentionMode } from '../../protocol/schedule/attention-mode.js';
import { SingleViewSequence } from '../../plaintext/fixed-point/single-view-model.js';

export const GREEDY: SamplingParams = { temperature: 0, topP: 1, topK: 0, minP: 0 };

export interface Generated {
  tokens: number[];
  /** The logits each token was chosen from (plaintext: vocabulary order; private: P1's permuted order). */
  logits: Float64Array[];
}

/** The plaintext oracle, choosing tokens exactly as privateGenerate does (same sampler, same seeded stream). */
export async function plaintextGenerate(model: ModelDescription, prompt: readonly number[], count: number, sampling: SamplingParams = GREEDY): Promise<Generated> {
  const seq = new PlaintextModel(model).newSequence();
  const rng = samplingRng(sampling.seed);
  const tokens: number[] = [];
  const logits: Float64Array[] = [];
  let current = await seq.prefill(prompt);
  for (let i = 0; i < count; i++) {
    logits.push(Float64Array.from(current));
    const id = sampling.temperature === 0 ? argmax(current) : sampleToken(current, sampling, rng);
    tokens.push(id);
    if (i + 1 < count) current = await seq.decode(id);
  }
  return { tokens, logits };
}

export interface PrivateRun extends Generated {
  stats: PrivateSessionStats;
}

/** One private session in process; fails if the engine or the dealer side ended with an error. */
export async function privateGenerateInProcess(
  parties: InProcessParties,
  prompt: readonly number[],
  count: number,
  options: { sampling?: SamplingParams; optimized?: boolean; attention?: AttentionMode } = {},
): Promise<PrivateRun> {
  const logits: Float64Array[] = [];
  const run = runInProcess(parties, {
    promptTokens: prompt,
    maxTokens: count,
    sampling: options.sampling ?? GREEDY,
    adjustments: {},
    stopIds: new Set(),
    onPermutedLogits: (v) => logits.push(Float64Array.from(v)),
    ...(options.optimized === undefined ? {} : { optimized: options.optimized }),
    ...(options.attention === undefined ? {} : { attention: options.attention }),
  });
  const tokens: number[] = [];
  let stats: PrivateSessionStats | undefined;
  for await (const event of run.events) {
    if (event.type === 'token') tokens.push(event.id);
    else if (event.type === 'stats') stats = event.stats;
  }
  const done = await run.done;
  if (done.engine instanceof Error) throw done.engine;
  if (done.dealer instanceof Error) throw done.dealer;
  if (!stats) throw new Error('private session ended without stats');
  return { tokens, logits, stats };
}

/** One in-process pairing; the default profile is ring64 (its plan calibrated on `model`). */
export function pairModel(model: ModelDescription, profile: MaskProfile = DEFAULT_PROFILE): Promise<InProcessParties> {
  return pairInProcessFor(model, profile);
}

/**
 * The fixed-point oracle of a ring64 pairing (same plan, same int16 weights as the engine),
 * choosing tokens exactly as privateGenerate does. Logits in vocabulary order, decoded floats.
 */
export async function fixedPointGenerate(parties: InProcessParties, prompt: readonly number[], count: number, sampling: SamplingParams = GREEDY): Promise<Generated> {
  if (!parties.fixedPoint) throw new Error('fixedPointGenerate: the pairing is not ring64');
  return generateFromSequence(new FixedPointModel(parties.engine.config, parties.fixedPoint.plan, parties.fixedPoint.weights).newSequence(), prompt, count, sampling);
}

/** A fixed-point oracle sequence (either schedule): prefill, then one decode per token. */
interface OracleSequence {
  prefill(tokens: readonly number[]): Promise<BigUint64Array>;
  decode(token: number): Promise<BigUint64Array>;
  decodeLogits(logits: BigUint64Array): Float64Array;
}

/** Chooses tokens from `seq` exactly as privateGenerate does (same sampler, same seeded stream). */
async function generateFromSequence(seq: OracleSequence, prompt: readonly number[], count: number, sampling: SamplingParams): Promise<Generated> {
  const rng = samplingRng(sampling.seed);
  const tokens: number[] = [];
  const logits: Float64Array[] = [];
  let current = seq.decodeLogits(await seq.prefill(prompt));
  for (let i = 0; i < count; i++) {
    logits.push(current);
    const id = sampling.temperature === 0 ? argmax(current) : sampleToken(current, sampling, rng);
    tokens.push(id);
    if (i + 1 < count) current = seq.decodeLogits(await seq.decode(id));
  }
  return { tokens, logits };
}

/** The single-view mode's fixed-point oracle (deferred normalisation), choosing tokens as fixedPointGenerate does. */
export async function singleViewGenerate(parties: InProcessParties, prompt: readonly number[], count: number, sampling: SamplingParams = GREEDY): Promise<Generated> {
  if (!parties.fixedPoint) throw new Error('singleViewGenerate: the pairing is not ring64');
  return generateFromSequence(new SingleViewSequence(new FixedPointModel(parties.engine.config, parties.fixedPoint.plan, parties.fixedPoint.weights)), prompt, count, sampling);
}

/** Number of steps whose sorted permuted logits differ from the oracle's in any bit (0 = bit for bit). */
export function sortedLogitsMismatches(permuted: readonly Float64Array[], oracle: readonly Float64Array[]): number {
  if (permuted.length !== oracle.length) throw new RangeError(`sortedLogitsMismatches: ${permuted.length} vs ${oracle.length} steps`);
  let bad = 0;
  permuted.forEach((p, i) => {
    const a = Float64Array.from(p).sort();
    const b = Float64Array.from(oracle[i]!).sort();
    if (a.length !== b.length || a.some((v, j) => !Object.is(v, b[j]))) bad++;
  });
  return bad;
}

/** max over steps of max_j |a_j − b_j| (vocabulary order on both sides), absolute and relative to max |b|. */
export function logitsError(a: readonly Float64Array[], b: readonly Float64Array[]): { absolute: number; relative: number } {
  let absolute = 0;
  let relative = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    let d = 0;
    let s = 0;
    for (let j = 0; j < x.length; j++) {
      d = Math.max(d, Math.abs(x[j]! - y[j]!));
      s = Math.max(s, Math.abs(y[j]!));
    }
    absolute = Math.max(absolute, d);
    relative = Math.max(relative, d / s);
  });
  return { absolute, relative };
}

/**
 * Permutation-invariant logits comparison: sort both vectors and take the largest difference,
 * relative to max|plain logit|. Returns the worst over all steps.
 */
export function sortedLogitsError(permuted: readonly Float64Array[], plain: readonly Float64Array[]): number {
  if (permuted.length !== plain.length) throw new RangeError(`sortedLogitsError: ${permuted.length} vs ${plain.length} steps`);
  let worst = 0;
  permuted.forEach((p, i) => {
    const a = Float64Array.from(p).sort();
    const b = Float64Array.from(plain[i]!).sort();
    if (a.length !== b.length) throw new RangeError('sortedLogitsError: vocabulary sizes differ');
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < a.length; j++) {
      diff = Math.max(diff, Math.abs(a[j]! - b[j]!));
      scale = Math.max(scale, Math.abs(b[j]!));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}
