/**
 * The gate combination of a mixture-of-experts FFN over Z_2^64 (protocol/schedule/ring-moe-ffn.ts): z[r] = Σ_e g[r, e] · y[r, e] with both the gate vector g [rows, nExperts] and the
 * expert outputs y [rows, nExperts·dim] secret-shared, a Beaver product on the bilinear map
 * f = gateCombine (plaintext/fixed-point/ring-moe.ts), exact mod 2^64.
 *
 * Offline: A = A0 (k02) + A1 (k12) masks g, B = B0 (k02) + B1 (k12) masks y, W0 from k02;
 *   P2 sends W1 = f(A, B) − W0 to P1 (KvCorrection).
 * Online (one exchange, both directions at once, KvOpening): P0 sends (g0 − A0, y0 − B0), P1
 *   sends (g1 − A1, y1 − B1); both get E = g − A and F = y − B, uniform over the ring to
 *   either party (each lacks the other's half of A and B).
 *   z0 = f(E, F + B0) + f(A0, F) + W0,   z1 = f(E, B1) + f(A1, F) + W1.
 * Post: z0 + z1 = f(E + A, F + B) = f(g, y). Exponents add (gate + expert output = residual).
 */
import { ringAdd, ringAddInto, ringSub } from '../../../compute/ring64.js';
import { gateCombine } from '../../../plaintext/fixed-point/ring-moe.js';
import { ringMask } from '../../masks/ring-masks.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';

export async function ringGateCombine(ctx: PartyContext, g: RingShared, y: RingShared, rows: number, nExperts: number, dim: number): Promise<RingShared> {
  const step = nextStep(ctx);
  const gSize = rows * nExperts;
  const ySize = rows * nExperts * dim;
  const outSize = rows * dim;
  if (g.size !== gSize || y.size !== ySize) throw new RangeError(`gate combine: operands have ${g.size} and ${y.size} elements, expected ${gSize} and ${ySize}`);
  const label = (what: string) => `${step}/${what}`;
  const bits = ctx.profile.ringMaskBits;
  const f = (a: BigUint64Array, b: BigUint64Array) => gateCombine(a, b, rows, nExperts, dim);
  const out: RingShared = { meta: { offlineKnown: false }, share: undefined, size: outSize };

  if (ctx.role === 'dealer') {
    const k02 = requireKey(ctx.k02, 'k02', ctx.role);
    const k12 = requireKey(ctx.k12, 'k12', ctx.role);
    const A = ringAdd(ringMask(k02.prg(label('A')), gSize, bits), ringMask(k12.prg(label('A')), gSize, bits));
    const B = ringAdd(ringMask(k02.prg(label('B')), ySize, bits), ringMask(k12.prg(label('B')), ySize, bits));
    ctx.net.send('gateway', MessageKind.KvCorrection, step, [ringSub(f(A, B), ringMask(k02.prg(label('W0')), outSize, bits))], true);
    await ctx.net.flush();
    return out;
  }

  const isEngine = ctx.role === 'engine';
  const key = requireKey(isEngine ? ctx.k02 : ctx.k12, isEngine ? 'k02' : 'k12', ctx.role);
  const Ai = ringMask(key.prg(label('A')), gSize, bits);
  const Bi = ringMask(key.prg(label('B')), ySize, bits);
  const mine = [ringSub(requireRingShare(g, ctx.role), Ai), ringSub(requireRingShare(y, ctx.role), Bi)];
  const peer = isEngine ? 'gateway' : 'engine';
  ctx.net.send(peer, MessageKind.KvOpening, step, mine, !isEngine && g.meta.offlineKnown && y.meta.offlineKnown);
  const theirs = expectRings(await ctx.net.receive(peer, MessageKind.KvOpening, step), [gSize, ySize], 'gate combine opening');
  if (ctx.ringViewTap) {
    // Engine: its share plus the gateway's half (g − A1, y − B1); gateway: A1, B1 (its own masks).
    ctx.ringViewTap(step, 'gate-opening', isEngine ? ringAdd(requireRingShare(g, ctx.role), theirs[0]!) : Ai);
    ctx.ringViewTap(step, 'expert-opening', isEngine ? ringAdd(requireRingShare(y, ctx.role), theirs[1]!) : Bi);
  }
  const E = ringAdd(mine[0]!, theirs[0]!);
  const F = ringAdd(mine[1]!, theirs[1]!);
  if (isEngine) {
    const z = ringAddInto(f(E, ringAdd(F, Bi)), f(Ai, F));
    out.share = ringAddInto(z, ringMask(key.prg(label('W0')), outSize, bits));
  } else {
    const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.KvCorrection, step), [outSize], 'gate combine correction');
    out.share = ringAddInto(ringAddInto(f(E, Bi), f(Ai, F)), W1!);
  }
  return out;
}
