/** Private == plaintext on stories260K for a third prompt (see private-equals-plaintext.test.ts). */
import { describe } from 'vitest';
import { ringEqualityTest } from '../helpers/greedy-equality.js';

describe('private == plaintext (stories260K, greedy)', () => {
  ringEqualityTest('The cat', 100);
});
