/**
 * Diagonal MulW opened to P1, over Z_2^64: P1 learns γ ⊙ s for a shared vector s and a
 * diagonal weight γ that only P0 holds, and nothing else; P0 learns nothing. The embedding
 * pass uses it for the final RMSNorm's γ, which is folded into the LM head everywhere else
 * (protocol.md, "RMSNorm weights") and must stay hidden from P1.
 *
 * It is MulW (protocol.md, "MulW") with f(X, y) = X ⊙ y and a weight mask U that is fresh per
 * call (from k02) instead of per pairing, because γ is not part of the masked model:
 * Offline: V from k12; U and W0 from k02; P2 sends W1 = U ⊙ V − W0 to P1.
 * Online: P1 sends D = s1 − V; P0 sends M = γ − U and z0 = γ ⊙ (s0 + D) + W0 in one frame.
 * Post (P1 only): z0 + M ⊙ V + W1 = γ ⊙ (s − V) + W0 + γ ⊙ V − U ⊙ V + U ⊙ V − W0 = γ ⊙ s.
 * Views: P0 receives D, uniform on the ring. P1 receives M (uniform: U is fresh), W1 (uniform:
 * W0), and z0, which equals γ ⊙ s − M ⊙ V − W1: a function of the result and of what P1
 * already holds. So P1's view adds exactly γ ⊙ s. The dealer sees no data (only masks). One
 * round trip; nothing travels from P2 online.
 */
import { ringHadamard } from '../../../compute/ring-hadamard.js';
import { ringAdd, ringAddInto, ringSub, type Ring } from '../../../compute/ring64.js';
import { ringMask } from '../../masks/ring-masks.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';

/**
 * `gamma`: P0's diagonal weight as ring integers (required at the engine, ignored elsewhere).
 * Returns γ ⊙ s at P1, undefined at P0 and P2.
 */
export async function ringDiagonalOpen(ctx: PartyContext, s: RingShared, gamma?: Ring): Promise<Ring | undefined> {
  const step = nextStep(ctx);
  const n = s.size;
  const bits = ctx.profile.ringMaskBits;
  switch (ctx.role) {
    case 'dealer': {
      const V = ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(`${step}/V`), n, bits);
      const k02 = requireKey(ctx.k02, 'k02', ctx.role);
      const U = ringMask(k02.prg(`${step}/U`), n, bits);
      const W0 = ringMask(k02.prg(`${step}/W0`), n, bits);
      ctx.net.send('gateway', MessageKind.MulWCorrection, step, [ringSub(ringHadamard(U, V), W0)], true);
      await ctx.net.flush();
      return undefined;
    }
    case 'gateway': {
      const s1 = requireRingShare(s, ctx.role);
      const V = ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(`${step}/V`), n, bits);
      ctx.net.send('engine', MessageKind.MulWInput, step, [ringSub(s1, V)], s.meta.offlineKnown);
      ctx.ringViewTap?.(step, 'diagonal-input', V);
      const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.MulWCorrection, step), [n], 'diagonal correction');
      const [M, z0] = expectRings(await ctx.net.receive('engine', MessageKind.EmbeddingOpen, step), [n, n], 'diagonal opening');
      return ringAddInto(ringAddInto(ringHadamard(M!, V), W1!), z0!);
    }
    case 'engine': {
      if (!gamma || gamma.length !== n) throw new Error(`engine: the diagonal weight must have ${n} elements`);
      const k02 = requireKey(ctx.k02, 'k02', ctx.role);
      const U = ringMask(k02.prg(`${step}/U`), n, bits);
      const W0 = ringMask(k02.prg(`${step}/W0`), n, bits);
      const [D] = expectRings(await ctx.net.receive('gateway', MessageKind.MulWInput, step), [n], 'diagonal input');
      const held = ringAdd(requireRingShare(s, ctx.role), D!); // s − V
      ctx.ringViewTap?.(step, 'diagonal-input', held);
      ctx.net.send('gateway', MessageKind.EmbeddingOpen, step, [ringSub(gamma, U), ringAddInto(ringHadamard(gamma, held), W0)]);
      return undefined;
    }
  }
}
