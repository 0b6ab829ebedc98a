/** Texts and the check for `Tokenizer.maxBytesPerToken` (token-count-bound.test.ts, huggingface-tokenizer.test.ts). */
import { expect } from 'vitest';
import { minimumTokenCount, type Tokenizer } from '../../model/tokenizer.js';

export const BOUND_TEXTS = [
  'Once upon a time, there was a little girl named Lily.',
  ' '.repeat(500),
  'the'.repeat(300),
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'.repeat(20),
  '中文字符'.repeat(100),
  '🙂🙂🙂 é ß — … '.repeat(50),
  '\n\n\t\t  '.repeat(100),
  'function f(x) { return x * 2; }\n'.repeat(40),
];

export function checkBound(tokenizer: Tokenizer): void {
  expect(tokenizer.maxBytesPerToken).toBeGreaterThan(0);
  for (const text of BOUND_TEXTS) expect(tokenizer.encode(text).length, JSON.stringify(text.slice(0, 20))).toBeGreaterThanOrEqual(minimumTokenCount(tokenizer, text));
}
