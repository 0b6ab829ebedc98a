/**
 * Grouped MulW over Z_2^64: G weights X_g [outG, inG] applied to the G column groups of one
 * shared input y [rows, G·inG], z[:, g·outG..] = f(X_g, y[:, g·inG..]); the experts' down
 * projections of a mixture-of-experts FFN (every expert on every token, protocol/schedule/ring-moe-ffn.ts). The messages are ringMulW's (ring-mul-w.ts) over the whole input: one mask V for
 * all groups (V = B′ after an Elem: nothing sent online), W0 from k02, P2 sends W1 = f(U, V) − W0.
 * Every weight has its own U (its own pairing mask), so the correctness and uniformity arguments
 * are those of MulW, group by group.
 */
import type { ComputeBackend } from '../../../compute/compute-backend.js';
import { ringLinearPlanar, type PlanarWeight } from '../../../compute/ring-gemm.js';
import type { Ring } from '../../../compute/ring64.js';
import { ringPlaceColumns } from '../../../plaintext/fixed-point/ring-moe.js';
import { ringColumns } from '../../../plaintext/fixed-point/ring-tensors.js';
import type { PartyContext } from '../../session/party-context.js';
import { ringMulWWith, roleData, type RingRoleWeight } from './ring-mul-w.js';
import type { RingShared } from './ring-shared.js';

function groupShape(ws: readonly RingRoleWeight[]): { outG: number; inG: number } {
  const first = ws[0];
  if (!first) throw new RangeError('grouped MulW: no weights');
  const { outDim: outG, inDim: inG } = first.spec;
  for (const w of ws) {
    if (w.spec.outDim !== outG || w.spec.inDim !== inG) throw new RangeError(`grouped MulW: ${w.spec.name} is ${w.spec.outDim}x${w.spec.inDim}, not ${outG}x${inG}`);
    if (w.spec.hasBias) throw new RangeError(`grouped MulW: ${w.spec.name} has a bias (not supported)`);
  }
  return { outG, inG };
}

async function groupedLinear(backend: ComputeBackend, x: Ring, rows: number, data: readonly PlanarWeight[], outG: number, inG: number): Promise<Ring> {
  const G = data.length;
  const out = new BigUint64Array(rows * G * outG);
  for (let g = 0; g < G; g++) ringPlaceColumns(out, await ringLinearPlanar(backend, ringColumns(x, rows, G * inG, g * inG, inG), rows, data[g]!, outG, inG), rows, G * outG, g * outG, outG);
  return out;
}

export async function ringMulWGrouped(ctx: PartyContext, ws: readonly RingRoleWeight[], y: RingShared, rows: number): Promise<RingShared> {
  const { outG, inG } = groupShape(ws);
  const G = ws.length;
  const data = ws.map((w) => roleData(w, ctx.role));
  return ringMulWWith(ctx, y, rows * G * inG, rows * G * outG, 'grouped', (x) => groupedLinear(ctx.backend, x, rows, data, outG, inG));
}
