/**
 * Narrowed Perm flights (issue 12; model/fixed-point/view-width.ts, ring-narrowing.ts):
 * - the user's widening (sign-extension from 8w bits, then the range check at 2^(8w − 3)) is
 *   exact on every value the plan allows and refuses the two bits above it, at every width;
 * - on stories260K the plan narrows the SwiGLU inputs and leaves the residual and the masked
 *   scores as full words;
 * - a plan whose declared bound understates the values is caught: the fixed-point oracle (which
 *   sees the true values) refuses them, and so does the private run, instead of decoding residues
 *   of values that no longer fit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ringSub } from '../../compute/ring64.js';
import { Prg } from '../../crypto/prg.js';
import { pairInProcessFor, type InProcessParties } from '../../in-process/in-process-parties.js';
import { gateUpViewWidth, residualViewWidth, scoresViewWidth, viewWidth } from '../../model/fixed-point/view-width.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { ringMask } from '../../protocol/masks/ring-masks.js';
import { narrowed, residue } from '../../protocol/subprotocols/ring/ring-narrowing.js';
import { decodeFrame, encodeFrame, MessageKind, NarrowedRing } from '../../protocol/wire/frame.js';
import { RingOverflowError } from '../../plaintext/fixed-point/fixed-point-elem.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import { checkViewWidth, widenView } from '../../plaintext/fixed-point/view-width-check.js';
import { privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';

const ring = (values: readonly bigint[]) => BigUint64Array.from(values, (v) => BigInt.asUintN(64, v));

/** What P1 computes from a narrowed Perm: (x − B) mod 2^(8w) over the wire, plus B, widened. */
function throughTheWire(x: BigUint64Array, width: number, prg: Prg): BigUint64Array {
  const B = ringMask(prg, x.length);
  const frame = encodeFrame({ kind: MessageKind.PermOutput, seq: 0, step: 1, depth: 1, offline: false, parts: [narrowed(ringSub(x, B), width)] });
  const [part] = decodeFrame(frame, 1 << 20).parts;
  const received = (part as NarrowedRing).values;
  const sum = new BigUint64Array(x.length);
  for (let i = 0; i < x.length; i++) sum[i] = BigInt.asUintN(64, received[i]! + B[i]!);
  return widenView(sum, width, 'test view');
}

describe('narrowed views: exact widening and the range check', () => {
  it('every value within ±2^(8w − 3) comes back exactly through a w-byte Perm message; the two bits above are refused', () => {
    const prg = Prg.fromSeed('narrowed-views', 1);
    for (let width = 1; width <= 7; width++) {
      const limit = 2n ** BigInt(8 * width - 3);
      const inside = [0n, 1n, -1n, limit - 1n, -limit, limit / 3n, -limit / 5n];
      expect(Array.from(throughTheWire(ring(inside), width, prg))).toEqual(Array.from(ring(inside)));
      // Detected (the residue still tells): limit … 2^(8w − 1) − 1 on either side.
      for (const outside of [limit, -limit - 1n, 4n * limit - 1n, -4n * limit]) {
        expect(() => throughTheWire(ring([outside]), width, prg), `width ${width}, value ${outside}`).toThrow(RingOverflowError);
        // The oracle, on the true value, refuses it too (and any larger one, which the residue could no longer show).
        expect(() => checkViewWidth(ring([outside]), width, 'test view')).toThrow(new RegExp(`reached 2\\^${8 * width - 3}`));
      }
      expect(() => checkViewWidth(ring([2n ** 62n]), width, 'test view')).toThrow(RingOverflowError);
      expect(() => checkViewWidth(ring(inside), width, 'test view')).not.toThrow();
    }
  });

  it('the engine-held residue of a narrowed value is uniform-looking and data-independent in its low bytes only', () => {
    const x = ring([5n, -7n, 123456789n]);
    const r = residue(x, 3);
    expect(Array.from(r)).toEqual(Array.from(ring([5n, -7n, BigInt.asIntN(24, 123456789n)])));
    expect(residue(x, 8)).toBe(x);
    expect(narrowed(x, 8)).toBe(x);
    expect(narrowed(x, 5)).toBeInstanceOf(NarrowedRing);
  });
});

describe('narrowed views on stories260K', () => {
  let model: ModelDescription;
  let parties: InProcessParties;
  let prompt: number[];
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    // The plan without the deferred FFN norm: its SwiGLU inputs are their own Elem step (the
    // deferred step's narrowed views are checked in deferred-ffn-norm.test.ts).
    parties = await pairInProcessFor(model, RING64_PROFILE, undefined, { deferFfnNorm: false });
    prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
  });

  it('the plan narrows the SwiGLU inputs, and keeps the residual and the masked scores as full words', () => {
    const plan = parties.fixedPoint!.plan;
    const widths = plan.layers.map((L) => gateUpViewWidth(plan, L));
    console.log(`stories260K view widths: residual ${residualViewWidth(plan)} B, gate|up ${widths.join('/')} B per layer, scores ${scoresViewWidth()} B`);
    expect(residualViewWidth(plan)).toBe(8);
    for (const w of widths) expect(w).toBeLessThan(8);
    expect(scoresViewWidth()).toBe(8);
    // The bound: exponent + ⌈log2 calibrated max⌉ + headroom + 3 bits.
    const L = plan.layers[0]!;
    const bits = L.ffnNorm + L.gateUp + Math.ceil(Math.log2(plan.ranges.gateUp)) + plan.headroomBits + 3;
    expect(viewWidth(plan, L.ffnNorm + L.gateUp, plan.ranges.gateUp)).toBe(Math.ceil(bits / 8));
  });

  it('a declared bound that understates the values ends the oracle and the private run alike (never wrapped values)', async () => {
    const plan = parties.fixedPoint!.plan;
    const saved = plan.ranges.gateUp;
    try {
      // 2^-12 of the measured range: the SwiGLU inputs' width drops by two bytes, far below their values.
      plan.ranges.gateUp = saved / 4096;
      expect(gateUpViewWidth(plan, plan.layers[0]!)).toBeLessThan(gateUpViewWidthFor(saved));
      const oracle = new FixedPointModel(model.config, plan, parties.fixedPoint!.weights).newSequence();
      await expect(oracle.prefill(prompt)).rejects.toThrow(/fixed-point overflow: a value in the swiglu input reached 2\^\d+/);
      await expect(privateGenerateInProcess(parties, prompt, 1)).rejects.toThrow(/fixed-point overflow: a value in the swiglu input reached 2\^\d+/);
    } finally {
      plan.ranges.gateUp = saved;
    }
    // Restored: the same run passes.
    const run = await privateGenerateInProcess(parties, prompt, 1);
    expect(run.tokens).toHaveLength(1);
  }, 120_000);

  function gateUpViewWidthFor(range: number): number {
    const plan = parties.fixedPoint!.plan;
    return viewWidth(plan, plan.layers[0]!.ffnNorm + plan.layers[0]!.gateUp, range);
  }
});
