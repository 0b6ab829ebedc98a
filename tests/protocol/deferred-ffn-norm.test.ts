/**
 * The beaver (paper-exposure) schedule with the FFN RMSNorm deferred into the SwiGLU step
 * (issue 12; model/fixed-point/plan-deferred-ffn-norm.ts, protocol/schedule/ring-deferred-ffn-step.ts),
 * ring64, the default for dense Llama-layer models:
 * - private == its fixed-point oracle bit for bit (every step's logits, the tokens) on
 *   stories260K and a synthetic GQA shape, and the greedy text equals the float plaintext's;
 * - flights per layer measured from the transport: 10 (12 with the deferral switched off),
 *   measured with the fused P·V switched off (fused-values.test.ts: 8 and 10 with it);
 * - the plan says so in its format (an older peer's strict card schema refuses it); variant
 *   models, and models whose weights would keep under 9 bits, keep the 12-flight plan;
 * - the engine's view of the new step stays uniform: the support / GLR distinguisher of
 *   view-distinguisher.test.ts over the step's values only, which detects the weak-mask control.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deferredGateUpViewWidth } from '../../model/fixed-point/view-width.js';
import { pairInProcessFor, type InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { generateSyntheticModel } from '../../model/synthetic/index.js';
import { foldedWeightsOf } from '../../model/fixed-point/folded-weights.js';
import { deferredFfnNormEligible, DEFERRED_FFN_NORM_FORMAT } from '../../model/fixed-point/plan-deferred-ffn-norm.js';
import { FUSED_VALUES_FORMAT } from '../../model/fixed-point/plan-fused-values.js';
import { RING64_PROFILE, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import { fixedPointPlanSchema } from '../../protocol/transport/model-card.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import { maxDeviation, recordEngineView } from '../helpers/engine-view.js';
import { FIXED_POINT_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { fixedPointGenerate, logitsError, pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

const GQA = { architecture: 'llama', dim: 64, hiddenDim: 160, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 16, tokenizer: 'llama3-32k', tiedEmbeddings: false, ropeTheta: 500000, normEps: 1e-5 } as const;
const WEAK_PROFILE: MaskProfile = Object.freeze({ ...RING64_PROFILE, name: 'ring64-weak-test', hiding: 'statistical', ringMaskBits: 20 });

describe('beaver schedule with deferred FFN normalisation (ring64)', () => {
  let stories: ModelDescription;
  let parties: InProcessParties;
  beforeAll(async () => {
    stories = await loadModel(defaultModelPath());
    // This file measures the deferred step alone: the P·V Beaver product kept (fused-values.test.ts fuses it).
    parties = await pairInProcessFor(stories, RING64_PROFILE, undefined, { fusedValuesBytes: false });
  });

  it('stories260K: the plan defers the FFN norm; private == oracle bit for bit, greedy text == float, 10 flights per layer', async () => {
    const plan = parties.fixedPoint!.plan;
    expect(plan.ffnNormDeferred).toBe(true);
    expect(plan.format).toBe(DEFERRED_FFN_NORM_FORMAT);
    // The step's raw gate/up view is narrowed where its own bound allows (the oracle checks the same width).
    console.log(`deferred step gate/up view widths: ${plan.layers.map((L) => deferredGateUpViewWidth(plan, L)).join('/')} B`);
    const TOKENS = 8;
    const prompt = stories.tokenizer.encode('Once upon a time', { addBos: true });
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const plain = await plaintextGenerate(stories, prompt, TOKENS);
    const err = logitsError(oracle.logits, plain.logits);
    console.log(
      `stories260K deferred FFN norm: residual at 2^${plan.residual}, layer 0 ${JSON.stringify(plan.layers[0])}; flights/layer ${priv.stats.flightsPerLayer}, flights/token ${priv.stats.flightsPerToken}, ` +
        `bytes/token to engine ${Math.round(priv.stats.perToken.bytesToEngine)}, from engine ${Math.round(priv.stats.perToken.bytesFromEngine)}; oracle vs float max logit error ${err.absolute.toFixed(4)} (relative ${err.relative.toExponential(2)})`,
    );
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    expect(err.relative).toBeLessThan(FIXED_POINT_RELATIVE_BOUND);
    expect(priv.stats.flightsPerLayer).toBe(10);
    expect(priv.stats.flightsPerToken).toBe(10 * stories.config.nLayers + 6);
  });

  it('a prefill of many rows stays bit-exact (the row permutation pairs each x row with its gate/up row)', async () => {
    const prompt = stories.tokenizer.encode('The little dog ran to the park and saw a big red ball. He', { addBos: true });
    const oracle = await fixedPointGenerate(parties, prompt, 3);
    const priv = await privateGenerateInProcess(parties, prompt, 3);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
  });

  it('synthetic GQA 4:2: private == oracle bit for bit, 10 flights per layer; with the deferral off, 12', async () => {
    const model = await generateSyntheticModel(GQA, 11);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const gqa = await pairInProcessFor(model, RING64_PROFILE, undefined, { fusedValuesBytes: false });
    expect(gqa.fixedPoint!.plan.ffnNormDeferred).toBe(true);
    const oracle = await fixedPointGenerate(gqa, prompt, 5);
    const priv = await privateGenerateInProcess(gqa, prompt, 5);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(priv.stats.flightsPerLayer).toBe(10);
    const paper = await pairInProcessFor(model, RING64_PROFILE, undefined, { deferFfnNorm: false, fusedValuesBytes: false });
    expect(paper.fixedPoint!.plan.ffnNormDeferred).toBeUndefined();
    expect(paper.fixedPoint!.plan.format).toBe('permllm-fixed-point/1');
    const old = await privateGenerateInProcess(paper, prompt, 3);
    expect(old.stats.flightsPerLayer).toBe(12);
    expect(sortedLogitsMismatches(old.logits, (await fixedPointGenerate(paper, prompt, 3)).logits)).toBe(0);
  });

  it('a model whose weights would keep under 9 bits keeps the 12-flight plan (the dim256-vocab32k preset)', async () => {
    const model = await generateSyntheticModel('dim256-vocab32k', 7);
    const fp = await fixedPointModelOf(model);
    console.log(`dim256-vocab32k: rawGateUp ${fp.plan.ranges.rawGateUp?.toFixed(2)}, format ${fp.plan.format}`);
    expect(fp.plan.ranges.rawGateUp).toBeGreaterThan(0);
    expect(fp.plan.ffnNormDeferred).toBeUndefined();
    expect(fp.plan.format).toBe(FUSED_VALUES_FORMAT); // the fused P·V applies to every beaver plan
  });

  it('variant models keep the 12-flight plan; the card schema ties the format to the schedule', () => {
    const folded = foldedWeightsOf(stories);
    expect(deferredFfnNormEligible(stories.config, folded)).toBe(true);
    for (const variant of [{ qkNorm: true }, { postNorms: true }, { activation: 'gelu-tanh' as const }, { moe: { nExperts: 2, expertsPerToken: 1 } }]) {
      expect(deferredFfnNormEligible({ ...stories.config, variant: variant as never }, folded)).toBe(false);
    }
    const plan = parties.fixedPoint!.plan;
    expect(fixedPointPlanSchema.safeParse(plan).success).toBe(true);
    expect(fixedPointPlanSchema.safeParse({ ...plan, format: 'permllm-fixed-point/1' }).success).toBe(false);
    const { ffnNormDeferred: _flag, ...withoutFlag } = plan;
    expect(fixedPointPlanSchema.safeParse(withoutFlag).success).toBe(false);
  });

  it('the engine cannot tell two prompts apart from the deferred step\'s values; the weak-mask control is detected', async () => {
    const model = stories;
    const prompts: [number[], number[]] = [model.tokenizer.encode('Tom went to the park', { addBos: true }), model.tokenizer.encode('Ben went to the park', { addBos: true })];
    expect(prompts[0]).toHaveLength(prompts[1].length);
    // Only the deferred step's values: its view inputs (x − A for x and gate|up) and its return (η − A′).
    const onlyStep = (view: Map<string, BigUint64Array>) => new Map([...view].filter(([key]) => /\/ffn-view-(input|return)\//.test(key)));
    const distinguish = async (profile: MaskProfile, sessions: number) => {
      const p = await pairModel(model, profile);
      const record = async (prompt: number[]) => {
        const { view, truth } = await recordEngineView(p, () => privateGenerateInProcess(p, prompt, 1));
        return { view: onlyStep(view), truth: onlyStep(truth) };
      };
      const refs = [await record(prompts[0]), await record(prompts[1])];
      expect(refs[0]!.view.size).toBeGreaterThan(0);
      const decidedA = [0, 0];
      for (let s = 0; s < sessions; s++) {
        for (const secret of [0, 1]) {
          const { view } = await record(prompts[secret]!);
          const lA = maxDeviation(view, refs[0]!.truth);
          const lB = maxDeviation(view, refs[1]!.truth);
          if (lA < lB || (lA === lB && s % 2 === 0)) decidedA[secret]!++;
        }
      }
      return decidedA[0]! / sessions - decidedA[1]! / sessions;
    };
    const SESSIONS = 8;
    const weak = await distinguish(WEAK_PROFILE, 2);
    const ring = await distinguish(RING64_PROFILE, SESSIONS);
    const se = Math.sqrt(0.5 / SESSIONS);
    console.log(`deferred FFN step, engine view distinguisher: weak control advantage ${weak.toFixed(2)}; ring64 advantage ${ring.toFixed(2)} (3·SE = ${(3 * se).toFixed(2)})`);
    expect(weak).toBe(1);
    expect(Math.abs(ring)).toBeLessThanOrEqual(3 * se);
  }, 600_000);
});
