/**
 * Seeded sampling end to end (stories260K): temperature 0.8 and top-p 0.9 with a fixed seed give
 * the same text privately (P1 samples on the permuted logits) and in the fixed-point oracle of the
 * ring64 pairing (the same sampler and seeded stream on the logits in vocabulary order), because
 * the logits are bit-identical multisets and the sampler depends on values only, never on positions. Different seeds give different texts (the seed is really used).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import type { SamplingParams } from '../../gateway/pipeline/generation-backend.js';
import { fixedPointGenerate, pairModel, privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';

const TOKENS = 32;

describe('seeded sampling: private == plaintext (stories260K, T=0.8, top-p 0.9)', () => {
  let model: ModelDescription;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
  });

  it('same seed, same text; another seed, another text', async () => {
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const parties = await pairModel(model);
    const texts: string[] = [];
    for (const seed of [1234, 99]) {
      const sampling: SamplingParams = { temperature: 0.8, topP: 0.9, topK: 0, minP: 0, seed };
      const plain = await fixedPointGenerate(parties, prompt, TOKENS, sampling);
      const priv = await privateGenerateInProcess(parties, prompt, TOKENS, { sampling });
      const text = model.tokenizer.decode(priv.tokens);
      console.log(`seed ${seed}: ${JSON.stringify(text)}`);
      expect(priv.tokens).toEqual(plain.tokens);
      expect(text).toBe(model.tokenizer.decode(plain.tokens));
      texts.push(text);
    }
    expect(texts[1]).not.toBe(texts[0]);
  });
});
