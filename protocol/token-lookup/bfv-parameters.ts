/**
 * The BFV parameters of the homomorphic token lookup (protocol.md, "Token output"), in one
 * place. Both parties must use exactly these; the wire format carries PARAMETER_SET_ID so a
 * peer on other parameters is rejected instead of misread.
 *
 * - N = 4096 slots (poly modulus degree). Measured: a fresh query has 47 bits of noise
 *   budget; an answer keeps 9 bits after the switch to the last level for vocabularies up to
 *   128256 (32 query ciphertexts) and 8 for the largest the plain modulus allows (253), and
 *   the tests assert at least 4 (3 at the maximum). 8192 would leave 15 bits but costs 8x the
 *   Galois-key bytes (14 MB) and 4x the query bytes, so it is not needed.
 * - q = CoeffModulus.BFVDefault(4096, tc128): 36 + 36 + 37 bits, the 37-bit prime being
 *   SEAL's special (key-switching) prime; 128-bit security per the HE standard.
 * - t = PlainModulus.Batching(4096, 20): a 20-bit prime ≡ 1 mod 2N (1032193), so token ids
 *   up to about 1M fit in a slot.
 */
export const PARAMETER_SET_ID = 1;
export const POLY_MODULUS_DEGREE = 4096;
export const PLAIN_MODULUS_BITS = 20;

/** Slots per ciphertext: BFV batching gives one slot per coefficient, as a 2 × N/2 matrix. */
export const SLOTS = POLY_MODULUS_DEGREE;

/** Rows of the batching matrix have N/2 slots; rotate-and-add within a row takes log2(N/2) steps. */
export const ROW_SIZE = POLY_MODULUS_DEGREE / 2;

/**
 * The row-rotation steps of the rotate-and-add (1, 2, 4, …, N/4), plus 0, which SEAL's key
 * generator reads as "swap the two rows" (rotateColumns). These are exactly the Galois keys
 * P1 sends: nothing else is generated, nothing else is accepted.
 */
export const ROTATION_STEPS: readonly number[] = (() => {
  const steps: number[] = [];
  for (let s = 1; s < ROW_SIZE; s *= 2) steps.push(s);
  steps.push(0);
  return steps;
})();

/** Most lookups in one query message (top_logprobs is at most 20, plus the sampled token). */
export const MAX_LOOKUPS_PER_MESSAGE = 64;

/** Noise budget (bits) below which the client treats an answer as undecryptable. */
export const MIN_ANSWER_NOISE_BUDGET_BITS = 1;

/** ceil(vocabSize / SLOTS): query ciphertexts per lookup. */
export function ciphertextsPerLookup(vocabSize: number): number {
  return Math.ceil(vocabSize / SLOTS);
}
