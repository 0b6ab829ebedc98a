/**
 * The private embedding pass under the `ring64` profile: the forward pass of
 * ring-forward-program.ts over the input's tokens (same chunks, same layers), ending at the final
 * hidden state instead of the LM head and the token lookup.
 *
 * Per chunk: embedding and layers (every row's residual kept) → Elem(RMSNorm without γ, row-wise:
 * P1 sees each row's residual under a fresh permutation, as at every layer's norm) → the chunk's
 * rows summed locally on each party's own share (pooling is linear). Then one diagonal MulW by
 * the final norm's γ, opened to P1 alone (ring-diagonal-open.ts): P1 learns γ ⊙ Σ_t RMSNorm(h_t),
 * one vector of dim values, and divides by the row count itself. γ never leaves P0 (it is folded
 * into the LM head in the masked model, so P1 has no copy of it). P0 and P2 learn the row count
 * (the session's prompt length) and nothing else: every value P0 receives is uniform on the ring.
 *
 * Bit-exact with plaintext/fixed-point/fixed-point-embedding.ts.
 */
import { residualViewWidth } from '../../model/fixed-point/view-width.js';
import { ringAdd, type Ring } from '../../compute/ring64.js';
import { decodePooledEmbedding, embeddingGammaExponent, ringEmbeddingGamma, ringSumRows } from '../../plaintext/fixed-point/ring-pooling.js';
import type { PartyContext } from '../session/party-context.js';
import { ringDiagonalOpen } from '../subprotocols/ring/ring-diagonal-open.js';
import { ringElem } from '../subprotocols/ring/ring-elem.js';
import { ringLocal, type RingShared } from '../subprotocols/ring/ring-shared.js';
import { PREFILL_CHUNK_ROWS } from './forward-program.js';
import { ringChunk, type RingForwardState } from './ring-forward-program.js';

/** What the pass gives P1 (P0 and P2 get nothing). */
export interface RingEmbeddingResult {
  /** γ ⊙ Σ_t RMSNorm(h_t) at `exponent` (P1 only). */
  pooled?: Ring;
  exponent: number;
  /** The mean-pooled vector (P1 only). */
  mean?: Float64Array;
}

/** `gamma`: the final norm's weights, at the engine only. */
export async function ringEmbeddingPass(ctx: PartyContext, state: RingForwardState, tokens: readonly number[] | undefined, rows: number, gamma?: ArrayLike<number>): Promise<RingEmbeddingResult> {
  const { config: c, plan } = state;
  if (ctx.role === 'gateway' && (!tokens || tokens.length !== rows)) throw new Error(`ringEmbeddingPass: gateway must supply ${rows} tokens`);
  if (ctx.role === 'engine' && (!gamma || gamma.length !== c.dim)) throw new Error(`ringEmbeddingPass: the engine needs the final norm's ${c.dim} weights`);
  // Public, from the plan, the row count and the width: known to all three before any step.
  const gammaExp = embeddingGammaExponent(plan.finalNorm, rows, c.dim);
  const gammaRing = ctx.role === 'engine' ? ringEmbeddingGamma(gamma!, gammaExp) : undefined;
  let sum: RingShared | undefined;
  for (let offset = 0; offset < rows; offset += PREFILL_CHUNK_ROWS) {
    const n = Math.min(PREFILL_CHUNK_ROWS, rows - offset);
    const x = await ringChunk(ctx, state, tokens?.slice(offset, offset + n), n, offset, true);
    const normed = await ringElem(ctx, x, { kind: 'rmsnorm', rows: n, cols: c.dim, eps: c.normEps, inExp: plan.residual, outExp: plan.finalNorm }, residualViewWidth(plan));
    const pooled = ringLocal(normed, c.dim, (s) => ringSumRows(s, n, c.dim));
    sum = sum === undefined ? pooled : ringLocal(pooled, c.dim, (s) => ringAdd(sum!.share!, s), sum.meta.offlineKnown && pooled.meta.offlineKnown);
  }
  if (!sum) throw new RangeError('ringEmbeddingPass: no rows');
  const opened = await ringDiagonalOpen(ctx, sum, gammaRing);
  const exponent = plan.finalNorm + gammaExp;
  if (!opened) return { exponent };
  return { pooled: opened, exponent, mean: decodePooledEmbedding(opened, exponent, rows) };
}
