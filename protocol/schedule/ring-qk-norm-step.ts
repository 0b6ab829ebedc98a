/**
 * The private per-head q/k RMSNorm (Qwen3, Gemma 3) under `ring64`, between the qkv MulW and
 * the scores (plaintext/fixed-point/ring-qk-norm.ts has the layout, model/fixed-point/plan-qk-norm.ts
 * the exponents):
 *   Elem(row-wise RMSNorm) over the q and k head rows together: the user sees the raw heads of
 *     q and k with the rows shuffled together and each row's coordinates shuffled by a fresh π,
 *     never γ; P1's input share is the qkv MulW's C1, so its first message goes offline;
 *   MulW(diag γ_q | diag γ_k) with V = B′: the engine applies γ, the user holds only X − U
 *     (γ is never revealed) and sends nothing online;
 *   a local selection of each row's half.
 * Cost per layer: 2 online flights (the Elem's), bytes 8·rows·(nHeads + nKvHeads)·headDim each way.
 */
import type { ModelConfig } from '../../model/model-description.js';
import type { LayerPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { qkHeadRows, qkHeads, qkNormSelect } from '../../plaintext/fixed-point/ring-qk-norm.js';
import type { PartyContext } from '../session/party-context.js';
import { ringElem } from '../subprotocols/ring/ring-elem.js';
import { ringMulW, type RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import { ringLocal, type RingShared } from '../subprotocols/ring/ring-shared.js';

/** q′, k′ (γ applied, before RoPE) from the shared qkv output [rows, (nHeads + 2·nKvHeads)·headDim]. */
/** `width`: the Perm flights' bytes per element (model/fixed-point/view-width.ts qkNormViewWidth). */
export async function ringQkNormStep(ctx: PartyContext, c: ModelConfig, L: LayerPlan, gamma: RingRoleWeight, qkv: RingShared, rows: number, width = 8): Promise<{ q: RingShared; k: RingShared }> {
  if (!L.qkNorm) throw new Error('ringQkNormStep: the layer plan has no q/k norm');
  const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
  const headRows = qkHeadRows(shape, rows);
  const heads = ringLocal(qkv, headRows * c.headDim, (s) => qkHeads(s, shape, rows));
  const normed = await ringElem(ctx, heads, { kind: 'rmsnorm', rows: headRows, cols: c.headDim, eps: c.normEps, inExp: L.attnNorm + L.qk, outExp: L.qkNorm.out }, width);
  const scaled = await ringMulW(ctx, gamma, normed, headRows, L.qkNorm.out);
  return {
    q: ringLocal(scaled, rows * c.nHeads * c.headDim, (s) => qkNormSelect(s, shape, rows).q),
    k: ringLocal(scaled, rows * c.nKvHeads * c.headDim, (s) => qkNormSelect(s, shape, rows).k),
  };
}
