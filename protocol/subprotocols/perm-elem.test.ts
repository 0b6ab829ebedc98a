/**
 * Perm (permOpen) and Elem on three parties, both mask profiles: the reconstructed output is
 * f(x) within the worst-case rounding bounds of tests/helpers/error-bounds.ts, each party
 * receives exactly the messages the protocol says, and the permutation P1 sees through has the
 * shape f needs (flat and paired for SwiGLU, row-wise for RMSNorm and softmax).
 *
 * P1's permuted view is recovered here from the wire, as P1 computes it: the engine's
 * PermOutput (π(x) − B) plus B, which the test re-derives from k12.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dataMaskWidth, PAPER_PROFILE, PERMLLM_PROFILE, roundToDtype, type MaskProfile } from '../masks/mask-profile.js';
import { MessageKind } from '../wire/frame.js';
import { elemBound, permViewBound } from '../../tests/helpers/error-bounds.js';
import { maxAbsOf, plainRmsNorm, plainSoftmax, plainSwiglu, testPrg } from '../../tests/helpers/plain-ops.js';
import { maxAbsDiff, reconstruct, splitSecret, ThreeParties } from '../../tests/helpers/three-party-harness.js';
import { gatewayView, recoverDestinations } from '../../tests/helpers/wire-views.js';
import type { ElemFunction } from './elem-function.js';
import { drawPermutation, elem, permOpen } from './perm-elem.js';

const harnesses: ThreeParties[] = [];
let harnessCount = 0;
/**
 * Keys from a fixed seed per harness: these tests recover the permutation from P1's view by
 * nearest-value matching, which under the float32 profile's rounding could, with fresh random
 * keys, very rarely pair two close values wrongly. Fixed keys make every run the same run.
 * (Freshness across calls and sessions is tested with real key exchanges in tests/protocol.)
 */
