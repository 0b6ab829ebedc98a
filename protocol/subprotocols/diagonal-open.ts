/**
 * Diagonal MulW opened to P1 under the float profiles: the same messages as the ring64 version
 * (ring/ring-diagonal-open.ts, where the derivation is), with real masks. P1 learns γ ⊙ s for a
 * shared vector s and a diagonal weight γ only P0 holds.
 * Offline: V (half-width `vWidth`) from k12; U and W0 from k02; P2 sends W1 = U ⊙ V − W0 to P1.
 * Online: P1 sends D = s1 − V; P0 sends M = γ − U and z0 = γ ⊙ (s0 + D) + W0.
 * Post (P1): z0 + M ⊙ V + W1 = γ ⊙ s.
 * Hiding is statistical, as for every float message: D is s1 − V with V 2^20 times the pooled
 * sum's bound; M hides γ with U uniform on ±weightRatio · 2^GAMMA_BITS (public, never from γ
 * itself: |γ| < 2^GAMMA_BITS is enforced), like the other weights' masks; W0 hides the product.
 */
import { drawMask, roundToDtype } from '../masks/mask-profile.js';
import { nextStep, requireKey, requireShare, type PartyContext, type Shared } from '../session/party-context.js';
import { MessageKind } from '../wire/frame.js';

/** |γ| must stay below 2^GAMMA_BITS (as under ring64, plaintext/fixed-point/ring-pooling.ts). */
const GAMMA_BITS = 4;

function hadamard(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  return out;
}

/** `vWidth`: the mask half-width for s (public); `gamma` at the engine only. Returns γ ⊙ s at P1. */
export async function diagonalOpen(ctx: PartyContext, s: Shared, vWidth: number, gamma?: ArrayLike<number>): Promise<Float64Array | undefined> {
  const step = nextStep(ctx);
  const { profile } = ctx;
  const n = s.size;
  const uWidth = profile.weightRatio * 2 ** GAMMA_BITS;
  const w0Width = profile.productFactor * uWidth * vWidth;
  switch (ctx.role) {
    case 'dealer': {
      const V = drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(`${step}/V`), n, vWidth);
      const k02 = requireKey(ctx.k02, 'k02', ctx.role);
      const U = drawMask(profile, k02.prg(`${step}/U`), n, uWidth);
      const W0 = drawMask(profile, k02.prg(`${step}/W0`), n, w0Width);
      const W1 = hadamard(U, V);
      for (let i = 0; i < n; i++) W1[i] = W1[i]! - W0[i]!;
      ctx.net.send('gateway', MessageKind.MulWCorrection, step, [roundToDtype(profile, W1)], true);
      await ctx.net.flush();
      return undefined;
    }
    case 'gateway': {
      const s1 = requireShare(s, ctx.role);
      const V = drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(`${step}/V`), n, vWidth);
      const D = new Float64Array(n);
      for (let i = 0; i < n; i++) D[i] = s1[i]! - V[i]!;
      ctx.net.send('engine', MessageKind.MulWInput, step, [roundToDtype(profile, D)], s.meta.offlineKnown);
      const [W1] = await ctx.net.receive('dealer', MessageKind.MulWCorrection, step);
      if (!(W1 instanceof Float64Array) || W1.length !== n) throw new Error('diagonal open: bad correction from the dealer');
      const parts = await ctx.net.receive('engine', MessageKind.EmbeddingOpen, step);
      const [M, z0] = parts;
      if (parts.length !== 2 || !(M instanceof Float64Array) || !(z0 instanceof Float64Array) || M.length !== n || z0.length !== n) throw new Error('diagonal open: bad opening from the engine');
      const out = hadamard(M, V);
      for (let i = 0; i < n; i++) out[i] = out[i]! + W1[i]! + z0[i]!;
      return out;
    }
    case 'engine': {
      if (!gamma || gamma.length !== n) throw new Error(`engine: the diagonal weight must have ${n} elements`);
      for (let i = 0; i < n; i++) if (!(Math.abs(gamma[i]!) < 2 ** GAMMA_BITS)) throw new RangeError(`embedding: the final norm's weight ${i} is outside ±2^${GAMMA_BITS}`);
      const k02 = requireKey(ctx.k02, 'k02', ctx.role);
      const U = drawMask(profile, k02.prg(`${step}/U`), n, uWidth);
      const W0 = drawMask(profile, k02.prg(`${step}/W0`), n, w0Width);
      const [D] = await ctx.net.receive('gateway', MessageKind.MulWInput, step);
      if (!(D instanceof Float64Array) || D.length !== n) throw new Error('diagonal open: bad input from the gateway');
      const s0 = requireShare(s, ctx.role);
      const M = new Float64Array(n);
      const z0 = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        M[i] = gamma[i]! - U[i]!;
        z0[i] = gamma[i]! * (s0[i]! + D[i]!) + W0[i]!;
      }
      ctx.net.send('gateway', MessageKind.EmbeddingOpen, step, [roundToDtype(profile, M), roundToDtype(profile, z0)]);
      return undefined;
    }
  }
}
