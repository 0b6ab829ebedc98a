/**
 * Private == plaintext on models of other shapes than stories260K, seeded synthetic weights,
 * greedy, under ring64 (the default): private == fixed-point oracle bit for bit (tokens and every
 * step's logits), and the oracle's greedy text == the float plaintext's.
 * - a Qwen2-style shape: q/k/v biases (encoded at the MulW output's exponents), GQA 4:1, head
 *   dim 16, untied 32,000-token vocabulary;
 * - the preset 'dim256-vocab32k' (dim 256, hidden 768, 4 layers, GQA 8:4, head dim 32).
 */
import { describe, expect, it } from 'vitest';
import { generateSyntheticModel } from '../../model/synthetic/index.js';
import { FIXED_POINT_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { fixedPointGenerate, logitsError, pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

const QWEN_LIKE = { architecture: 'qwen2', dim: 64, hiddenDim: 160, nLayers: 2, nHeads: 4, nKvHeads: 1, headDim: 16, tokenizer: 'llama3-32k', tiedEmbeddings: false, qkvBias: true, ropeTheta: 1000000, normEps: 1e-6 } as const;

const cases = [
  { name: 'qwen2-style, q/k/v biases, GQA 4:1', spec: QWEN_LIKE, tokens: 12, shape: { dim: 64, nLayers: 2, vocabSize: 32000, nHeads: 4, nKvHeads: 1 } },
  { name: 'dim256-vocab32k preset', spec: 'dim256-vocab32k', tokens: 6, shape: { dim: 256, nLayers: 4, vocabSize: 32000, nHeads: 8, nKvHeads: 4 } },
] as const;

describe('private == plaintext (synthetic shapes, greedy, ring64)', () => {
  it.each(cases)('$name: $tokens greedy tokens', async ({ spec, tokens: TOKENS, shape }) => {
    const model = await generateSyntheticModel(spec, 7);
    expect(model.config).toMatchObject(shape);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const parties = await pairModel(model);
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const mismatches = sortedLogitsMismatches(priv.logits, oracle.logits);
    const err = logitsError(oracle.logits, plain.logits);
    console.log(
      `synthetic ${JSON.stringify(shape)} ring64: ${TOKENS} tokens, private vs oracle ${mismatches} steps differ; oracle vs float max logit error ${err.absolute.toFixed(4)} ` +
        `(relative ${err.relative.toExponential(2)}); decode ${(priv.stats.decodeMs / (TOKENS - 1)).toFixed(0)} ms/token; plan ${JSON.stringify({ ...parties.fixedPoint!.plan, layers: parties.fixedPoint!.plan.layers[0] })}`,
    );
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(mismatches).toBe(0);
    expect(oracle.tokens).toEqual(plain.tokens);
    // Random weights still give a non-degenerate continuation (not one token repeated).
    expect(new Set(plain.tokens).size).toBeGreaterThan(TOKENS / 3);
    expect(err.relative).toBeLessThan(FIXED_POINT_RELATIVE_BOUND);
  });
});
