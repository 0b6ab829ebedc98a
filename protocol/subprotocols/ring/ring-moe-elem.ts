/**
 * One Elem for both nonlinear steps of a mixture-of-experts FFN over Z_2^64 (ring-elem.ts's
 * protocol, protocol.md "Elem"), so the router and the experts' SwiGLU share one round trip:
 * both depend only on the FFN's RMSNorm output, and in sequence they would cost two more
 * one-way flights per layer.
 *
 * Input x = [router logits (rows·nExperts) | gate (L) | up (L)], L = rows·nExperts·hiddenDim.
 * π_in = π_R ⊕ (π_F, π_F): a row-wise π_R over the router rows (a fresh permutation of every
 * token's experts, and of the tokens), and one flat π_F over every expert's hidden units, the
 * same on gate and up (paired, as the dense SwiGLU). π_out = π_R ⊕ π_F on the output
 * [gate vector (rows·nExperts) | activations (L)]. π_R and π_F are independent, so the user's
 * view is exactly what two separate Elems would show it: per token the multiset of router
 * logits (and so the gate values), and the multiset of all activations, never which expert
 * holds which, nor which activations belong to the token's selected experts.
 * The output is two shares, each with its own P1 mask (B′_g, B′_a), so the experts' down MulW
 * can still take V = B′_a (nothing sent).
 */
import { widenView } from '../../../plaintext/fixed-point/view-width-check.js';
import { narrowed, residue } from './ring-narrowing.js';
import { ringAdd, ringSub, type Ring } from '../../../compute/ring64.js';
import { swigluFixed } from '../../../plaintext/fixed-point/fixed-point-elem.js';
import { routerGateFixed, type RouterSpec } from '../../../plaintext/fixed-point/ring-moe.js';
import type { Prg } from '../../../crypto/prg.js';
import { ringMask } from '../../masks/ring-masks.js';
import { Permutation } from '../../permutations/permutation.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';

export interface MoeElemSpec {
  router: RouterSpec;
  /** rows · nExperts · hiddenDim. */
  length: number;
  /** SwiGLU input (gate/up) and output exponents. */
  inExp: number;
  outExp: number;
  /** Bytes per element of the Perm flights and Δ (model/fixed-point/view-width.ts moeViewWidth; default 8). */
  width?: number;
}

/** π_in (router ⊕ paired flat) and π_out (router ⊕ flat), from one draw. */
function permutations(prg: Prg, f: MoeElemSpec): { pin: Permutation; pout: Permutation } {
  const nR = f.router.rows * f.router.nExperts;
  const L = f.length;
  const router = Permutation.draw(prg, { kind: 'row-wise', rows: f.router.rows, cols: f.router.nExperts }).dest;
  const flat = Permutation.draw(prg, { kind: 'flat', length: L }).dest;
  const din = new Uint32Array(nR + 2 * L);
  const dout = new Uint32Array(nR + L);
  din.set(router);
  dout.set(router);
  for (let i = 0; i < L; i++) {
    din[nR + i] = nR + flat[i]!;
    din[nR + L + i] = nR + L + flat[i]!;
    dout[nR + i] = nR + flat[i]!;
  }
  return { pin: Permutation.fromDestinations(din), pout: Permutation.fromDestinations(dout) };
}

/** η = f(view) on the user's permuted view (the oracle's order is the identity permutation). */
export function evaluateMoeElem(f: MoeElemSpec, view: Ring): Ring {
  const nR = f.router.rows * f.router.nExperts;
  const out = new BigUint64Array(nR + f.length);
  out.set(routerGateFixed(view.subarray(0, nR), f.router), 0);
  out.set(swigluFixed(view.subarray(nR), f.length, f.inExp, f.outExp), nR);
  return out;
}

