/**
 * The FFN half of a `ring64` beaver-schedule layer with deferred normalisation (issue 12;
 * model/fixed-point/plan-deferred-ffn-norm.ts): two one-way flights where the paper's schedule
 * spends four (Elem(RMSNorm) there and back, then Elem(SwiGLU) there and back).
 *
 *   P0: gate|up = W_gu·x on the raw residual (γ folded into W_gu; V = the residual's mask, so P1
 *       sends nothing online for it)
 *   P0 → P1  views of x and of gate|up, one flight: rows under one fresh permutation ρ (the same
 *            for both, so P1 pairs each gate/up row with its x row), each row's columns under
 *            its own fresh permutation (gate and up of one hidden unit share a position)
 *   P1: r⁻¹ = 1/rms(x) per row, s = silu(g·r⁻¹)·(u·r⁻¹) (single-view-attention.ts's functions,
 *       the oracle's too)
 *   P1 → P0  s, re-shared (uniform over the ring); P0 undoes the permutation; MulW(down) follows
 *
 * What P1 sees is what the paper's schedule showed it, less the normalised residual: the residual
 * rows (as the paper's RMSNorm step showed them) and the gate/up values, under fresh permutations;
 * in a prefill it also sees which gate/up values belong to the same (unknown) row.
 */
import type { ModelConfig } from '../../model/model-description.js';
import type { FixedPointPlan, LayerPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { ringGateUpBlocks } from '../../plaintext/fixed-point/ring-tensors.js';
import { deferredSwiglu, rowInverseRms } from '../../plaintext/fixed-point/single-view-attention.js';
import { Permutation } from '../permutations/permutation.js';
import { requireKey, type PartyContext } from '../session/party-context.js';
import { ringMulW, type RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import { ringLocal, type RingShared } from '../subprotocols/ring/ring-shared.js';
import { ringViewStep } from '../subprotocols/ring/ring-view-step.js';
import { deferredGateUpViewWidth, residualViewWidth } from '../../model/fixed-point/view-width.js';

/** rows × cols: row r goes to rho[r], its columns under a fresh permutation of their own (P0 and P2, from k02). */
function rowsAndColumns(ctx: PartyContext, label: string, rho: Uint32Array, cols: number): Permutation {
  const prg = requireKey(ctx.k02, 'k02', ctx.role).prg(label);
  const rows = rho.length;
  const dest = new Uint32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const p = prg.permutation(cols);
    for (let c = 0; c < cols; c++) dest[r * cols + c] = rho[r]! * cols + p[c]!;
  }
  return Permutation.fromDestinations(dest);
}

/** The step's permutations, drawn once per step (the gate/up one also carries the output back). */
function stepPermutations(ctx: PartyContext, rows: number, c: ModelConfig): (step: number) => { x: Permutation; gateUp: Permutation } {
  let drawn: { step: number; x: Permutation; gateUp: Permutation } | undefined;
  return (step) => {
    if (drawn?.step !== step) {
      const rho = requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/rho`).permutation(rows);
      drawn = { step, x: rowsAndColumns(ctx, `${step}/pi/x`, rho, c.dim), gateUp: rowsAndColumns(ctx, `${step}/pi/gate-up`, rho, c.hiddenDim) };
    }
    return drawn;
  };
}

/** W_down · SwiGLU(W_gu · x / rms(x)) on the residual x [rows, dim] at plan.residual (not added to x). */
export async function ringDeferredFfn(ctx: PartyContext, c: ModelConfig, plan: FixedPointPlan, L: LayerPlan, gateUpWeight: RingRoleWeight, downWeight: RingRoleWeight, x: RingShared, rows: number): Promise<RingShared> {
  const R = plan.residual;
  const gateUp = await ringMulW(ctx, gateUpWeight, x, rows, R);
  const blocks = ringLocal(gateUp, 2 * rows * c.hiddenDim, (s) => ringGateUpBlocks(s, rows, c.hiddenDim));
  const perms = stepPermutations(ctx, rows, c);
  const [activated] = await ringViewStep(
    ctx,
    [
      { x, permutation: (step) => perms(step).x, width: residualViewWidth(plan) },
      { x: blocks, permutation: (step) => perms(step).gateUp, width: deferredGateUpViewWidth(plan, L) },
    ],
    [{ size: rows * c.hiddenDim, permutation: (step) => perms(step).gateUp }],
    async ([xView, guView]) => {
      const inv = rowInverseRms(xView!, rows, c.dim, c.normEps, R);
      return [deferredSwiglu(guView!, rows, c.hiddenDim, inv, R + L.gateUp, L.ffn)];
    },
    'ffn-view',
  );
  return ringMulW(ctx, downWeight, activated!, rows, L.ffn);
}
