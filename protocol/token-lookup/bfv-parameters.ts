/**
 * The BFV parameters of the homomorphic token lookup (protocol.md, "Token output"), in one
 * place. Both parties must use exactly these; the wire format carries PARAMETER_SET_ID so a
 * peer on other parameters is rejected instead of misread.
 *
 * Parameter set 3 (issue 11): the answer is noise-flooded, i.e. circuit private against the
 * key holder P1, and needs no Galois keys. Set 1 (N = 4096, SEAL's default primes, batching
 * with rotate-and-add) left 9 bits of noise budget, far too little to drown the
 * table-dependent noise, so P1 could read a little about π_out from it.
 *
 * - Coefficient encoding: the query for permuted index j is x^(j mod N) in slice ⌊j/N⌋, and P0
 *   multiplies slice i by T_i(x) = T[iN] − Σ_{k≥1} T[iN+k]·x^(N−k) (negacyclic: x^N = −1), so
 *   the constant coefficient of the sum is Σ_j q_j·T[j] = π_out(j) for an honest one-hot, and
 *   one linear combination of the table for any other query. P0 masks every other coefficient
 *   with fresh uniform values of Z_t, so nothing else of the table is readable.
 * - N = 8192, 128-bit security (HE standard: at most 218 bits of modulus at N = 8192; 180 used).
 * - t = 1032193, a 20-bit prime: token ids up to about 1M fit a coefficient.
 * - q = q1·q2·q3 (data, 135 bits) and a special prime P, all 45 bits and all ≡ 1 mod 2N·t (the
 *   largest such primes below 2^45). q ≡ 1 mod t makes BFV's rounding term (q mod t)·⌊m·T/t⌉ of a
 *   plaintext product 1·⌊…⌉ instead of up to 2^20 times larger.
 *
 * Flooding (FLOOD_*): before the answer leaves P0, uniform noise in [−2^f, 2^f) is added to
 * every coefficient of its c0, with 2^f ≥ 2^(λ + log2 N) · B, where B bounds the noise the
 * computation put there (the only part that depends on the table; tableNoiseBoundLog2) and
 * λ = 40: by the smudging lemma the answer's noise is then within statistical distance
 * N · B / 2^f ≤ 2^−40 of a distribution that does not depend on the table. The fresh
 * public-key encryption of zero added before it re-randomises c1 (computationally, under
 * RLWE, as in every BFV circuit-privacy argument). Decryption stays correct: 2^f ≤ 2^97 for
 * the largest vocabulary, while the top level tolerates noise up to q / (2t) ≈ 2^114.
 */
export const PARAMETER_SET_ID = 3;
export const POLY_MODULUS_DEGREE = 8192;
/** t: plaintext coefficients (token ids) live in Z_t. */
export const PLAIN_MODULUS = 1032193;
/** The data primes q1, q2, q3 (the modulus chain drops q3, then q2), then the special prime P. */
export const COEFF_MODULUS_PRIMES: readonly bigint[] = [34719207079937n, 34516269678593n, 34313332277249n, 33552317022209n];
/** Token ids per query ciphertext: one per coefficient. */
export const SLOTS = POLY_MODULUS_DEGREE;
/** Most lookups in one query message (top_logprobs is at most 20, plus the sampled token). */
export const MAX_LOOKUPS_PER_MESSAGE = 64;
/** Noise budget (bits) below which the client treats an answer as undecryptable. */
export const MIN_ANSWER_NOISE_BUDGET_BITS = 1;
/** λ: statistical distance of the flooded answer from a table-independent one is at most 2^−λ. */
export const FLOOD_STATISTICAL_SECURITY_BITS = 40;
/** The largest flood exponent the parameters carry with decryption margin (checked at use). */
export const MAX_FLOOD_BITS = 111;

/** ceil(vocabSize / SLOTS): query ciphertexts per lookup. */
export function ciphertextsPerLookup(vocabSize: number): number {
  return Math.ceil(vocabSize / SLOTS);
}

/**
 * log2 of a bound B on the ∞-norm of the noise a lookup over `ciphertexts` query ciphertexts
 * leaves in the answer before flooding (worst case over tables; P1 honest, semi-honest model):
 * - a fresh query: SEAL's centred binomial noise, |e| ≤ 21, plus 1 of encoding rounding;
 * - times the table slice T(x) (coefficients centred, |T| ≤ (t−1)/2): N·22·(t−1)/2, plus BFV's
 *   rounding term (q mod t)·|m·T|/t ≤ 1 · N·t/2 (q ≡ 1 mod t);
 * - summed over the ciphertexts; plus the mask plaintext (rounding ≤ 1) and the public-key
 *   encryption of zero (≤ 2N·22 + 22 < 2^19).
 */
export function tableNoiseBoundLog2(ciphertexts: number): number {
  const n = POLY_MODULUS_DEGREE;
  const t = PLAIN_MODULUS;
  const product = n * 22 * ((t - 1) / 2) + (n * t) / 2;
  return Math.log2(ciphertexts * product + 2 ** 19 + 1);
}

/** The flood exponent f for a lookup over `ciphertexts` query ciphertexts (see above). */
export function floodBits(ciphertexts: number): number {
  return Math.ceil(tableNoiseBoundLog2(ciphertexts)) + FLOOD_STATISTICAL_SECURITY_BITS + Math.log2(POLY_MODULUS_DEGREE);
}
