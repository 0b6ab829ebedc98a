/**
 * The private mixture-of-experts FFN under `ring64` (protocol.md, "Mixture of experts"), the
 * step-for-step mirror of the oracle's fixedPointMoeFfn (plaintext/fixed-point/ring-moe.ts):
 *
 *   MulW(router) and MulW(all experts' gate|up) on the RMSNorm output (V = B′: nothing sent),
 *   one Elem (ring-moe-elem.ts) for the router (softmax + top-k on a view permuted over the
 *   experts of each token → shares of g) and every expert's SwiGLU (flat π, as the dense model),
 *   grouped MulW(every expert's down; V = B′), Beaver Σ_e g_e · y_e.
 *
 * Every expert runs on every token, so the engine's work and messages do not depend on the
 * routing; what the engine receives is uniform over the ring as in every other step.
 */
import type { ModelConfig } from '../../model/model-description.js';
import type { FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { weightName } from '../../model/fixed-point/folded-weights.js';
import { ringGateUpBlocks } from '../../plaintext/fixed-point/ring-tensors.js';
import type { PartyContext } from '../session/party-context.js';
import { ringGateCombine } from '../subprotocols/ring/ring-gate-combine.js';
import { ringMoeElem } from '../subprotocols/ring/ring-moe-elem.js';
import { ringMulWGrouped } from '../subprotocols/ring/ring-mul-w-grouped.js';
import { ringMulW, type RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import { ringLocal, type RingShared } from '../subprotocols/ring/ring-shared.js';

/** What the MoE step reads of the ring forward state (ring-forward-program.ts). */
export interface RingMoeState {
  config: ModelConfig;
  plan: FixedPointPlan;
  weights: ReadonlyMap<string, RingRoleWeight>;
}

function weight(state: RingMoeState, name: string): RingRoleWeight {
  const w = state.weights.get(name);
  if (!w) throw new Error(`no weight ${name}`);
  return w;
}

/** FFN(h) shares at the residual exponent from the FFN RMSNorm output `normed` [rows, dim] (exponent L.ffnNorm). */
export async function ringMoeFfn(ctx: PartyContext, state: RingMoeState, normed: RingShared, rows: number, layer: number): Promise<RingShared> {
  const { config: c, plan } = state;
  const moe = c.variant?.moe;
  const L = plan.layers[layer]!;
  if (!moe || !L.moe) throw new Error(`ringMoeFfn: layer ${layer} has no mixture-of-experts plan`);
  const n = moe.nExperts;
  const width = n * c.hiddenDim;
  const logits = await ringMulW(ctx, weight(state, weightName.router(layer)), normed, rows, L.ffnNorm);
  const gateUp = await ringMulW(ctx, weight(state, weightName.gateUp(layer)), normed, rows, L.ffnNorm);
  const blocks = ringLocal(gateUp, 2 * rows * width, (s) => ringGateUpBlocks(s, rows, width));
  const router = { rows, nExperts: n, topK: moe.topK, normalizeTopK: moe.normalizeTopK, inExp: L.moe.logits, outExp: L.moe.gate };
  const { gates, activated } = await ringMoeElem(ctx, logits, blocks, { router, length: rows * width, inExp: L.ffnNorm + L.gateUp, outExp: L.ffn });
  const downs = Array.from({ length: n }, (_, e) => weight(state, weightName.expertDown(layer, e)));
  const experts = await ringMulWGrouped(ctx, downs, activated, rows);
  return ringGateCombine(ctx, gates, experts, rows, n, c.dim);
}
