/**
 * MulKV: products of two shared operands where one operand is a growing memory (the K and V
 * caches), Beaver-style (protocol.md, "MulKV").
 *
 * Each new cache row is opened once as E = row − U_row and appended to E_all, which both P0
 * and P1 keep; U_row is shared as U0 (k02) + U1 (k12), the dealer knows U_all. The fresh
 * operand y is opened as F = y − V with V = V0 (k02) + V1 (k12). The dealer sends
 * W1 = f(U_all, V) − W0 (W0 from k02) to P1. Then
 *   z0 = f(E_all, F) + f(U0_all, F) + f(E_all, V0) + W0,   z1 = f(U1_all, F) + f(E_all, V1) + W1,
 * and z0 + z1 = f(E_all + U_all, F + V) = f(memory, y).
 *
 * Openings: P0's halves travel online; P1's halves (functions of offline-known shares and k12
 * masks) travel offline. One MulKV for Q·Kᵀ opens the new K and V rows and Q together; the
 * one for P·V then opens only P.
 */
import { beaverMaskWidth, drawMask, roundToDtype, type MaskProfile } from '../masks/mask-profile.js';
import { addArrays, addInto, nextStep, requireKey, requireShare, subArrays, type PartyContext, type Shared } from '../session/party-context.js';
import { MessageKind } from '../wire/frame.js';
import { attentionScores, attentionValues, type AttentionShape } from './bilinear.js';
import { expectFloats } from './perm-elem.js';
import { KvMemory } from './kv-memory.js';

function rowMaskWidth(profile: MaskProfile, family: 'key' | 'value' | 'query' | 'probs'): number {
  return beaverMaskWidth(profile, family);
}

/** The causal mask for rows at positions start..start+rows−1 over keys 0..keys−1, added by P0. */
function applyCausalMask(z0: Float64Array, heads: number, rows: number, keys: number, start: number, value: number): void {
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < rows; r++) {
      const base = (h * rows + r) * keys;
      for (let k = start + r + 1; k < keys; k++) z0[base + k]! += value;
    }
  }
}

/**
 * Appends the new K and V rows to the memory and returns shares of the scores Q·Kᵀ
 * (not yet scaled), laid out [nHeads, rows, keys], with the causal mask applied.
 */
export async function attentionScoresKV(
  ctx: PartyContext,
  shape: AttentionShape,
  memory: KvMemory,
  q: Shared,
  k: Shared,
  v: Shared,
  rows: number,
  startPosition: number,
): Promise<Shared> {
  const step = nextStep(ctx);
  const { profile, backend } = ctx;
  const kvSize = rows * memory.kvDim;
  const qSize = rows * shape.nHeads * shape.headDim;
  const keys = memory.length + rows;
  const outSize = shape.nHeads * rows * keys;
  const wK = rowMaskWidth(profile, 'key');
  const wV = rowMaskWidth(profile, 'value');
  const wQ = rowMaskWidth(profile, 'query');
  const w0Width = profile.productFactor * (2 * wK) * (2 * wQ) * Math.sqrt(shape.headDim);
  const label = (what: string) => `${step}/${what}`;
  const out: Shared = { meta: { family: 'scores', offlineKnown: false }, share: undefined, size: outSize };

  if (ctx.role === 'dealer') {
    const k02 = requireKey(ctx.k02, 'k02', ctx.role);
    const k12 = requireKey(ctx.k12, 'k12', ctx.role);
    memory.keyMask.append(addArrays(drawMask(profile, k02.prg(label('UK')), kvSize, wK), drawMask(profile, k12.prg(label('UK')), kvSize, wK)));
    memory.valueMask.append(addArrays(drawMask(profile, k02.prg(label('UV')), kvSize, wV), drawMask(profile, k12.prg(label('UV')), kvSize, wV)));
    const V = addArrays(drawMask(profile, k02.prg(label('Vq')), qSize, wQ), drawMask(profile, k12.prg(label('Vq')), qSize, wQ));
    const W0 = drawMask(profile, k02.prg(label('W0')), outSize, w0Width);
    const W1 = subArrays(await attentionScores(backend, shape, memory.keyMask.view(), keys, V, rows), W0);
    ctx.net.send('gateway', MessageKind.KvCorrection, step, [roundToDtype(profile, W1)], true);
      await ctx.net.flush(); // the dealer streams each step's material as soon as it exists
    return out;
  }

  const isEngine = ctx.role === 'engine';
  const key = requireKey(isEngine ? ctx.k02 : ctx.k12, isEngine ? 'k02' : 'k12', ctx.role);
  const UK = drawMask(profile, key.prg(label('UK')), kvSize, wK);
  const UV = drawMask(profile, key.prg(label('UV')), kvSize, wV);
  const Vq = drawMask(profile, key.prg(label('Vq')), qSize, wQ);
  const mine = [subArrays(requireShare(k, ctx.role), UK), subArrays(requireShare(v, ctx.role), UV), subArrays(requireShare(q, ctx.role), Vq)];
  const peer = isEngine ? 'gateway' : 'engine';
  const offline = !isEngine && k.meta.offlineKnown && v.meta.offlineKnown && q.meta.offlineKnown;
  ctx.net.send(peer, MessageKind.KvOpening, step, mine.map((m) => roundToDtype(profile, m)), offline);
  const theirs = expectFloats(await ctx.net.receive(peer, MessageKind.KvOpening, step), [kvSize, kvSize, qSize], 'kv opening');
  memory.openedKeys.append(addArrays(mine[0]!, theirs[0]!));
  memory.openedValues.append(addArrays(mine[1]!, theirs[1]!));
  memory.keyMask.append(UK);
  memory.valueMask.append(UV);
  const F = addArrays(mine[2]!, theirs[2]!);
  const E = memory.openedKeys.view();
  let z: Float64Array;
  if (isEngine) {
    // z0 = f(E + U0, F) + f(E, V0) + W0
    z = await attentionScores(backend, shape, addArrays(E, memory.keyMask.view()), keys, F, rows);
    addInto(z, await attentionScores(backend, shape, E, keys, Vq, rows));
    addInto(z, drawMask(profile, requireKey(ctx.k02, 'k02', ctx.role).prg(label('W0')), outSize, w0Width));
    applyCausalMask(z, shape.nHeads, rows, keys, startPosition, profile.causalMaskValue);
  } else {
    // z1 = f(U1, F) + f(E, V1) + W1
    const [W1] = expectFloats(await ctx.net.receive('dealer', MessageKind.KvCorrection, step), [outSize], 'kv correction');
    z = await attentionScores(backend, shape, memory.keyMask.view(), keys, F, rows);
    addInto(z, await attentionScores(backend, shape, E, keys, Vq, rows));
    addInto(z, W1!);
  }
  out.share = roundToDtype(profile, z);
  ctx.observe?.({ op: 'kvScores', step, shape, memory, rows, start: startPosition, q, k, v, output: out });
  return out;
}

