/**
 * The mixture-of-experts FFN of the `ring64` profile (ModelVariant.moe: Mixtral, Qwen3-MoE's
 * router), shared by the fixed-point oracle and the private program so both build the very same
 * integers. It is the dense-evaluation form the private protocol runs (protocol/schedule/ring-moe-ffn.ts): every expert is evaluated on every token and the outputs are combined by the gate
 * vector g, which is zero outside the token's top-k:
 *
 *   r = n(h)·Routerᵀ (exponent plan.moe.logits), g = topkGate(r) (exponent plan.moe.gate),
 *   a_e = silu(W1_e·n(h)) ⊙ W3_e·n(h) (exponent plan.ffn = R − down − gate),
 *   y_e = W2_e·a_e (exponent R − gate),  FFN(h) = Σ_e g_e · y_e (exponent R, no truncation).
 *
 * The gate is a function of the multiset of a token's router logits only (so the user can
 * evaluate it on a view permuted over the experts): experts whose logit is at least the k-th
 * largest are selected (an exact tie at the boundary selects every tied expert, where torch.topk
 * would take the lower index; logits are integers here, so this needs an exact integer tie),
 * p_e = exp(r_e − max r) over the sorted-order sum of the selected (normalizeTopK) or of all
 * experts (softmax-then-top-k without renormalisation).
 */
import { checkViewWidth } from './view-width-check.js';
import { words, type Ring } from '../../compute/ring64.js';
import type { ModelConfig } from '../../model/model-description.js';
import { decodeChecked, encodeChecked, sortedSum, swigluFixed } from './fixed-point-elem.js';
import { ringColumns, ringGateUpBlocks } from './ring-tensors.js';

/** The router step's parameters (public: from the config and the plan). */
export interface RouterSpec {
  rows: number;
  nExperts: number;
  topK: number;
  normalizeTopK: boolean;
  inExp: number;
  outExp: number;
}

/** The gate vectors [rows, nExperts] of router logits [rows, nExperts] (see the file comment). */
export function routerGateFixed(view: Ring, f: RouterSpec): Ring {
  const { rows, nExperts: n, topK } = f;
  if (view.length !== rows * n) throw new RangeError(`router gate: ${view.length} logits, expected ${rows}x${n}`);
  if (!(topK >= 1 && topK <= n)) throw new RangeError(`router gate: top-k ${topK} outside 1..${n}`);
  const x = decodeChecked(view, f.inExp, 'router logits');
  const out = new Float64Array(x.length);
  const sorted = new Float64Array(n);
  const terms = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * n, (r + 1) * n);
    sorted.set(row);
    sorted.sort();
    const max = sorted[n - 1]!;
    const threshold = sorted[n - topK]!;
    let m = 0;
    for (let e = 0; e < n; e++) if (!f.normalizeTopK || row[e]! >= threshold) terms[m++] = Math.exp(row[e]! - max);
    const inv = 1 / sortedSum(terms.subarray(0, m));
    for (let e = 0; e < n; e++) out[r * n + e] = row[e]! >= threshold ? Math.exp(row[e]! - max) * inv : 0;
  }
  return encodeChecked(out, f.outExp, 'router gate');
}

const TWO16 = 65536;

/**
 * The combination z[r, d] = Σ_e g[r, e] · y[r, e·dim + d] mod 2^64 (g [rows, nExperts], y
 * [rows, nExperts·dim]): the bilinear map of the gate Beaver product. Exact: 16-bit limbs,
 * low 64 bits only.
 */
