/**
 * A private post-norm (Gemma 2/3: γ ⊙ RMSNorm(o) added to the residual, for the attention and
 * the FFN outputs) under `ring64` (model/fixed-point/plan-post-norms.ts for the exponents):
 *   Elem(row-wise RMSNorm over dim): the user sees the projection's output with rows and each
 *     row's coordinates shuffled by a fresh π (as it sees the residual for the pre-norms); P1's
 *     input share is the MulW's C1, so its first message goes offline;
 *   diagonal MulW(γ) with V = B′ (ring-mul-diag.ts): γ stays the engine's, nothing goes online.
 * Cost: 2 online flights, 8·rows·dim bytes each way.
 */
import type { ModelConfig } from '../../model/model-description.js';
import type { PartyContext } from '../session/party-context.js';
import { ringElem } from '../subprotocols/ring/ring-elem.js';
import { ringMulDiag } from '../subprotocols/ring/ring-mul-diag.js';
import type { RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import type { RingShared } from '../subprotocols/ring/ring-shared.js';

/** `width`: the Perm flights' bytes per element (model/fixed-point/view-width.ts postNormViewWidth). */
export async function ringPostNormStep(ctx: PartyContext, c: ModelConfig, gamma: RingRoleWeight, x: RingShared, rows: number, raw: number, out: number, width = 8): Promise<RingShared> {
  const normed = await ringElem(ctx, x, { kind: 'rmsnorm', rows, cols: c.dim, eps: c.normEps, inExp: raw, outExp: out }, width);
  return ringMulDiag(ctx, gamma, normed, rows);
}
