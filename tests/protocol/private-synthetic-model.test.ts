/**
 * Private == plaintext on a second, differently shaped model: the seeded synthetic preset
 * 'dim256-vocab32k' (dim 256, hidden 768, 4 layers, GQA 8:4 with head dim 32, untied 32,000-token
 * vocabulary, random weights from a fixed seed). Greedy over a few dozen tokens, plus the
 * sorted-logits comparison over a vocabulary 60 times larger than stories260K's.
 */
import { describe, expect, it } from 'vitest';
import { generateSyntheticModel } from '../../model/synthetic/index.js';
import { LOGITS_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsError } from '../helpers/private-vs-plaintext.js';

const TOKENS = 24;

describe('private == plaintext (synthetic dim256-vocab32k, greedy)', () => {
  it(`${TOKENS} greedy tokens`, async () => {
    const model = await generateSyntheticModel('dim256-vocab32k', 7);
    expect(model.config).toMatchObject({ dim: 256, nLayers: 4, vocabSize: 32000, nHeads: 8, nKvHeads: 4 });
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const priv = await privateGenerateInProcess(pairModel(model), prompt, TOKENS);
    const err = sortedLogitsError(priv.logits, plain.logits);
    console.log(`synthetic dim256-vocab32k: ${TOKENS} tokens, sorted-logits max rel error ${err.toExponential(2)}; decode ${(priv.stats.decodeMs / (TOKENS - 1)).toFixed(0)} ms/token`);
    expect(priv.tokens).toEqual(plain.tokens);
    // Random weights still give a non-degenerate continuation (not one token repeated).
    expect(new Set(plain.tokens).size).toBeGreaterThan(5);
    expect(err).toBeLessThan(LOGITS_RELATIVE_BOUND);
  });
});
