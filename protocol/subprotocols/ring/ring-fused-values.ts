/**
 * Softmax and P·V without P·V's own round trip, over Z_2^64 (issue 12), for the paper-exposure
 * (beaver) schedule of the `ring64` profile. The Beaver P·V (ring-mul-kv.ts ringValuesKV) opens
 * P − V_p in one more flight each way, and MulW(o)'s D must wait for it; here the user has its
 * P·V share when it sends the softmax return, so MulW(o)'s D goes in the SAME flight and two
 * one-way flights per layer disappear (10 → 8 on stories260K decode). Exposure is the paper's:
 * the user sees the permuted scores (as before) and one more uniform offline message; the engine
 * sees one more uniform message. Whether a step is fused is the plan's one rule
 * (model/fixed-point/plan-fused-values.ts).
 *
 * Notation (protocol.md; ring-view-step.ts, ring-mul-kv.ts). P is the packed causal triangle
 * (ring-causal.ts) of N entries, row t = h·rows + r holding the first n_r = start + r + 1 keys of
 * query row r, head h. The softmax step's permutation π (k02: P0 and P2) keeps each query row r
 * together: it moves row t to the row slot σ(t) = h′·rows + r (heads shuffled within r,
 * causalRowDestinations) and permutes its n_r entries. The softmax Elem leaves, with A′, B′ from
 * k12 and m = η − A′ = π(P) − A′ the user's return (η its softmax on the permuted view):
 *   P = P_e + B′,   P_e = π⁻¹(m) + Δ′ (the engine's share),   Δ′ = π⁻¹(A′) − B′ (P2 → P0).
 * The V memory is V = E + U0 + U1 (E: the opened rows, held by both, the new row opened in this
 * layer's scores flight; U0 from k02, U1 from k12, the value masks of ringScoresKV). With
 * f(V, P)[r, h] = Σ_c P[h, r, c] · V[c, g(h)] (GQA: g(h) = ⌊h / (nHeads/nKvHeads)⌋), f bilinear:
 *   f(V, P) = f(E + U0, P_e)                       P0, local
 *           + f(E + U1, B′)                        P1, local
 *           + f(U0, B′) + f(U1, Δ′)                P2 knows both: shares
 *           + f(U1, π⁻¹(m)).
 * The last term is linear in m, which the user holds in permuted order, and U1, which only the
 * user and P2 hold. Let T[π(i)] = U1[c_i, g(h_i)] (row i = (h_i, r_i, c_i) of P, headDim wide:
 * U1's value rows laid out as P's entries, per query head, then permuted by π). Then
 *   f(U1, π⁻¹(m))[r, h] = Y[σ(h·rows + r)],   Y[q] = Σ_{j in permuted row q} m[j] · T[j].
 * T itself would show the user π (it knows U1), so P2 sends it masked by R′, uniform from k02:
 *   M = T + R′ (P2 → P1, offline, N · headDim words),
 * and Y = Ŷ − Z with Ŷ[q] = Σ_j m[j] · M[j] (P1) and Z[q] = Σ_j m[j] · R′[j] (P0, no bytes).
 * Y is in permuted row order, and σ is P0's and P2's only, so it travels to P0 masked by S,
 * uniform from k12, and P0 puts it back in order; P2 compensates σ⁻¹(S) in its shares:
 *   P1 → P0 (with the softmax return m): Ŷ + S;
 *   P0: z0 = f(E + U0, P_e) + σ⁻¹(Ŷ + S − Z) + W0,   W0 from k02;
 *   P1: z1 = f(E + U1, B′) + W1;
 *   P2 → P1 (offline): W1 = f(U, B′) + f(U1, Δ′ − B′) − σ⁻¹(S) − W0, U = U0 + U1
 * (f(U0, B′) = f(U, B′) − f(U1, B′)). Then z0 + z1 = f(V, P_e) + f(V, B′) = f(V, P) exactly
 * (mod 2^64), the same ring values the Beaver product gives, so private == the fixed-point
 * oracle bit for bit with the same plan. z1 depends on E only (known since the scores flight),
 * so MulW(o)'s D = z1 − V_o leaves with m and Ŷ + S.
 *
 * What each party sees that it did not before. P1: M = T + R′ and W1 (R′, W0 uniform on the
 * ring, unknown to P1, independent: both uniform whatever U1, π and the data). P0: Ŷ + S (S
 * uniform, unknown to P0). P2: nothing online. Gone: the Beaver opening of P − V_p each way.
 * Window masks and soft-caps act inside the scores and the softmax (P's masked entries are
 * exactly 0) and change nothing here.
 */