/** Shares of P·V from shares of P ([nHeads, rows, keys]) over the whole V memory. */
export async function attentionValuesKV(ctx: PartyContext, shape: AttentionShape, memory: KvMemory, p: Shared, rows: number): Promise<Shared> {
  const step = nextStep(ctx);
  const { profile, backend } = ctx;
  const keys = memory.length;
  const pSize = shape.nHeads * rows * keys;
  if (p.size !== pSize) throw new RangeError(`attention values: P has ${p.size} elements, expected ${pSize}`);
  const outSize = rows * shape.nHeads * shape.headDim;
  const wU = rowMaskWidth(profile, 'value');
  const wP = rowMaskWidth(profile, 'probs');
  const w0Width = profile.productFactor * (2 * wU) * (2 * wP) * Math.sqrt(keys);
  const label = (what: string) => `${step}/${what}`;
  const out: Shared = { meta: { family: 'attention', offlineKnown: false }, share: undefined, size: outSize };

  if (ctx.role === 'dealer') {
    const k02 = requireKey(ctx.k02, 'k02', ctx.role);
    const V = addArrays(drawMask(profile, k02.prg(label('Vp')), pSize, wP), drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(label('Vp')), pSize, wP));
    const W1 = subArrays(await attentionValues(backend, shape, memory.valueMask.view(), keys, V, rows), drawMask(profile, k02.prg(label('W0')), outSize, w0Width));
    ctx.net.send('gateway', MessageKind.KvCorrection, step, [roundToDtype(profile, W1)], true);
      await ctx.net.flush(); // the dealer streams each step's material as soon as it exists
    return out;
  }

  const isEngine = ctx.role === 'engine';
  const key = requireKey(isEngine ? ctx.k02 : ctx.k12, isEngine ? 'k02' : 'k12', ctx.role);
  const Vp = drawMask(profile, key.prg(label('Vp')), pSize, wP);
  const mine = subArrays(requireShare(p, ctx.role), Vp);
  const peer = isEngine ? 'gateway' : 'engine';
  ctx.net.send(peer, MessageKind.KvOpening, step, [roundToDtype(profile, mine)], !isEngine && p.meta.offlineKnown);
  const [theirs] = expectFloats(await ctx.net.receive(peer, MessageKind.KvOpening, step), [pSize], 'kv opening');
  const F = addArrays(mine, theirs!);
  const E = memory.openedValues.view();
  let z: Float64Array;
  if (isEngine) {
    z = await attentionValues(backend, shape, addArrays(E, memory.valueMask.view()), keys, F, rows);
    addInto(z, await attentionValues(backend, shape, E, keys, Vp, rows));
    addInto(z, drawMask(profile, requireKey(ctx.k02, 'k02', ctx.role).prg(label('W0')), outSize, w0Width));
  } else {
    const [W1] = expectFloats(await ctx.net.receive('dealer', MessageKind.KvCorrection, step), [outSize], 'kv correction');
    z = await attentionValues(backend, shape, memory.valueMask.view(), keys, F, rows);
    addInto(z, await attentionValues(backend, shape, E, keys, Vp, rows));
    addInto(z, W1!);
  }
  out.share = roundToDtype(profile, z);
  ctx.observe?.({ op: 'kvValues', step, shape, memory, rows, p, output: out });
  return out;
}
