/**
 * `Tokenizer.maxBytesPerToken` is a true bound: no text encodes to fewer than
 * ceil(bytes / maxBytesPerToken) tokens (what lets the gateway refuse an over-long prompt from
 * its length). Here the llama2.c tokenizer; the Hugging Face ones are checked with the same
 * texts in huggingface-tokenizer.test.ts (which builds them anyway).
 */
import { describe, expect, it } from 'vitest';
import { checkBound } from './token-bound.js';
import { Llama2cTokenizer } from '../../model/llama2c/llama2c-tokenizer.js';
import { tokenizerPath } from '../plaintext/stories260k.js';

describe('maxBytesPerToken', () => {
  it('bounds the llama2.c tokenizer (its longest piece)', async () => {
    const tokenizer = await Llama2cTokenizer.load(tokenizerPath, 512);
    checkBound(tokenizer);
    // Tight enough to matter: a run of the longest piece's text reaches it.
    expect(tokenizer.maxBytesPerToken).toBeLessThan(20);
  });
});
