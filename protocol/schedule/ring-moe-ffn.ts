/**
 * The private mixture-of-experts FFN under `ring64` (Mixtral; Qwen3-MoE's router), the
 * step-for-step mirror of the oracle's fixedPointMoeFfn (plaintext/fixed-point/ring-moe.ts):
 *
 *   MulW(router) and MulW(all experts' gate|up) on the RMSNorm output (V = B′: nothing sent),
 *   one Elem (ring-moe-elem.ts) for the router (softmax + top-k on a view permuted over the
 *   experts of each token → shares of the gate vector g, zero outside the top-k) and every
 *   expert's SwiGLU (flat π, as the dense model),
 *   grouped MulW(every expert's down; V = B′; ring-mul-w-grouped.ts),
 *   Beaver Σ_e g_e · y_e (ring-gate-combine.ts), added to the residual.
 *
 * What each party learns. The engine (P0): nothing about the routing. Every expert runs on
 * every token, so its work, its messages and their sizes do not depend on the routing, and
 * everything it receives is a value plus a fresh mask uniform over Z_2^64 (the router logits,
 * gate vector and expert outputs included; tests/protocol/private-moe-routing-view.test.ts).
 * The user (P1): per token, the multiset of its router logits and so of its gate weights (which
 * value is the k-th largest, how peaked the routing is), but not which expert holds which value:
 * the experts are freshly permuted in every token's row, and the rows too. It also sees the
 * multiset of all experts' SwiGLU inputs and outputs under one flat permutation, as in the dense
 * model, without learning which activations belong to which expert or to the selected ones.
 * The dealer (P2): nothing online, as everywhere.
 *
 * Cost against the dense model of equal active size (FFN width topK · hiddenDim), per layer and
 * token: one-way flights 14 against 12 (router and SwiGLU share one Elem; the Beaver opening
 * adds one flight from the engine, and the next RMSNorm input then depends on it). Ring
 * elements online (8 bytes each), with E = nExperts, h = hiddenDim, k = topK: to the engine
 * E·(2 + 3h) (Elem) + E·(1 + dim) (opening) instead of 3·k·h; from it E·(1 + 2h) + E·(1 + dim)
 * instead of 2·k·h (measured to the byte, bench/moe-cost.ts, apart from 32-byte frame headers);
 * from the dealer: W1 of the router, gate|up and downs (E·(1 + 2h + dim)) and of the opening. Compute:
 * every party's FFN products are nExperts/topK times the dense ones; weights are stored for
 * every expert (engine 2 bytes per parameter, gateway and dealer 8), as for any dense model.
 */
import { moeViewWidth } from '../../model/fixed-point/view-width.js';
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
  const { gates, activated } = await ringMoeElem(ctx, logits, blocks, { router, length: rows * width, inExp: L.ffnNorm + L.gateUp, outExp: L.ffn, width: moeViewWidth(plan, L) });
  const downs = Array.from({ length: n }, (_, e) => weight(state, weightName.expertDown(layer, e)));
  const experts = await ringMulWGrouped(ctx, downs, activated, rows);
  return ringGateCombine(ctx, gates, experts, rows, n, c.dim);
}