import type { ComputeBackend } from '../../../compute/compute-backend.js';
import { yieldIfDue } from '../../../compute/event-loop-slices.js';
import { ringMatmulRing } from '../../../compute/ring-gemm.js';
import { ringAdd, ringAddInto, ringSub, words, type Ring } from '../../../compute/ring64.js';
import { ringAttentionValues, type RingAttentionShape } from '../../../plaintext/fixed-point/ring-attention.js';
import { ringMask } from '../../masks/ring-masks.js';
import type { Permutation } from '../../permutations/permutation.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { causalRowDestinations, causalRowOffsets, causalSize, unpackCausal, type CausalShape } from './ring-causal.js';
import { ringCausalSoftmaxStep } from './ring-causal-softmax.js';
import type { RingKvMemory } from './ring-mul-kv.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';
import { inRingSlices, RING_SLICE_ELEMENTS, ringAddInSlices, ringMaskInSlices } from './ring-slices.js';

/** The softmax step's public parameters (ring-causal-softmax.ts). */
export interface FusedSoftmax {
  scale: number;
  inExp: number;
  outExp: number;
  softcap?: number | undefined;
}

/** U1's value rows laid out as P's packed entries: row (h, r, c) of the result is U1[c, g(h)] ([N, headDim]); in slices, a packed row at a time. */
async function valueRowsPerEntry(u: Ring, s: CausalShape, shape: RingAttentionShape): Promise<Ring> {
  const hd = shape.headDim;
  const kvWidth = shape.nKvHeads * hd;
  const group = shape.nHeads / shape.nKvHeads;
  const out = new BigUint64Array(causalSize(s) * hd);
  const src = words(u);
  const dst = words(out);
  let o = 0;
  for (let h = 0; h < s.heads; h++) {
    const g = Math.floor(h / group);
    for (let r = 0; r < s.rows; r++) {
      await yieldIfDue();
      for (let c = 0; c < s.start + r + 1; c++) {
        const from = 2 * (c * kvWidth + g * hd);
        for (let i = 0; i < 2 * hd; i++) dst[2 * o * hd + i] = src[from + i]!;
        o++;
      }
    }
  }
  return out;
}

/** Rows of `width` moved as π moves entries: out[π(i)] = x[i]; in slices of RING_SLICE_ELEMENTS words. */
async function permuteRows(p: Permutation, x: Ring, width: number): Promise<Ring> {
  const out = new BigUint64Array(x.length);
  const src = words(x);
  const dst = words(out);
  await inRingSlices(p.length, (a, b) => {
    for (let i = a; i < b; i++) {
      const from = 2 * i * width;
      const to = 2 * p.dest[i]! * width;
      for (let k = 0; k < 2 * width; k++) dst[to + k] = src[from + k]!;
    }
  }, Math.max(1, Math.floor(RING_SLICE_ELEMENTS / width)));
  return out;
}

/** Y[q] = Σ_{j in packed row q} m[j] · M[j] ([heads·rows, headDim]), exact mod 2^64. */
async function rowWeightedSums(backend: ComputeBackend, m: Ring, M: Ring, s: CausalShape, hd: number): Promise<Ring> {
  const off = causalRowOffsets(s);
  const n = s.heads * s.rows;
  const out = new BigUint64Array(n * hd);
  for (let q = 0; q < n; q++) {
    const a = off[q]!;
    const b = off[q + 1]!;
    out.set(await ringMatmulRing(backend, m.subarray(a, b), 1, b - a, M.subarray(a * hd, b * hd), hd), q * hd);
  }
  return out;
}

/** σ⁻¹: [heads·rows, headDim] in permuted row slots → [rows, nHeads·headDim] in head order. */
function rowsInHeadOrder(y: Ring, sigma: Uint32Array, s: CausalShape, hd: number): Ring {
  const width = s.heads * hd;
  const out = new BigUint64Array(s.rows * width);
  for (let h = 0; h < s.heads; h++) {
    for (let r = 0; r < s.rows; r++) {
      const q = sigma[h * s.rows + r]!;
      out.set(y.subarray(q * hd, (q + 1) * hd), r * width + h * hd);
    }
  }
  return out;
}

/**
 * Softmax over the scores' causal triangle, then shares of P·V over the whole V memory, in the
 * flights of the softmax alone (see the file comment). Input: scores [heads, rows, keys] (causal
 * and window masks applied), memory with this step's rows appended; output: P·V [rows, nHeads·headDim].
 */
