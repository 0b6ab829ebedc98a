/** Private == plaintext on stories260K for a second prompt (see private-equals-plaintext.test.ts). */
import { describe } from 'vitest';
import { greedyEqualityTest } from '../helpers/greedy-equality.js';

describe('private == plaintext (stories260K, greedy)', () => {
  greedyEqualityTest('Lily and Tom', 100);
});