function parties(profile: MaskProfile): ThreeParties {
  const h = new ThreeParties({ profile, seed: `perm-elem/${profile.name}/${harnessCount++}` });
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

describe.each([PERMLLM_PROFILE, PAPER_PROFILE])('Perm and Elem ($name)', (profile) => {
  it('permOpen: P1 sees exactly π(x) for the π P0 keeps; the dealer sees nothing', async () => {
    const h = parties(profile);
    const prg = testPrg(`perm-open-${profile.name}`);
    const n = 200;
    const x = prg.uniformArray(n, 30);
    const input = splitSecret(x, 'logits', prg, dataMaskWidth(profile, 'logits'));
    const out = await h.run((ctx) => permOpen(ctx, input[ctx.role]));
    expect(out.dealer).toEqual({});
    expect(out.gateway.permutation).toBeUndefined();
    expect(out.engine.view).toBeUndefined();
    const pi = out.engine.permutation!;
    const bound = permViewBound(profile, { family: 'logits', shareMax: maxAbsOf(input.engine.share, input.gateway.share) });
    expect(bound).toBeLessThan(1e-3 * maxAbsOf(x));
    expect(maxAbsDiff(out.gateway.view!, pi.apply(x))).toBeLessThanOrEqual(bound);
    // A real shuffle, not the identity.
    expect(Array.from(pi.dest).filter((d, i) => d === i).length).toBeLessThan(n / 10);
    expect(h.messages('gateway', 'engine').map((m) => m.kind)).toEqual([MessageKind.PermInput]);
    expect(h.messages('engine', 'gateway').map((m) => m.kind)).toEqual([MessageKind.PermOutput]);
    expect(h.messages('dealer', 'engine').map((m) => m.kind)).toEqual([MessageKind.PermCorrection]);
    expect(h.messages('dealer', 'gateway')).toHaveLength(0);
    // P1's input message depends only on its share, so it may go offline when that share is offline-known.
    expect(h.messages('gateway', 'engine')[0]!.offline).toBe(true);
  });

  it('Elem SwiGLU (flat, paired): silu(g)·u, with one permutation applied to both blocks', async () => {
    const h = parties(profile);
    const prg = testPrg(`elem-swiglu-${profile.name}`);
    const L = 3 * 24;
    const x = prg.uniformArray(2 * L, 6);
    const f: ElemFunction = { kind: 'swiglu', length: L };
    const input = splitSecret(x, 'gate-up', prg, dataMaskWidth(profile, 'gate-up'));
    const out = await h.run((ctx) => elem(ctx, input[ctx.role], f, 'ffn'));
    const exact = plainSwiglu(x, L);
    const bound = elemBound(profile, { f, x, inFamily: 'gate-up', outFamily: 'ffn', shareMax: maxAbsOf(input.engine.share, input.gateway.share), etaMax: maxAbsOf(exact) });
    expect(bound).toBeLessThan(0.01 * maxAbsOf(exact));
    expect(maxAbsDiff(reconstruct(out), exact)).toBeLessThanOrEqual(bound);
    // P1's share is the dealer-derivable mask B′ (what lets the next MulW send nothing).
    const step = h.ctx.gateway.step;
    expect(out.gateway.meta.p1Mask).toEqual({ label: `${step}/B2`, width: dataMaskWidth(profile, 'ffn') });
    expect(out.gateway.share).toEqual(roundToDtype(profile, h.k12.prg(`${step}/B2`).uniformArray(L, dataMaskWidth(profile, 'ffn'))));
    // The view: gate and up blocks moved by the same flat permutation.
    const view = gatewayView(h, step, 2 * L, 'gate-up');
    const viewTol = permViewBound(profile, { family: 'gate-up', shareMax: maxAbsOf(input.engine.share, input.gateway.share) });
    const destGate = recoverDestinations(x.subarray(0, L), view.subarray(0, L), viewTol);
    const destUp = recoverDestinations(x.subarray(L), view.subarray(L), viewTol);
    expect(destUp).toEqual(destGate);
    expect(destGate).toEqual(drawPermutation(h.k02, step, f).dest);
    expect(Array.from(destGate).filter((d, i) => d === i).length).toBeLessThan(L / 5);
    expect(h.messages('gateway', 'engine').map((m) => m.kind)).toEqual([MessageKind.PermInput, MessageKind.ElemReturn]);
    expect(h.messages('dealer', 'engine').map((m) => m.kind)).toEqual([MessageKind.ElemCorrection]);
    expect(h.messages('dealer', 'gateway')).toHaveLength(0);
  });

  it('Elem RMSNorm (row-wise): rows shuffled, each row’s columns by its own permutation', async () => {
    const h = parties(profile);
    const prg = testPrg(`elem-rmsnorm-${profile.name}`);
    const rows = 6;
    const cols = 16;
    const x = prg.uniformArray(rows * cols, 25);
    const f: ElemFunction = { kind: 'rmsnorm', rows, cols, eps: 1e-5 };
    const input = splitSecret(x, 'residual', prg, dataMaskWidth(profile, 'residual'));
    const out = await h.run((ctx) => elem(ctx, input[ctx.role], f, 'normed'));
    const exact = plainRmsNorm(x, rows, cols, 1e-5);
    const shareMax = maxAbsOf(input.engine.share, input.gateway.share);
    const bound = elemBound(profile, { f, x, inFamily: 'residual', outFamily: 'normed', shareMax, etaMax: maxAbsOf(exact) });
    expect(bound).toBeLessThan(0.01 * maxAbsOf(exact));
    expect(maxAbsDiff(reconstruct(out), exact)).toBeLessThanOrEqual(bound);
    const step = h.ctx.gateway.step;
    const dest = recoverDestinations(x, gatewayView(h, step, rows * cols, 'residual'), permViewBound(profile, { family: 'residual', shareMax }));
    const rowOf = (j: number) => Math.floor(j / cols);
    const columnPermutations = new Set<string>();
    for (let r = 0; r < rows; r++) {
      // Every element of input row r lands in one and the same view row.
      const targets = new Set(Array.from(dest.subarray(r * cols, (r + 1) * cols), rowOf));
      expect(targets.size).toBe(1);
      columnPermutations.add(Array.from(dest.subarray(r * cols, (r + 1) * cols), (j) => j % cols).join(','));
    }
    // Independent column permutations per row (16! choices: equal ones would be a bug).
    expect(columnPermutations.size).toBe(rows);
    expect(dest).toEqual(drawPermutation(h.k02, step, f).dest);
  });

  it('Elem softmax (row-wise, scaled) with causally masked entries: masked probabilities are 0', async () => {
    const h = parties(profile);
    const prg = testPrg(`elem-softmax-${profile.name}`);
    const rows = 4;
    const cols = 12;
    const scale = 1 / Math.sqrt(16);
    const x = prg.uniformArray(rows * cols, 40);
    const f: ElemFunction = { kind: 'softmax', rows, cols, scale };
    const input = splitSecret(x, 'scores', prg, dataMaskWidth(profile, 'scores'));
    // P0 adds the causal mask to its share at future positions (row r sees keys 0..8+r).
    const masked = (r: number, c: number) => c > 8 + (r % 3);
    const xMasked = Float64Array.from(x);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        if (!masked(r, c)) continue;
        input.engine.share![r * cols + c]! += profile.causalMaskValue;
        xMasked[r * cols + c] = -Infinity;
      }
    }
    const out = await h.run((ctx) => elem(ctx, input[ctx.role], f, 'probs'));
    const exact = plainSoftmax(xMasked, rows, cols, scale);
    // Rounding bounds are element-wise in the view, so only unmasked shares count (a masked
    // entry's huge share only moves its own, already zero, probability).
    const unmasked = (a: Float64Array) => a.filter((_, i) => !masked(Math.floor(i / cols), i % cols));
    const shareMax = maxAbsOf(unmasked(input.engine.share!), unmasked(input.gateway.share!));
    const bound = elemBound(profile, { f, x, inFamily: 'scores', outFamily: 'probs', shareMax, etaMax: 1 });
    expect(bound).toBeLessThan(0.05 * maxAbsOf(exact));
    const z = reconstruct(out);
    expect(maxAbsDiff(z, exact)).toBeLessThanOrEqual(bound);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += z[r * cols + c]!;
      expect(Math.abs(sum - 1)).toBeLessThanOrEqual(cols * bound);
    }
  });
});