export async function ringFusedSoftmaxValues(ctx: PartyContext, shape: RingAttentionShape, memory: RingKvMemory, scores: RingShared, causal: CausalShape, softmax: FusedSoftmax): Promise<RingShared> {
  const { probs, ret, permutation } = await ringCausalSoftmaxStep(ctx, scores, causal, softmax.scale, softmax.inExp, softmax.outExp, softmax.softcap);
  const step = nextStep(ctx);
  const { backend } = ctx;
  const bits = ctx.profile.ringMaskBits;
  const label = (what: string) => `${step}/${what}`;
  const keys = memory.length;
  const hd = shape.headDim;
  const n = causalSize(causal);
  const rows = causal.rows;
  const outSize = rows * shape.nHeads * hd;
  const ySize = causal.heads * rows * hd;
  if (causal.heads !== shape.nHeads || causal.start + rows !== keys) throw new RangeError(`fused P·V: causal shape ${JSON.stringify(causal)} does not match ${shape.nHeads} heads over ${keys} keys`);
  const f = (V: Ring, P: Ring) => ringAttentionValues(backend, shape, V, keys, unpackCausal(P, causal), rows);
  const out: RingShared = { meta: { offlineKnown: false }, share: undefined, size: outSize };

  switch (ctx.role) {
    case 'dealer': {
      const k02 = requireKey(ctx.k02, 'k02', ctx.role);
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const [deltaPrime] = ret.corrections ?? [];
      const [bPrime] = ret.masks ?? [];
      if (!permutation || !deltaPrime || !bPrime) throw new Error('fused P·V: the softmax step left no permutation or corrections');
      if (!memory.keepUserValueMask || memory.userValueMask.rows !== keys) throw new Error('fused P·V: the dealer kept no user value mask for this memory');
      const U1 = memory.userValueMask.view();
      const moved = await permuteRows(permutation, await valueRowsPerEntry(U1, causal, shape), hd);
      const M = await ringAddInSlices(moved, await ringMaskInSlices(k02.prg(label('R')), n * hd, bits), moved);
      const S = ringMask(k12.prg(label('S')), ySize, bits);
      const W1 = await f(memory.valueMask.view(), bPrime);
      ringAddInto(W1, await f(U1, ringSub(deltaPrime, bPrime)));
      ringSub(W1, rowsInHeadOrder(S, causalRowDestinations(permutation, causal), causal, hd), W1);
      ringSub(W1, ringMask(k02.prg(label('W0')), outSize, bits), W1);
      ctx.net.send('gateway', MessageKind.FusedValuesCorrection, step, [M, W1], true);
      await ctx.net.flush();
      return out;
    }
    case 'gateway': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const [m] = ret.returned ?? [];
      if (!m) throw new Error('fused P·V: the softmax step left no return');
      const [M, W1] = expectRings(await ctx.net.receive('dealer', MessageKind.FusedValuesCorrection, step), [n * hd, outSize], 'fused values correction');
      const S = ringMask(k12.prg(label('S')), ySize, bits);
      ctx.net.send('engine', MessageKind.FusedValuesInput, step, [ringAddInto(await rowWeightedSums(backend, m, M!, causal, hd), S)]);
      ctx.ringViewTap?.(step, 'fused-values', ringSub(new BigUint64Array(ySize), S)); // P0 holds Y + S: its mask is −S
      const z = await f(ringAdd(memory.openedValues.view(), memory.valueMask.view()), requireRingShare(probs, ctx.role));
      out.share = ringAddInto(z, W1!);
      return out;
    }
    case 'engine': {
      const k02 = requireKey(ctx.k02, 'k02', ctx.role);
      const [m] = ret.returned ?? [];
      if (!m || !permutation) throw new Error('fused P·V: the softmax step left no return or permutation');
      const Z = await rowWeightedSums(backend, m, await ringMaskInSlices(k02.prg(label('R')), n * hd, bits), causal, hd);
      const [input] = expectRings(await ctx.net.receive('gateway', MessageKind.FusedValuesInput, step), [ySize], 'fused values input');
      const held = ringSub(input!, Z); // Y + S, in permuted row order
      ctx.ringViewTap?.(step, 'fused-values', held);
      const z = await f(ringAdd(memory.openedValues.view(), memory.valueMask.view()), requireRingShare(probs, ctx.role));
      ringAddInto(z, rowsInHeadOrder(held, causalRowDestinations(permutation, causal), causal, hd));
      out.share = ringAddInto(z, ringMask(k02.prg(label('W0')), outSize, bits));
      return out;
    }
  }
}
