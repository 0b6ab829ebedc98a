/**
 * MulKV over Z_2^64 (protocol.md, "MulKV"): Beaver products of shared operands with the growing
 * K/V memories, for the `ring64` profile. The bilinear maps are the oracle's own
 * (plaintext/fixed-point/ring-attention.ts: integer RoPE folded into the scores), so
 * z0 + z1 = f(memory, y) exactly.
 *
 * New cache rows are opened once as E = row − U_row, U_row = U0 (k02) + U1 (k12); the fresh
 * operand as F = y − V, V = V0 (k02) + V1 (k12); every mask uniform over the ring, so each
 * opening is uniform whatever the data. P2 sends W1 = f(U_all, V) − W0 (W0 from k02) to P1:
 *   z0 = f(E_all + U0_all, F) + f(E_all, V0) + W0,   z1 = f(U1_all, F) + f(E_all, V1) + W1.
 * Scores: P0 adds −2^62 at causally masked positions (decoded as −∞ by the user's softmax).
 */
import { ringAdd, ringAddInto, ringSub, type Ring } from '../../../compute/ring64.js';
import { addCausalMask, ringAttentionScores, ringAttentionValues, type RingAttentionShape, type RingRope } from '../../../plaintext/fixed-point/ring-attention.js';
import { RingRows } from '../../../plaintext/fixed-point/ring-rows.js';
import { ringMask } from '../../masks/ring-masks.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';
import { causalSize, unpackCausal, type CausalShape } from './ring-causal.js';
import { ringAddInSlices, ringMaskInSlices, ringSubInSlices } from './ring-slices.js';

/** One layer's attention memory as one party holds it (E rows at P0 and P1, its part of U). */
export class RingKvMemory {
  readonly openedKeys: RingRows;
  readonly openedValues: RingRows;
  readonly keyMask: RingRows;
  readonly valueMask: RingRows;
  /**
   * P2 only: the user's part U1 (k12) of the value mask, beside the sum U = U0 + U1 in
   * valueMask; the fused P·V step needs it alone (ring-fused-values.ts). Kept only with
   * `keepUserValueMask` (a plan that fuses P·V anywhere); grows on use.
   */
  readonly userValueMask: RingRows;
  constructor(
    readonly kvDim: number,
    capacity: number,
    readonly keepUserValueMask = false,
  ) {
    this.openedKeys = new RingRows(kvDim, capacity);
    this.openedValues = new RingRows(kvDim, capacity);
    this.keyMask = new RingRows(kvDim, capacity);
    this.valueMask = new RingRows(kvDim, capacity);
    this.userValueMask = new RingRows(kvDim, 0);
  }
  get length(): number {
    return this.keyMask.rows;
  }
  /** Keeps the first `length` positions; a party that holds no opened rows (the dealer) has them empty. */
  truncate(length: number): void {
    for (const m of [this.keyMask, this.valueMask]) m.truncate(length);
    for (const m of [this.openedKeys, this.openedValues, this.userValueMask]) if (m.rows > 0) m.truncate(length);
  }
  get bytes(): number {
    return this.openedKeys.bytes + this.openedValues.bytes + this.keyMask.bytes + this.valueMask.bytes + this.userValueMask.bytes;
  }
}

/** Appends the new K/V rows (unrotated) and returns shares of the scores [nHeads, rows, keys], causal mask applied. */
export async function ringScoresKV(
  ctx: PartyContext,
  shape: RingAttentionShape,
  rope: RingRope,
  memory: RingKvMemory,
  q: RingShared,
  k: RingShared,
  v: RingShared,
  rows: number,
  start: number,
): Promise<RingShared> {
  const step = nextStep(ctx);
  const { backend } = ctx;
  const kvSize = rows * memory.kvDim;
  const qSize = rows * shape.nHeads * shape.headDim;
  const keys = memory.length + rows;
  const outSize = shape.nHeads * rows * keys;
  const label = (what: string) => `${step}/${what}`;
  const f = (K: Ring, Q: Ring) => ringAttentionScores(backend, shape, rope, K, keys, Q, rows, start);
  const out: RingShared = { meta: { offlineKnown: false }, share: undefined, size: outSize };

  if (ctx.role === 'dealer') {
    const k02 = requireKey(ctx.k02, 'k02', ctx.role);
    const k12 = requireKey(ctx.k12, 'k12', ctx.role);
    memory.keyMask.append(ringAdd(ringMask(k02.prg(label('UK')), kvSize, ctx.profile.ringMaskBits), ringMask(k12.prg(label('UK')), kvSize, ctx.profile.ringMaskBits)));
    const userValueMask = ringMask(k12.prg(label('UV')), kvSize, ctx.profile.ringMaskBits);
    memory.valueMask.append(ringAdd(ringMask(k02.prg(label('UV')), kvSize, ctx.profile.ringMaskBits), userValueMask));
    if (memory.keepUserValueMask) memory.userValueMask.append(userValueMask);
    const V = ringAdd(ringMask(k02.prg(label('Vq')), qSize, ctx.profile.ringMaskBits), ringMask(k12.prg(label('Vq')), qSize, ctx.profile.ringMaskBits));
    const scoresOfMasks = await f(memory.keyMask.view(), V);
    const W1 = await ringSubInSlices(scoresOfMasks, await ringMaskInSlices(k02.prg(label('W0')), outSize, ctx.profile.ringMaskBits), scoresOfMasks);
    ctx.net.send('gateway', MessageKind.KvCorrection, step, [W1], true);
    await ctx.net.flush();
    return out;
  }

  const isEngine = ctx.role === 'engine';
  const key = requireKey(isEngine ? ctx.k02 : ctx.k12, isEngine ? 'k02' : 'k12', ctx.role);
  const UK = ringMask(key.prg(label('UK')), kvSize, ctx.profile.ringMaskBits);
  const UV = ringMask(key.prg(label('UV')), kvSize, ctx.profile.ringMaskBits);
  const Vq = ringMask(key.prg(label('Vq')), qSize, ctx.profile.ringMaskBits);
  const mine = [ringSub(requireRingShare(k, ctx.role), UK), ringSub(requireRingShare(v, ctx.role), UV), ringSub(requireRingShare(q, ctx.role), Vq)];
  const peer = isEngine ? 'gateway' : 'engine';
  const offline = !isEngine && k.meta.offlineKnown && v.meta.offlineKnown && q.meta.offlineKnown;
  ctx.net.send(peer, MessageKind.KvOpening, step, mine, offline);
  const theirs = expectRings(await ctx.net.receive(peer, MessageKind.KvOpening, step), [kvSize, kvSize, qSize], 'kv opening');
  if (ctx.ringViewTap) {
    // Engine: its share plus the gateway's half, k − U1 (U1 from k12); gateway: U1 itself.
    const names = ['kv-key', 'kv-value', 'kv-query'];
    names.forEach((what, i) => ctx.ringViewTap!(step, what, isEngine ? ringAdd(requireRingShare([k, v, q][i]!, ctx.role), theirs[i]!) : [UK, UV, Vq][i]!));
  }
  memory.openedKeys.append(ringAdd(mine[0]!, theirs[0]!));
  memory.openedValues.append(ringAdd(mine[1]!, theirs[1]!));
  memory.keyMask.append(UK);
  memory.valueMask.append(UV);
  const F = ringAdd(mine[2]!, theirs[2]!);
  const E = memory.openedKeys.view();
  let z: Ring;
  if (isEngine) {
    z = await f(await ringAddInSlices(E, memory.keyMask.view()), F);
    await ringAddInSlices(z, await f(E, Vq), z);
    await ringAddInSlices(z, await ringMaskInSlices(key.prg(label('W0')), outSize, ctx.profile.ringMaskBits), z);
    addCausalMask(z, shape.nHeads, rows, keys, start);
  } else {
    const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.KvCorrection, step), [outSize], 'kv correction');
    z = await f(memory.keyMask.view(), F);
    await ringAddInSlices(z, await f(E, Vq), z);
    await ringAddInSlices(z, W1!, z);
  }
  out.share = z;
  return out;
}

