/**
 * Private == plaintext on a second, differently shaped model: the seeded synthetic preset
 * 'dim256-vocab32k' (dim 256, hidden 768, 4 layers, GQA 8:4 with head dim 32, untied 32,000-token
 * vocabulary, random weights from a fixed seed). Greedy over a dozen tokens, plus the
 * sorted-logits comparison over a vocabulary 60 times larger than stories260K's. Under ring64 (the
 * default): private == fixed-point oracle bit for bit, oracle greedy text == float plaintext.
 */
import { describe, expect, it } from 'vitest';
import { generateSyntheticModel } from '../../model/synthetic/index.js';
import { FIXED_POINT_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { fixedPointGenerate, logitsError, pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

const TOKENS = 12;

describe('private == plaintext (synthetic dim256-vocab32k, greedy)', () => {
  it(`${TOKENS} greedy tokens`, async () => {
    const model = await generateSyntheticModel('dim256-vocab32k', 7);
    expect(model.config).toMatchObject({ dim: 256, nLayers: 4, vocabSize: 32000, nHeads: 8, nKvHeads: 4 });
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const parties = await pairModel(model);
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const mismatches = sortedLogitsMismatches(priv.logits, oracle.logits);
    const err = logitsError(oracle.logits, plain.logits);
    console.log(
      `synthetic dim256-vocab32k ring64: ${TOKENS} tokens, private vs oracle ${mismatches} steps differ; oracle vs float max logit error ${err.absolute.toFixed(4)} ` +
        `(relative ${err.relative.toExponential(2)}); decode ${(priv.stats.decodeMs / (TOKENS - 1)).toFixed(0)} ms/token; plan ${JSON.stringify({ ...parties.fixedPoint!.plan, layers: parties.fixedPoint!.plan.layers[0] })}`,
    );
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(mismatches).toBe(0);
    expect(oracle.tokens).toEqual(plain.tokens);
    // Random weights still give a non-degenerate continuation (not one token repeated).
    expect(new Set(plain.tokens).size).toBeGreaterThan(5);
    expect(err.relative).toBeLessThan(FIXED_POINT_RELATIVE_BOUND);
  });
});
