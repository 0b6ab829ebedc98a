/**
 * End to end on the real model: stories260K, greedy, the full private session in one process
 * (handshake, every sub-protocol, permuted logits, BFV token lookup).
 * - ring64 (the default): the private logits equal the fixed-point oracle's bit for bit at every
 *   step and the text equals the oracle's, which equals the float plaintext's.
 * - permllm-f64 (statistical, kept for comparison): text == float plaintext, logits within
 *   LOGITS_RELATIVE_BOUND.
 * Other prompts: the private-equals-plaintext-*.test.ts files.
 */
import { describe } from 'vitest';
import { greedyEqualityTest, ringEqualityTest } from '../helpers/greedy-equality.js';

describe('private == plaintext (stories260K, greedy)', () => {
  ringEqualityTest('Once upon a time', 100);
  greedyEqualityTest('Once upon a time', 100);
});