/**
 * Shares of P·V from shares of P [nHeads, rows, keys] over the whole V memory. With `causal`, P
 * is the packed causal triangle (ring-causal.ts): only its entries are masked and opened, the
 * rest is the public 0 on both sides.
 */
export async function ringValuesKV(ctx: PartyContext, shape: RingAttentionShape, memory: RingKvMemory, p: RingShared, rows: number, causal?: CausalShape): Promise<RingShared> {
  const step = nextStep(ctx);
  const { backend } = ctx;
  const keys = memory.length;
  const pSize = causal ? causalSize(causal) : shape.nHeads * rows * keys;
  const full = (x: Ring) => (causal ? unpackCausal(x, causal) : x);
  if (p.size !== pSize) throw new RangeError(`attention values: P has ${p.size} elements, expected ${pSize}`);
  const outSize = rows * shape.nHeads * shape.headDim;
  const label = (what: string) => `${step}/${what}`;
  const f = (V: Ring, P: Ring) => ringAttentionValues(backend, shape, V, keys, full(P), rows);
  const out: RingShared = { meta: { offlineKnown: false }, share: undefined, size: outSize };

  if (ctx.role === 'dealer') {
    const k02 = requireKey(ctx.k02, 'k02', ctx.role);
    const V0 = await ringMaskInSlices(k02.prg(label('Vp')), pSize, ctx.profile.ringMaskBits);
    const V = await ringAddInSlices(V0, await ringMaskInSlices(requireKey(ctx.k12, 'k12', ctx.role).prg(label('Vp')), pSize, ctx.profile.ringMaskBits), V0);
    const W1 = ringSub(await f(memory.valueMask.view(), V), ringMask(k02.prg(label('W0')), outSize, ctx.profile.ringMaskBits));
    ctx.net.send('gateway', MessageKind.KvCorrection, step, [W1], true);
    await ctx.net.flush();
    return out;
  }

  const isEngine = ctx.role === 'engine';
  const key = requireKey(isEngine ? ctx.k02 : ctx.k12, isEngine ? 'k02' : 'k12', ctx.role);
  const Vp = await ringMaskInSlices(key.prg(label('Vp')), pSize, ctx.profile.ringMaskBits);
  const mine = await ringSubInSlices(requireRingShare(p, ctx.role), Vp);
  const peer = isEngine ? 'gateway' : 'engine';
  ctx.net.send(peer, MessageKind.KvOpening, step, [mine], !isEngine && p.meta.offlineKnown);
  const [theirs] = expectRings(await ctx.net.receive(peer, MessageKind.KvOpening, step), [pSize], 'kv opening');
  ctx.ringViewTap?.(step, 'kv-probs', isEngine ? ringAdd(requireRingShare(p, ctx.role), theirs!) : Vp);
  const F = await ringAddInSlices(mine, theirs!);
  const E = memory.openedValues.view();
  let z: Ring;
  if (isEngine) {
    z = await f(ringAdd(E, memory.valueMask.view()), F);
    ringAddInto(z, await f(E, Vp));
    ringAddInto(z, ringMask(key.prg(label('W0')), outSize, ctx.profile.ringMaskBits));
  } else {
    const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.KvCorrection, step), [outSize], 'kv correction');
    z = await f(memory.valueMask.view(), F);
    ringAddInto(z, await f(E, Vp));
    ringAddInto(z, W1!);
  }
  out.share = z;
  return out;
}
