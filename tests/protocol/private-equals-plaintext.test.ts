/**
 * End to end on the real model: stories260K, greedy, the full private session in one process
 * (handshake, every sub-protocol, permuted logits, BFV token lookup) produces exactly the
 * plaintext oracle's text, and P1's permuted logits match the plaintext logits (sorted, so
 * the comparison does not depend on the permutation). Other prompts: the
 * private-equals-plaintext-*.test.ts files.
 */
import { describe } from 'vitest';
import { greedyEqualityTest } from '../helpers/greedy-equality.js';

describe('private == plaintext (stories260K, greedy)', () => {
  greedyEqualityTest('Once upon a time', 100);
});