function concat(parts: readonly Ring[]): Ring {
  const out = new BigUint64Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Shares of the gate vector [rows, nExperts] and of the activations [rows, nExperts·hiddenDim] from the router logits and the [gate | up] blocks. */
export async function ringMoeElem(ctx: PartyContext, logits: RingShared, blocks: RingShared, f: MoeElemSpec): Promise<{ gates: RingShared; activated: RingShared }> {
  const step = nextStep(ctx);
  const nR = f.router.rows * f.router.nExperts;
  const L = f.length;
  if (logits.size !== nR || blocks.size !== 2 * L) throw new RangeError(`MoE elem: inputs have ${logits.size} and ${blocks.size} elements, expected ${nR} and ${2 * L}`);
  const nIn = nR + 2 * L;
  const nOut = nR + L;
  const bits = ctx.profile.ringMaskBits;
  const width = f.width ?? 8;
  const gLabel = `${step}/B2g`;
  const aLabel = `${step}/B2a`;
  const gates: RingShared = { meta: { offlineKnown: true, p1Mask: gLabel }, share: undefined, size: nR };
  const activated: RingShared = { meta: { offlineKnown: true, p1Mask: aLabel }, share: undefined, size: L };
  const outputMask = (k12: { prg: (label: string) => Prg }) => concat([ringMask(k12.prg(gLabel), nR, bits), ringMask(k12.prg(aLabel), L, bits)]);
  const split = (z: Ring) => {
    gates.share = z.slice(0, nR);
    activated.share = z.slice(nR);
  };
  switch (ctx.role) {
    case 'dealer': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const { pin, pout } = permutations(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), f);
      const A = ringMask(k12.prg(`${step}/A`), nIn, bits);
      const B = ringMask(k12.prg(`${step}/B`), nIn, bits);
      const A2 = ringMask(k12.prg(`${step}/A2`), nOut, bits);
      ctx.net.send('engine', MessageKind.ElemCorrection, step, [narrowed(ringSub(pin.apply(A), B), width), ringSub(pout.invert(A2), outputMask(k12))], true);
      await ctx.net.flush();
      return { gates, activated };
    }
    case 'gateway': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const A = ringMask(k12.prg(`${step}/A`), nIn, bits);
      const B = ringMask(k12.prg(`${step}/B`), nIn, bits);
      const x1 = concat([requireRingShare(logits, ctx.role), requireRingShare(blocks, ctx.role)]);
      ctx.net.send('engine', MessageKind.PermInput, step, [narrowed(ringSub(x1, A), width)], logits.meta.offlineKnown && blocks.meta.offlineKnown);
      const [masked] = expectRings(await ctx.net.receive('engine', MessageKind.PermOutput, step), [nIn], 'MoE elem output', [width]);
      const eta = evaluateMoeElem(f, widenView(ringAdd(masked!, B), width, 'MoE input'));
      const A2 = ringMask(k12.prg(`${step}/A2`), nOut, bits);
      ctx.ringViewTap?.(step, 'perm-input', A);
      ctx.ringViewTap?.(step, 'elem-return', A2);
      ctx.net.send('engine', MessageKind.ElemReturn, step, [ringSub(eta, A2)]);
      split(outputMask(k12));
      return { gates, activated };
    }
    case 'engine': {
      const { pin, pout } = permutations(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), f);
      const [delta, delta2] = expectRings(await ctx.net.receive('dealer', MessageKind.ElemCorrection, step), [nIn, nOut], 'MoE elem correction', [width, 8]);
      const [input] = expectRings(await ctx.net.receive('gateway', MessageKind.PermInput, step), [nIn], 'MoE elem input', [width]);
      const held = ringAdd(concat([requireRingShare(logits, ctx.role), requireRingShare(blocks, ctx.role)]), input!); // x − A (mod 2^(8·width))
      ctx.ringViewTap?.(step, 'perm-input', residue(held, width));
      ctx.net.send('gateway', MessageKind.PermOutput, step, [narrowed(ringAdd(pin.apply(held), delta!), width)]);
      const [ret] = expectRings(await ctx.net.receive('gateway', MessageKind.ElemReturn, step), [nOut], 'MoE elem return');
      ctx.ringViewTap?.(step, 'elem-return', ret!); // η − A′
      split(ringAdd(pout.invert(ret!), delta2!));
      return { gates, activated };
    }
  }
}
