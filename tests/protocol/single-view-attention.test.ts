/**
 * The single-view attention mode with deferred normalisation (issue 12), ring64:
 * - private == its fixed-point oracle (plaintext/fixed-point/single-view-model.ts) bit for bit,
 *   every step's logits and the tokens, on stories260K and on a synthetic GQA shape;
 * - the decode critical path, measured from the transport's frame depths (PartyNetwork's
 *   clock), is 4 one-way flights per layer (the paper schedule's 12 measured the same way);
 * - the oracle stays close to the float plaintext (same greedy text on stories260K);
 * - an engine whose modes do not include single-view refuses a session that asks for it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { generateSyntheticModel } from '../../model/synthetic/index.js';
import { FIXED_POINT_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { runInProcess, type InProcessParties } from '../../in-process/in-process-parties.js';
import { assertSingleViewVariant } from '../../plaintext/fixed-point/single-view-model.js';
import { SingleViewPlanError } from '../../plaintext/fixed-point/single-view-plan.js';
import { AttentionModeRefused } from '../../protocol/schedule/attention-mode.js';
import { GREEDY, logitsError, pairModel, plaintextGenerate, privateGenerateInProcess, singleViewGenerate, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

const GQA = { architecture: 'llama', dim: 64, hiddenDim: 160, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 16, tokenizer: 'llama3-32k', tiedEmbeddings: false, ropeTheta: 500000, normEps: 1e-5 } as const;

function allowSingleView(parties: InProcessParties): void {
  parties.engine.attentionModes = ['beaver', 'single-view'];
}

describe('single-view attention with deferred normalisation (ring64)', () => {
  let stories: ModelDescription;
  let parties: InProcessParties;
  beforeAll(async () => {
    stories = await loadModel(defaultModelPath());
    parties = await pairModel(stories);
  });

  it('stories260K: private == single-view oracle bit for bit, 4 flights per layer (beaver: 10)', async () => {
    const TOKENS = 8;
    const prompt = stories.tokenizer.encode('Once upon a time', { addBos: true });
    allowSingleView(parties);
    const oracle = await singleViewGenerate(parties, prompt, TOKENS);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS, { attention: 'single-view' });
    const beaver = await privateGenerateInProcess(parties, prompt, 3, { attention: 'beaver' });
    const plain = await plaintextGenerate(stories, prompt, TOKENS);
    const err = logitsError(oracle.logits, plain.logits);
    console.log(
      `stories260K single-view: flights/layer ${priv.stats.flightsPerLayer}, flights/token ${priv.stats.flightsPerToken}, bytes/token to engine ${Math.round(priv.stats.perToken.bytesToEngine)}, from engine ${Math.round(priv.stats.perToken.bytesFromEngine)}; ` +
        `beaver flights/layer ${beaver.stats.flightsPerLayer}, flights/token ${beaver.stats.flightsPerToken}; oracle vs float max logit error ${err.absolute.toFixed(4)} (relative ${err.relative.toExponential(2)})`,
    );
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    expect(err.relative).toBeLessThan(FIXED_POINT_RELATIVE_BOUND);
    expect(priv.stats.flightsPerLayer).toBe(4);
    expect(priv.stats.flightsPerToken).toBe(4 * stories.config.nLayers + 6);
    expect(beaver.stats.flightsPerLayer).toBe(8); // deferred FFN norm and fused P·V (deferred-ffn-norm.test.ts, fused-values.test.ts)
  });

  it('a longer prompt (a prefill of many rows) stays bit-exact', async () => {
    const prompt = stories.tokenizer.encode('The little dog ran to the park and saw a big red ball. He', { addBos: true });
    allowSingleView(parties);
    const oracle = await singleViewGenerate(parties, prompt, 3);
    const priv = await privateGenerateInProcess(parties, prompt, 3, { attention: 'single-view' });
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
  });

  it('synthetic GQA 4:2: private == single-view oracle bit for bit', async () => {
    const model = await generateSyntheticModel(GQA, 11);
    const gqa = await pairModel(model);
    allowSingleView(gqa);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const oracle = await singleViewGenerate(gqa, prompt, 5);
    const priv = await privateGenerateInProcess(gqa, prompt, 5, { attention: 'single-view' });
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(priv.stats.flightsPerLayer).toBe(4);
  });

  it('a one-layer model: flights per layer are still measured (8 beaver, 4 single-view)', async () => {
    const model = await generateSyntheticModel({ ...GQA, nLayers: 1 }, 5);
    const one = await pairModel(model);
    allowSingleView(one);
    const prompt = model.tokenizer.encode('Once', { addBos: true });
    const sv = await privateGenerateInProcess(one, prompt, 3, { attention: 'single-view' });
    const beaver = await privateGenerateInProcess(one, prompt, 3, { attention: 'beaver' });
    expect([sv.stats.flightsPerLayer, sv.stats.flightsPerToken]).toEqual([4, 10]);
    expect([beaver.stats.flightsPerLayer, beaver.stats.flightsPerToken]).toEqual([8, 14]);
  });

  it('refuses model variants whose steps the mode does not implement', () => {
    expect(() => assertSingleViewVariant({ variant: { qkNorm: true } })).toThrow(SingleViewPlanError);
    expect(() => assertSingleViewVariant({ variant: { activation: 'silu' } })).not.toThrow();
    expect(() => assertSingleViewVariant({})).not.toThrow();
  });

  it('an engine that does not allow single-view refuses the session', async () => {
    parties.engine.attentionModes = ['beaver'];
    const prompt = stories.tokenizer.encode('Once', { addBos: true });
    const run = runInProcess(parties, { promptTokens: prompt, maxTokens: 2, sampling: GREEDY, adjustments: {}, stopIds: new Set(), attention: 'single-view' });
    await expect((async () => {
      for await (const event of run.events) void event;
    })()).rejects.toThrow();
    const { engine } = await run.done;
    expect(engine).toBeInstanceOf(AttentionModeRefused);
    // The same engine allowing it runs the session.
    allowSingleView(parties);
    expect((await privateGenerateInProcess(parties, prompt, 2, { attention: 'single-view' })).tokens).toHaveLength(2);
  });
});