export function gateCombine(g: Ring, y: Ring, rows: number, nExperts: number, dim: number): Ring {
  if (g.length !== rows * nExperts || y.length !== rows * nExperts * dim) throw new RangeError('gate combine: operand sizes do not match');
  const gw = words(g);
  const yw = words(y);
  const out = new BigUint64Array(rows * dim);
  const z = words(out);
  const t = new Float64Array(4);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dim; d++) {
      // Σ_e over at most 2^16 experts of 16-bit limb products: each limb position < 4·2^16·2^32 < 2^53.
      let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (let e = 0; e < nExperts; e++) {
        const gi = 2 * (r * nExperts + e);
        const yi = 2 * ((r * nExperts + e) * dim + d);
        const glo = gw[gi]!, ghi = gw[gi + 1]!, ylo = yw[yi]!, yhi = yw[yi + 1]!;
        const a0 = glo & 0xffff, a1 = glo >>> 16, a2 = ghi & 0xffff, a3 = ghi >>> 16;
        const b0 = ylo & 0xffff, b1 = ylo >>> 16, b2 = yhi & 0xffff, b3 = yhi >>> 16;
        t0 += a0 * b0;
        t1 += a0 * b1 + a1 * b0;
        t2 += a0 * b2 + a1 * b1 + a2 * b0;
        t3 += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
      }
      t[0] = t0; t[1] = t1; t[2] = t2; t[3] = t3;
      combine16(z, r * dim + d, t);
    }
  }
  return out;
}

/** Carries limb sums t_k (value Σ t_k 2^(16k), each a non-negative exact integer < 2^53) into word pair i, mod 2^64. */
function combine16(z: Uint32Array, i: number, t: Float64Array): void {
  let carry = 0;
  const limb = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    const v = t[k]! + carry;
    const low = v % TWO16;
    limb[k] = low;
    carry = (v - low) / TWO16;
  }
  z[2 * i] = (limb[0]! + limb[1]! * TWO16) >>> 0;
  z[2 * i + 1] = (limb[2]! + limb[3]! * TWO16) >>> 0;
}

/** Writes x [rows, width] into columns [from, from + width) of out [rows, stride]. */
export function ringPlaceColumns(out: Ring, x: Ring, rows: number, stride: number, from: number, width: number): void {
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * width, (r + 1) * width), r * stride + from);
}

/** What the oracle's MoE needs from its host: the exact linear maps by weight name. */
export type RingLinear = (name: string, x: Ring, rows: number, inExp: number) => Promise<Ring>;

export interface MoeLayerExponents {
  ffnNorm: number;
  gateUp: number;
  ffn: number;
  down: number;
  moe: { router: number; logits: number; gate: number };
}

/** Weight names of the MoE FFN (model/fixed-point/folded-weights.ts weightName). */
export interface MoeWeightNames {
  router: string;
  gateUp: string;
  expertDown: (expert: number) => string;
}

/** The fixed-point oracle's MoE FFN of normalised rows `normed` [rows, dim] (exponent L.ffnNorm): FFN(h) at the residual exponent. */
/** `viewWidth`: the private run's width of the step's Perm message (model/fixed-point/view-width.ts moeViewWidth); the oracle checks both inputs fit it. */
export async function fixedPointMoeFfn(linear: RingLinear, names: MoeWeightNames, normed: Ring, rows: number, c: ModelConfig, L: MoeLayerExponents, viewWidth = 8): Promise<Ring> {
  const moe = c.variant?.moe;
  if (!moe) throw new Error('fixedPointMoeFfn: the model has no mixture of experts');
  const { nExperts: n } = moe;
  const h = c.hiddenDim;
  const logits = await linear(names.router, normed, rows, L.ffnNorm);
  checkViewWidth(logits, viewWidth, 'MoE input');
  const gates = routerGateFixed(logits, { rows, nExperts: n, topK: moe.topK, normalizeTopK: moe.normalizeTopK, inExp: L.moe.logits, outExp: L.moe.gate });
  const gateUp = await linear(names.gateUp, normed, rows, L.ffnNorm);
  checkViewWidth(gateUp, viewWidth, 'MoE input');
  const activated = swigluFixed(ringGateUpBlocks(gateUp, rows, n * h), rows * n * h, L.ffnNorm + L.gateUp, L.ffn);
  const experts = new BigUint64Array(rows * n * c.dim);
  for (let e = 0; e < n; e++) ringPlaceColumns(experts, await linear(names.expertDown(e), ringColumns(activated, rows, n * h, e * h, h), rows, L.ffn), rows, n * c.dim, e * c.dim, c.dim);
  return gateCombine(gates, experts, rows, n, c.dim);
}
