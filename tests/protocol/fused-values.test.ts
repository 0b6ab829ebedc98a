/**
 * The fused P·V step of the beaver (paper-exposure) schedule, ring64 (issue 12;
 * protocol/subprotocols/ring/ring-fused-values.ts, the rule in model/fixed-point/plan-fused-values.ts):
 * - stories260K decode: 8 one-way flights per layer measured from the transport (10 with the
 *   fusion switched off), private == the fixed-point oracle bit for bit, greedy text == float,
 *   the same tokens and logits as the Beaver P·V with the same plan exponents;
 * - a long decode (keys growing past 60) stays bit-exact on the fused path;
 * - a prefill beyond the byte bound keeps the Beaver P·V there and fuses the decode after it,
 *   on a GQA shape, bit for bit;
 * - the plan says so in its format, and the strict card schema ties the format to the bound.
 * The step's views (the dealer's new message to the user, the engine's new input) are tested in
 * fused-values-views.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pairInProcessFor, type InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { generateSyntheticModel } from '../../model/synthetic/index.js';
import { DEFAULT_FUSED_VALUES_BYTES, FUSED_VALUES_FORMAT, fusedValuesAt, fusedValuesMessageBytes } from '../../model/fixed-point/plan-fused-values.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { fixedPointPlanSchema } from '../../protocol/transport/model-card.js';
import { causalSize } from '../../protocol/subprotocols/ring/ring-causal.js';
import { FIXED_POINT_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { fixedPointGenerate, logitsError, pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

const GQA = { architecture: 'llama', dim: 64, hiddenDim: 160, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 16, tokenizer: 'llama3-32k', tiedEmbeddings: false, ropeTheta: 500000, normEps: 1e-5 } as const;

describe('fused P·V in the beaver schedule (ring64)', () => {
  let stories: ModelDescription;
  let parties: InProcessParties;
  beforeAll(async () => {
    stories = await loadModel(defaultModelPath());
    parties = await pairModel(stories);
  });

  it('stories260K: 8 flights per layer, private == oracle bit for bit, greedy text == float; 10 flights and the same logits without the fusion', async () => {
    const plan = parties.fixedPoint!.plan;
    expect(plan.format).toBe(FUSED_VALUES_FORMAT);
    expect(plan.fusedValuesBytes).toBe(DEFAULT_FUSED_VALUES_BYTES);
    expect(plan.ffnNormDeferred).toBe(true);
    const TOKENS = 8;
    const prompt = stories.tokenizer.encode('Once upon a time', { addBos: true });
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const plain = await plaintextGenerate(stories, prompt, TOKENS);
    const unfused = await pairInProcessFor(stories, RING64_PROFILE, undefined, { fusedValuesBytes: false });
    expect(unfused.fixedPoint!.plan.fusedValuesBytes).toBeUndefined();
    // The fusion changes no exponent: the same plan but for the bound.
    const { format: _f, fusedValuesBytes: _b, ...exponents } = plan;
    const { format: _g, ...unfusedExponents } = unfused.fixedPoint!.plan;
    expect(unfusedExponents).toEqual(exponents);
    const beaver = await privateGenerateInProcess(unfused, prompt, TOKENS);
    const line = (name: string, s: typeof priv.stats) =>
      `${name}: flights/layer ${s.flightsPerLayer}, flights/token ${s.flightsPerToken}, bytes/token to engine ${Math.round(s.perToken.bytesToEngine)}, from engine ${Math.round(s.perToken.bytesFromEngine)}, dealer→gateway ${Math.round(s.perToken.dealerBytesToGateway)}`;
    console.log(`stories260K ${line('fused', priv.stats)}\n            ${line('beaver P·V', beaver.stats)}`);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    expect(logitsError(oracle.logits, plain.logits).relative).toBeLessThan(FIXED_POINT_RELATIVE_BOUND);
    expect(priv.stats.flightsPerLayer).toBe(8);
    expect(priv.stats.flightsPerToken).toBe(8 * stories.config.nLayers + 6);
    expect(beaver.stats.flightsPerLayer).toBe(10);
    expect(beaver.tokens).toEqual(priv.tokens);
    expect(sortedLogitsMismatches(beaver.logits, oracle.logits)).toBe(0);
  });

  it('a long decode on the fused path stays bit-exact (56 tokens)', async () => {
    const prompt = stories.tokenizer.encode('Lily had a little cat', { addBos: true });
    const TOKENS = 56;
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    expect(fusedValuesAt(parties.fixedPoint!.plan, stories.config, causalSize({ heads: stories.config.nHeads, rows: 1, start: prompt.length + TOKENS - 2 }))).toBe(true);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(priv.stats.flightsPerLayer).toBe(8);
  }, 300_000);

  it('GQA 4:2: a prefill over the bound keeps the Beaver P·V, the decode after it is fused; bit for bit', async () => {
    const model = await generateSyntheticModel(GQA, 11);
    const prompt = model.tokenizer.encode('Once upon a time there was a little dog who', { addBos: true });
    const rows = prompt.length;
    // Bound: the decode steps' message fits, the prefill's triangle does not.
    const decodeBytes = causalSize({ heads: GQA.nHeads, rows: 1, start: rows + 4 }) * GQA.headDim * 8;
    const prefillBytes = causalSize({ heads: GQA.nHeads, rows, start: 0 }) * GQA.headDim * 8;
    expect(prefillBytes).toBeGreaterThan(decodeBytes);
    const gqa = await pairInProcessFor(model, RING64_PROFILE, undefined, { fusedValuesBytes: decodeBytes });
    const plan = gqa.fixedPoint!.plan;
    expect(fusedValuesAt(plan, model.config, causalSize({ heads: GQA.nHeads, rows, start: 0 }))).toBe(false);
    expect(fusedValuesAt(plan, model.config, causalSize({ heads: GQA.nHeads, rows: 1, start: rows }))).toBe(true);
    const oracle = await fixedPointGenerate(gqa, prompt, 5);
    const priv = await privateGenerateInProcess(gqa, prompt, 5);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(priv.stats.flightsPerLayer).toBe(8);
    // A prefill within the bound is fused too (the default bound holds this prompt's triangle).
    const all = await pairModel(model);
    expect(fusedValuesAt(all.fixedPoint!.plan, model.config, causalSize({ heads: GQA.nHeads, rows, start: 0 }))).toBe(true);
    const fused = await privateGenerateInProcess(all, prompt, 3);
    expect(sortedLogitsMismatches(fused.logits, (await fixedPointGenerate(all, prompt, 3)).logits)).toBe(0);
  }, 300_000);

  it('the rule at the shapes it is sized for: stories260K fused at every position, a Llama-3.1-8B layer while keys ≤ 32', () => {
    const plan = { fusedValuesBytes: DEFAULT_FUSED_VALUES_BYTES };
    const stories1 = (keys: number) => causalSize({ heads: stories.config.nHeads, rows: 1, start: keys - 1 });
    expect(fusedValuesAt(plan, stories.config, stories1(stories.config.maxSeqLen))).toBe(true);
    expect(fusedValuesMessageBytes(stories.config, stories1(512))).toBe(256 * 1024);
    const llama8b = { headDim: 128 };
    const decode8b = (keys: number) => causalSize({ heads: 32, rows: 1, start: keys - 1 });
    expect(fusedValuesAt(plan, llama8b, decode8b(32))).toBe(true);
    expect(fusedValuesAt(plan, llama8b, decode8b(33))).toBe(false);
    expect(fusedValuesMessageBytes(llama8b, decode8b(512))).toBe(16 * 1024 * 1024);
    expect(fusedValuesAt({}, stories.config, 1)).toBe(false);
  });

  it('the card schema ties the format to the bound: a peer that does not know the fused step refuses the plan', () => {
    const plan = parties.fixedPoint!.plan;
    expect(fixedPointPlanSchema.safeParse(plan).success).toBe(true);
    // The format of a schedule without the fused step, but with the bound: refused.
    expect(fixedPointPlanSchema.safeParse({ ...plan, format: 'permllm-fixed-point/2' }).success).toBe(false);
    // The fused format without the bound: refused (every party must apply the same rule).
    const { fusedValuesBytes: _bound, ...withoutBound } = plan;
    expect(fixedPointPlanSchema.safeParse(withoutBound).success).toBe(false);
    // What a peer of the previous plan format accepted (formats /1 and /2, no other key): this plan fails it twice over.
    const previous = fixedPointPlanSchema.innerType().innerType().extend({ format: fixedPointPlanSchema.innerType().innerType().shape.format.exclude(['permllm-fixed-point/3']) }).omit({ fusedValuesBytes: true }).strict();
    const refused = previous.safeParse(plan);
    expect(refused.success).toBe(false);
    expect(refused.error!.issues.map((i) => i.code).sort()).toEqual(['invalid_enum_value', 'unrecognized_keys']);
  });
});
