/**
 * The private == plaintext greedy check for one prompt on stories260K, shared by the
 * tests/protocol/private-equals-plaintext*.test.ts files (one prompt per file, so vitest can
 * run them on separate workers).
 */
import { expect, it } from 'vitest';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import { pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsError } from './private-vs-plaintext.js';

/**
 * Sorted permuted logits vs plaintext logits, max |difference| / max |logit| over all steps.
 * Measured: about 6e-5 (the float64 profile; the per-family table in precision-report.test.ts
 * shows where it comes from). The bound leaves a margin for other keys and longer runs.
 */
export const LOGITS_RELATIVE_BOUND = 5e-4;

export function greedyEqualityTest(text: string, count: number): void {
  it(`"${text}": ${count} greedy tokens, private text == plaintext text`, async () => {
    const model = await loadModel(defaultModelPath());
    const prompt = model.tokenizer.encode(text, { addBos: true });
    const plain = await plaintextGenerate(model, prompt, count);
    const priv = await privateGenerateInProcess(pairModel(model), prompt, count);
    const err = sortedLogitsError(priv.logits, plain.logits);
    console.log(
      `"${text}" (${count} tokens): ${JSON.stringify(model.tokenizer.decode(priv.tokens))}\n` +
        `  sorted-logits max rel error ${err.toExponential(2)} (bound ${LOGITS_RELATIVE_BOUND}); ` +
        `decode ${(priv.stats.decodeMs / Math.max(1, count - 1)).toFixed(0)} ms/token, prefill ${priv.stats.prefillMs.toFixed(0)} ms`,
    );
    expect(priv.tokens).toHaveLength(count);
    expect(priv.tokens).toEqual(plain.tokens);
    expect(model.tokenizer.decode(priv.tokens)).toBe(model.tokenizer.decode(plain.tokens));
    expect(err).toBeLessThan(LOGITS_RELATIVE_BOUND);
  });
}
