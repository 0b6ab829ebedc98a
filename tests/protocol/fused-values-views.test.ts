/**
 * The fused P·V step's views (protocol/subprotocols/ring/ring-fused-values.ts), on the real frames
 * of a three-party run of the attention steps (a 24-row prefill, then 16 decode steps, GQA 4:2):
 * - correctness: z0 + z1 = f(V, softmax(scores)) exactly, every step;
 * - the user's new message M = π(U1) + R′ hides the softmax permutation: the user knows its own
 *   value masks U1, so it tries to match every row of M to one of U1's rows (nearest in the signed
 *   ring reading); none is within 2^40 under ring64, while with R′ weakened (the
 *   `ring64-weak-test` control, every mask 20 bits) almost every row is matched, which would hand
 *   the user π (which key and head each permuted score belongs to);
 * - what the engine holds of the user's permuted part Y of P·V (Y + S) is never near Y itself
 *   (Y is linear in the user's value masks: with S missing or weak the engine would collect
 *   equations for U1, hence V); the weak control is;
 * - every byte position of what the user receives from the dealer in this step (M and W1) and of
 *   what the engine receives from the user (Ŷ + S) passes a χ² test against uniform; the weak
 *   control fails it by far.
 */
import { describe, expect, it } from 'vitest';
import { ringAdd, ringFromIntegers, ringSub, type Ring } from '../../compute/ring64.js';
import { Prg } from '../../crypto/prg.js';
import { RING64_PROFILE, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import { ringMask } from '../../protocol/masks/ring-masks.js';
import { ringAttentionValues, RingRope } from '../../plaintext/fixed-point/ring-attention.js';
import { causalSize, packCausal, softmaxCausal, unpackCausal, type CausalShape } from '../../protocol/subprotocols/ring/ring-causal.js';
import { ringFusedSoftmaxValues } from '../../protocol/subprotocols/ring/ring-fused-values.js';
import { RingKvMemory, ringScoresKV } from '../../protocol/subprotocols/ring/ring-mul-kv.js';
import type { RingShared } from '../../protocol/subprotocols/ring/ring-shared.js';
import type { PartyName } from '../../protocol/transport/party-network.js';
import { MessageKind } from '../../protocol/wire/frame.js';
import { ThreeParties } from '../helpers/three-party-harness.js';

const WEAK_PROFILE: MaskProfile = Object.freeze({ ...RING64_PROFILE, name: 'ring64-weak-test', hiding: 'statistical', ringMaskBits: 20 });
const SHAPE = { nHeads: 4, nKvHeads: 2, headDim: 16 };
const KV = SHAPE.nKvHeads * SHAPE.headDim;
const Q = SHAPE.nHeads * SHAPE.headDim;
/** q, k, v carry 2^6; scores q·R·k then sit at 2·6 + ROPE_BITS. */
const EXP = 6;
const ROPE_BITS = 12;
const PREFILL = 24;
const DECODE = 16;

/** Additive shares of x: a uniform engine share, the rest at the gateway (the dealer holds none). */
function share(role: PartyName, x: Ring, r: Ring): RingShared {
  const out: RingShared = { meta: { offlineKnown: false }, share: undefined, size: x.length };
  if (role === 'engine') out.share = r;
  if (role === 'gateway') out.share = ringSub(x, r);
  return out;
}

interface Run {
  /** Max |z0 + z1 − f(V, P)| over the steps (0: exact). */
  mismatches: number;
  /** The dealer's M messages with the keys they cover, and the gateway's own value masks U1 at the end. */
  corrections: { M: Ring; W1: Ring; keys: number }[];
  userValueMask: Ring;
  toEngine: Ring[];
  /** Per step: what the engine holds of the user's permuted part of P·V (Y + S, its view tap) and the secret Y itself (that plus the gateway's mask −S). */
  engineHeld: { held: Ring; secret: Ring }[];
}

async function attentionRun(profile: MaskProfile, seed: string): Promise<Run> {
  const h = new ThreeParties({ profile, seed });
  const taps = { engine: new Map<number, Ring>(), gateway: new Map<number, Ring>() };
  h.ctx.engine.ringViewTap = (step, what, v) => what === 'fused-values' && taps.engine.set(step, v.slice());
  h.ctx.gateway.ringViewTap = (step, what, v) => what === 'fused-values' && taps.gateway.set(step, v.slice());
  const rope = RingRope.forConfig({ headDim: SHAPE.headDim, maxSeqLen: 64, ropeTheta: 10000 }, ROPE_BITS);
  const memories = { engine: new RingKvMemory(KV, 64, true), gateway: new RingKvMemory(KV, 64, true), dealer: new RingKvMemory(KV, 64, true) };
  const data = Prg.fromSeed('fused-values-views/data', seed);
  const noise = Prg.fromSeed('fused-values-views/shares', seed);
  const small = (n: number) => ringFromIntegers(Array.from({ length: n }, () => data.below(257) - 128));
  let mismatches = 0;
  const scale = 1 / Math.sqrt(SHAPE.headDim);
  for (const [rows, start] of [[PREFILL, 0] as const, ...Array.from({ length: DECODE }, (_, i) => [1, PREFILL + i] as const)]) {
    const q = small(rows * Q);
    const k = small(rows * KV);
    const v = small(rows * KV);
    const masks = [q, k, v].map((x) => ringMask(noise, x.length));
    const causal: CausalShape = { heads: SHAPE.nHeads, rows, start };
    const out = await h.run(async (ctx) => {
      const memory = memories[ctx.role];
      const scores = await ringScoresKV(ctx, SHAPE, rope, memory, share(ctx.role, q, masks[0]!), share(ctx.role, k, masks[1]!), share(ctx.role, v, masks[2]!), rows, start);
      const attended = await ringFusedSoftmaxValues(ctx, SHAPE, memory, scores, causal, { scale, inExp: 2 * EXP + ROPE_BITS, outExp: 16 });
      return { scores: scores.share, attended: attended.share };
    });
    const keys = start + rows;
    const V = ringAdd(memories.engine.openedValues.view(), ringAdd(memories.engine.valueMask.view(), memories.gateway.valueMask.view()));
    const P = softmaxCausal(packCausal(ringAdd(out.engine.scores!, out.gateway.scores!), causal), causal, scale, 2 * EXP + ROPE_BITS, 16);
    const expected = await ringAttentionValues(h.backend, SHAPE, V, keys, unpackCausal(P, causal), rows);
    const got = ringAdd(out.engine.attended!, out.gateway.attended!);
    for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) mismatches++;
  }
  const corrections = h.messages('dealer', 'gateway').filter((m) => m.kind === MessageKind.FusedValuesCorrection).map((m, i) => ({ M: m.parts[0] as Ring, W1: m.parts[1] as Ring, keys: i === 0 ? PREFILL : PREFILL + i }));
  const toEngine = h.messages('gateway', 'engine').filter((m) => m.kind === MessageKind.FusedValuesInput).map((m) => m.parts[0] as Ring);
  h.close();
  const engineHeld = [...taps.engine].map(([step, held]) => ({ held, secret: ringAdd(held, taps.gateway.get(step)!) }));
  return { mismatches, corrections, userValueMask: memories.gateway.valueMask.view().slice(), toEngine, engineHeld };
}

