/**
 * Private == plaintext on stories260K for a prompt several prefill chunks long
 * (PREFILL_CHUNK_ROWS): the chunks attend to the K/V rows of the chunks before them, so the
 * chunked prefill is the same forward pass as the plaintext one (ring64: bit for bit).
 */
import { describe, expect, it } from 'vitest';
import { PREFILL_CHUNK_ROWS } from '../../protocol/schedule/forward-program.js';
import { greedyEqualityTest, ringEqualityTest } from '../helpers/greedy-equality.js';

const PROMPT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. '.repeat(4) + 'One day';

describe('private == plaintext with a chunked prefill (stories260K, greedy)', () => {
  it('the prompt spans more than two chunks and ends mid-chunk', async () => {
    const { loadModel, defaultModelPath } = await import('../../model/load-model.js');
    const tokens = (await loadModel(defaultModelPath())).tokenizer.encode(PROMPT, { addBos: true }).length;
    expect(tokens).toBeGreaterThan(2 * PREFILL_CHUNK_ROWS);
    expect(tokens % PREFILL_CHUNK_ROWS).not.toBe(0);
  });
  greedyEqualityTest(PROMPT, 12);
  // The oracle runs the whole prompt in one pass: bit-exact equality shows chunking changes nothing.
  ringEqualityTest(PROMPT, 12);
});
