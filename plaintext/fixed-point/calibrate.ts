/**
 * Load-time calibration of the `ring64` fixed-point plan: one float plaintext run (a prefill of
 * a fixed English text and greedy decoding after it) records the largest magnitude of every
 * tensor family; derivePlan turns those ranges into exponents with headroom, and the weights are
 * quantised to int16 under the plan. What comes out is everything the engine keeps (the int16
 * weights) and publishes (the plan); the float copy can be dropped.
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import type { ModelDescription } from '../../model/model-description.js';
import { foldedWeightsOf } from '../../model/fixed-point/folded-weights.js';
import { derivePlan, quantizeWeights, type FixedPointPlan, type PlanOptions, type ValueRanges } from '../../model/fixed-point/fixed-point-plan.js';
import type { FixedPointWeight } from '../../model/fixed-point/fixed-point-weights.js';
import { Prg } from '../../crypto/prg.js';
import { argmax } from '../../sampling/sample-token.js';
import { PlaintextModel, type ObservedFamily } from '../plaintext-model.js';

export const CALIBRATION_TEXT =
  'Once upon a time, in a small town by the sea, there lived a girl who loved to read. Every morning she walked to the library, ' +
  'said hello to the old man at the desk, and asked him for a new story. "What will it be today?" he would ask, and she would smile.';

export interface CalibrationOptions extends PlanOptions {
  backend?: ComputeBackend;
  /** Greedy tokens decoded after the calibration prefill (default 32). */
  decodeTokens?: number;
  /** Prefill tokens (default: CALIBRATION_TEXT through the model's tokenizer, cut to half the context). */
  tokens?: readonly number[];
}

/** Max |value| per family over the calibration run. */
export async function measureRanges(model: ModelDescription, options: CalibrationOptions = {}): Promise<ValueRanges> {
  const c = model.config;
  const r: ValueRanges = { residual: 0, normed: 0, query: 0, key: 0, value: 0, scores: 0, attention: 0, gateUp: 0, ffn: 0, logits: 0 };
  if (c.variant?.qkNorm) {
    r.qkRaw = 0;
    r.qkNormed = 0;
  }
  if (c.variant?.postNorms) {
    r.postRaw = 0;
    r.postNormed = 0;
  }
  if (c.variant?.moe) r.router = 0;
  /** Per row of `width`: the largest |value| and the largest normalised element max / rms. */
  const rowRanges = (values: Float32Array | Float64Array, width: number): [number, number] => {
    let raw = 0;
    let normed = 0;
    for (let row = 0; row < values.length / width; row++) {
      let ss = 0;
      let max = 0;
      for (let i = row * width; i < (row + 1) * width; i++) {
        ss += values[i]! * values[i]!;
        max = Math.max(max, Math.abs(values[i]!));
      }
      raw = Math.max(raw, max);
      normed = Math.max(normed, max / Math.sqrt(ss / width + c.normEps));
    }
    return [raw, normed];
  };
  const field: Record<Exclude<ObservedFamily, 'residual' | 'qk-raw' | 'post-raw'>, keyof ValueRanges> = {
    query: 'query',
    key: 'key',
    value: 'value',
    scores: 'scores',
    attention: 'attention',
    'gate-up': 'gateUp',
    ffn: 'ffn',
    logits: 'logits',
    router: 'router',
  };
  // Each residual row's rms (with eps), kept for the gate/up values that follow the FFN's residual: their raw products W_gu·x = (W_gu·x̂)·rms(x).
  let residualRms = new Float64Array(0);
  const observe = (family: ObservedFamily, values: Float32Array | Float64Array) => {
    if (family === 'residual') {
      residualRms = new Float64Array(values.length / c.dim);
      for (let row = 0; row < values.length / c.dim; row++) {
        let ss = 0;
        let max = 0;
        for (let i = row * c.dim; i < (row + 1) * c.dim; i++) {
          ss += values[i]! * values[i]!;
          max = Math.max(max, Math.abs(values[i]!));
        }
        residualRms[row] = Math.sqrt(ss / c.dim + c.normEps);
        r.residual = Math.max(r.residual, max);
        r.normed = Math.max(r.normed, max / Math.sqrt(ss / c.dim + c.normEps));
      }
      return;
    }
    if (family === 'qk-raw') {
      const [raw, normed] = rowRanges(values, c.headDim); // per head row
      r.qkRaw = Math.max(r.qkRaw!, raw);
      r.qkNormed = Math.max(r.qkNormed!, normed);
      return;
    }
    if (family === 'post-raw') {
      const [raw, normed] = rowRanges(values, c.dim);
      r.postRaw = Math.max(r.postRaw!, raw);
      r.postNormed = Math.max(r.postNormed!, normed);
      return;
    }
    if (family === 'gate-up' && residualRms.length > 0 && values.length % residualRms.length === 0) {
      const width = values.length / residualRms.length;
      let raw = r.rawGateUp ?? 0;
      for (let i = 0; i < values.length; i++) raw = Math.max(raw, Math.abs(values[i]!) * residualRms[Math.floor(i / width)]!);
      r.rawGateUp = raw;
    }
    const key = field[family];
    let max = r[key] ?? 0;
    for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
    r[key] = max;
  };
  const plain = new PlaintextModel(model, { observe, ...(options.backend ? { backend: options.backend } : {}) });
  let tokens = options.tokens ?? calibrationTokens(model);
  const decodeTokens = Math.max(0, Math.min(options.decodeTokens ?? 32, c.maxSeqLen - 1));
  tokens = tokens.slice(0, Math.max(1, Math.min(tokens.length, c.maxSeqLen - decodeTokens)));
  const seq = plain.newSequence();
  let logits = await seq.prefill(tokens);
  for (let i = 0; i < decodeTokens; i++) logits = await seq.decode(argmax(logits));
  return r;
}

/** The calibration text through the model's tokenizer; seeded ids where the tokenizer cannot encode text (benchmark models). */
function calibrationTokens(model: ModelDescription): number[] {
  try {
    return model.tokenizer.encode(CALIBRATION_TEXT, { addBos: true });
  } catch {
    const prg = Prg.fromSeed('permllm/calibration', 1);
    return Array.from({ length: 64 }, () => prg.below(model.config.vocabSize));
  }
}

export interface FixedPointParts {
  plan: FixedPointPlan;
  weights: Map<string, FixedPointWeight>;
}

/** Calibrates, plans and quantises (the engine at load time). */
export async function fixedPointModelOf(model: ModelDescription, options: CalibrationOptions = {}): Promise<FixedPointParts> {
  const ranges = await measureRanges(model, options);
  const folded = foldedWeightsOf(model);
  const plan = derivePlan(model.config, folded, ranges, options);
  return { plan, weights: quantizeWeights(model.config, plan, folded) };
}