/**
 * The user's attack: each row of M matched to the nearest row U1[c, g] (first element, signed
 * reading of the difference) among the keys c the step covers; a row is matched when the whole
 * row lies within 2^40. Returns the fraction of M's rows matched.
 */
function matchedRows(run: Run): number {
  const hd = SHAPE.headDim;
  const U = run.userValueMask;
  const near = (a: bigint, b: bigint) => {
    const d = BigInt.asIntN(64, a - b);
    return (d < 0n ? -d : d) < 1n << 40n;
  };
  let rows = 0;
  let matched = 0;
  for (const { M, keys } of run.corrections) {
    for (let j = 0; j < M.length / hd; j++) {
      rows++;
      let hit = false;
      for (let c = 0; c < keys && !hit; c++) {
        for (let g = 0; g < SHAPE.nKvHeads && !hit; g++) {
          const base = c * KV + g * hd;
          if (!near(M[j * hd]!, U[base]!)) continue;
          hit = Array.from({ length: hd }, (_, d) => near(M[j * hd + d]!, U[base + d]!)).every(Boolean);
        }
      }
      if (hit) matched++;
    }
  }
  return matched / rows;
}

/** Fraction of the engine's held values within 2^40 of the secret Y they stand for (signed reading). */
function heldNearSecret(run: Run): number {
  let near = 0;
  let n = 0;
  for (const { held, secret } of run.engineHeld) {
    for (let i = 0; i < held.length; i++) {
      const d = BigInt.asIntN(64, held[i]! - secret[i]!);
      if ((d < 0n ? -d : d) < 1n << 40n) near++;
      n++;
    }
  }
  return near / n;
}

