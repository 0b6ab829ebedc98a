/**
 * MulKV on three parties with a growing memory (a GQA shape: 4 query heads over 2 key/value
 * heads): a 3-row prefill (causal mask inside the batch) then three decode steps. After each
 * step, the reconstructed scores equal Q·Kᵀ over every key so far (masked positions carry P0's
 * large negative constant) and P·V equals the plain product, within mulKvBound, under both
 * profiles. Only the new rows travel: the openings never grow with the memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dataMaskWidth, PAPER_PROFILE, PERMLLM_PROFILE, type MaskProfile } from '../masks/mask-profile.js';
import { MessageKind } from '../wire/frame.js';
import { mulKvBound } from '../../tests/helpers/error-bounds.js';
import { maxAbsOf, plainScores, plainSoftmax, plainValues, testPrg } from '../../tests/helpers/plain-ops.js';
import { PARTIES, reconstruct, splitSecret, ThreeParties, type PerParty } from '../../tests/helpers/three-party-harness.js';
import type { AttentionShape } from './bilinear.js';
import { attentionScoresKV, attentionValuesKV } from './mul-kv.js';
import { KvMemory } from './kv-memory.js';

const harnesses: ThreeParties[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

const shape: AttentionShape = { nHeads: 4, nKvHeads: 2, headDim: 8 };
const qDim = shape.nHeads * shape.headDim;
const kvDim = shape.nKvHeads * shape.headDim;
/** Prefill of 3 rows at position 0, then one row at a time. */
const passes = [
  { rows: 3, start: 0 },
  { rows: 1, start: 3 },
  { rows: 1, start: 4 },
  { rows: 1, start: 5 },
];

function append(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe.each([PERMLLM_PROFILE, PAPER_PROFILE])('MulKV ($name)', (profile: MaskProfile) => {
  it('scores and values over a growing K/V memory, causal within a multi-row prefill', async () => {
    const h = new ThreeParties({ profile });
    harnesses.push(h);
    // How far below the values the bound must be. Paper profile: float32 shares of products
    // masked ~10^4 times wider than the operands cost up to ~20% in the worst case; a wrong
    // head, key or row would still move outputs by their full size.
    const meaningful = profile.dtype === 'float64' ? 1e-3 : 0.25;
    const prg = testPrg(`mul-kv-${profile.name}`);
    const memory: PerParty<KvMemory> = { engine: new KvMemory(kvDim, 2), gateway: new KvMemory(kvDim, 2), dealer: new KvMemory(kvDim, 2) };
    let K: Float64Array = new Float64Array(0);
    let V: Float64Array = new Float64Array(0);
    for (const { rows, start } of passes) {
      const keys = start + rows;
      const q = prg.uniformArray(rows * qDim, 30);
      const k = prg.uniformArray(rows * kvDim, 30);
      const v = prg.uniformArray(rows * kvDim, 30);
      K = append(K, k);
      V = append(V, v);
      const qs = splitSecret(q, 'query', prg, dataMaskWidth(profile, 'query'));
      const ks = splitSecret(k, 'key', prg, dataMaskWidth(profile, 'key'));
      const vs = splitSecret(v, 'value', prg, dataMaskWidth(profile, 'value'));
      const gatewayBefore = h.messages('gateway', 'engine').length;
      const scores = await h.run((ctx) => attentionScoresKV(ctx, shape, memory[ctx.role], qs[ctx.role], ks[ctx.role], vs[ctx.role], rows, start));
      for (const role of PARTIES) expect(memory[role].length).toBe(keys);

      // Scores: unmasked entries within the bound, future keys pushed below −1e29 by P0.
      const exact = plainScores(shape, K, keys, q, rows, start);
      const z = reconstruct(scores);
      const bound = mulKvBound(profile, { n: shape.headDim, memoryFamily: 'key', freshFamily: 'query', memoryMax: maxAbsOf(K), freshMax: maxAbsOf(q) });
      const finite = exact.filter((x) => x !== -Infinity);
      expect(bound).toBeLessThan(meaningful * maxAbsOf(finite));
      let maskedCount = 0;
      exact.forEach((e, i) => {
        if (e === -Infinity) {
          maskedCount++;
          expect(z[i]!).toBeLessThan(profile.causalMaskValue / 2);
        } else expect(Math.abs(z[i]! - e)).toBeLessThanOrEqual(bound);
      });
      // In the 3-row prefill, row r may not see keys r+1..2: 3 masked pairs per head.
      expect(maskedCount).toBe(rows === 3 ? 3 * shape.nHeads : 0);

      // Only the new rows and the fresh operand travel: k, v halves (rows·kvDim) and q (rows·qDim).
      const opened = h.messages('gateway', 'engine').slice(gatewayBefore);
      expect(opened.map((m) => m.kind)).toEqual([MessageKind.KvOpening]);
      expect(opened[0]!.parts.map((p) => p.length)).toEqual([rows * kvDim, rows * kvDim, rows * qDim]);
      expect(opened[0]!.offline).toBe(true); // P1's halves depend only on offline-known shares

      // Values: P (probabilities with zeros at masked keys) times the whole V memory.
      const P = plainSoftmax(Float64Array.from(exact, (e) => (e === -Infinity ? e : e * prg.uniform())), shape.nHeads * rows, keys, 0.05);
      const ps = splitSecret(P, 'probs', prg, dataMaskWidth(profile, 'probs'));
      const before = h.messages('gateway', 'engine').length;
      const values = await h.run((ctx) => attentionValuesKV(ctx, shape, memory[ctx.role], ps[ctx.role], rows));
      const exactValues = plainValues(shape, V, keys, P, rows);
      const valueBound = mulKvBound(profile, { n: keys, memoryFamily: 'value', freshFamily: 'probs', memoryMax: maxAbsOf(V), freshMax: 1 });
      expect(valueBound).toBeLessThan(meaningful * maxAbsOf(exactValues));
      const zv = reconstruct(values);
      zv.forEach((x, i) => expect(Math.abs(x - exactValues[i]!)).toBeLessThanOrEqual(valueBound));
      const openedP = h.messages('gateway', 'engine').slice(before);
      expect(openedP.map((m) => m.parts.map((p) => p.length))).toEqual([[shape.nHeads * rows * keys]]);
    }
    // The dealer talks to the gateway only (W1 corrections), never to the engine, in MulKV.
    expect(new Set(h.messages('dealer', 'gateway').map((m) => m.kind))).toEqual(new Set([MessageKind.KvCorrection]));
    expect(h.messages('dealer', 'engine')).toHaveLength(0);
    // P0's openings are online: they depend on P0's share.
    expect(h.messages('engine', 'gateway').every((m) => m.kind === MessageKind.KvOpening && !m.offline)).toBe(true);
  });
});