/** The largest χ² (255 degrees of freedom) over the 8 byte positions of the words, and the sample count. */
function worstChiSquare(arrays: Ring[]): { chi: number; samples: number } {
  const bins = Array.from({ length: 8 }, () => new Array<number>(256).fill(0));
  let samples = 0;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < a.length; i++) for (let b = 0; b < 8; b++) bins[b]![bytes[8 * i + b]!]!++;
    samples += a.length;
  }
  const chi = Math.max(
    ...bins.map((h) => {
      const e = samples / 256;
      return h.reduce((s, o) => s + ((o - e) * (o - e)) / e, 0);
    }),
  );
  return { chi, samples };
}

describe('fused P·V: what the user and the engine receive', () => {
  it('exact; the user cannot match M to its own value masks, and both new messages are uniform; the weak control fails both', async () => {
    const ring = await attentionRun(RING64_PROFILE, 'ring');
    const weak = await attentionRun(WEAK_PROFILE, 'weak');
    expect(ring.mismatches).toBe(0);
    expect(weak.mismatches).toBe(0);
    expect(ring.corrections).toHaveLength(1 + DECODE);
    expect(ring.corrections[0]!.M.length).toBe(causalSize({ heads: SHAPE.nHeads, rows: PREFILL, start: 0 }) * SHAPE.headDim);
    const matched = { ring: matchedRows(ring), weak: matchedRows(weak) };
    // 255 degrees of freedom: mean 255, sd √510 ≈ 22.6; 400 is 6.4 sd above the mean.
    const BOUND = 400;
    const dealer = { ring: worstChiSquare(ring.corrections.flatMap((c) => [c.M, c.W1])), weak: worstChiSquare(weak.corrections.flatMap((c) => [c.M, c.W1])) };
    const engine = { ring: worstChiSquare(ring.toEngine), weak: worstChiSquare(weak.toEngine) };
    console.log(
      `fused P·V views: user matches M rows to its U1 rows: ring64 ${matched.ring.toFixed(3)}, weak control ${matched.weak.toFixed(3)}; ` +
        `χ² dealer→user ring64 ${dealer.ring.chi.toFixed(1)} over ${dealer.ring.samples} words (weak ${dealer.weak.chi.toFixed(0)}), ` +
        `user→engine ring64 ${engine.ring.chi.toFixed(1)} over ${engine.ring.samples} words (weak ${engine.weak.chi.toFixed(0)}); bound ${BOUND}`,
    );
    const held = { ring: heldNearSecret(ring), weak: heldNearSecret(weak) };
    console.log(`engine's Y + S within 2^40 of Y: ring64 ${held.ring.toFixed(4)}, weak control ${held.weak.toFixed(3)}`);
    expect(ring.engineHeld).toHaveLength(1 + DECODE);
    expect(held.ring).toBeLessThan(0.01);
    expect(held.weak).toBeGreaterThan(0.9);
    expect(matched.ring).toBe(0);
    expect(matched.weak).toBeGreaterThan(0.9);
    expect(dealer.ring.samples).toBeGreaterThan(40_000);
    expect(engine.ring.samples).toBeGreaterThan(2_000);
    expect(dealer.ring.chi).toBeLessThan(BOUND);
    expect(engine.ring.chi).toBeLessThan(BOUND);
    expect(dealer.weak.chi).toBeGreaterThan(100 * BOUND);
    expect(engine.weak.chi).toBeGreaterThan(100 * BOUND);
  }, 120_000);
});
