/**
 * MulW on three parties: z0 + z1 = f(X, y) + bias for the linear and the embedding op, with a
 * fresh V (D sent online) and with V = B′ (nothing sent), under both mask profiles. Tolerances
 * are the worst-case rounding bounds of tests/helpers/error-bounds.ts (mulWBound), computed
 * from the profile's mask widths; each test also checks that the bound is far below the values
 * (so a wrong result could not hide under it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dataMaskWidth, PAPER_PROFILE, PERMLLM_PROFILE, type MaskProfile } from '../masks/mask-profile.js';
import type { PrivateWeight } from '../model/private-weights.js';
import { MessageKind } from '../wire/frame.js';
import { elemBound, mulWBound } from '../../tests/helpers/error-bounds.js';
import { maxAbsOf, plainApplyWeight, plainRmsNorm, randomWeight, testPrg } from '../../tests/helpers/plain-ops.js';
import { maxAbsDiff, reconstruct, sharedOf, splitSecret, ThreeParties, type PerParty } from '../../tests/helpers/three-party-harness.js';
import type { Shared } from '../session/party-context.js';
import { mulW } from './mul-w.js';
import { elem } from './perm-elem.js';

const harnesses: ThreeParties[] = [];
function parties(profile: MaskProfile, optimized = true): ThreeParties {
  const h = new ThreeParties({ profile, optimized });
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

/** Runs MulW and checks the reconstruction against the plain op within the stated bound. */
async function checkMulW(h: ThreeParties, w: PrivateWeight, y: Float64Array, input: PerParty<Shared>, rows: number, vWidth: number): Promise<{ err: number; bound: number }> {
  const ws = h.roleWeights(w);
  const out = await h.run((ctx) => mulW(ctx, ws[ctx.role], input[ctx.role], rows, 'query'));
  expect(out.dealer.share).toBeUndefined();
  expect(out.gateway.meta.offlineKnown).toBe(true);
  const z = reconstruct(out);
  const exact = plainApplyWeight(w, y, rows);
  const err = maxAbsDiff(z, exact);
  const bound = mulWBound(h.profile, { inDim: w.inDim, scale: w.scale, vWidth, yMax: maxAbsOf(y, input.engine.share, input.gateway.share), biasMax: maxAbsOf(w.bias) });
  // The bound must be meaningful: well below the size of the values it checks.
  expect(bound).toBeLessThan(0.1 * maxAbsOf(exact));
  expect(err).toBeLessThanOrEqual(bound);
  return { err, bound };
}

function onlineMulWInputs(h: ThreeParties): number {
  return h.messages('gateway', 'engine').filter((m) => m.kind === MessageKind.MulWInput).length;
}

describe.each([PERMLLM_PROFILE, PAPER_PROFILE])('MulW ($name)', (profile) => {
  it('linear op with a fresh V: D travels once, z0 + z1 = y·Xᵀ', async () => {
    const h = parties(profile);
    const prg = testPrg(`mulw-linear-${profile.name}`);
    const rows = 3;
    const w = randomWeight(prg, { name: 'w', op: 'linear', outDim: 48, inDim: 64, amplitude: 0.3 });
    const y = prg.uniformArray(rows * 64, 3);
    const input = splitSecret(y, 'normed', prg, dataMaskWidth(profile, 'normed'));
    await checkMulW(h, w, y, input, rows, dataMaskWidth(profile, 'normed'));
    const sent = h.messages('gateway', 'engine');
    expect(sent.map((m) => m.kind)).toEqual([MessageKind.MulWInput]);
    expect(sent[0]!.parts[0]).toHaveLength(rows * 64);
    // The dealer's correction W1 goes to the gateway only; the engine gets nothing from the dealer.
    expect(h.messages('dealer', 'gateway').map((m) => m.kind)).toEqual([MessageKind.MulWCorrection]);
    expect(h.messages('dealer', 'engine')).toHaveLength(0);
    expect(h.messages('engine', 'gateway')).toHaveLength(0);
  });

  it('linear op with a bias (added by P0 only, once)', async () => {
    const h = parties(profile);
    const prg = testPrg(`mulw-bias-${profile.name}`);
    const rows = 2;
    const w = randomWeight(prg, { name: 'wb', op: 'linear', outDim: 40, inDim: 32, amplitude: 0.5, bias: true });
    const y = prg.uniformArray(rows * 32, 4);
    const input = splitSecret(y, 'normed', prg, dataMaskWidth(profile, 'normed'));
    await checkMulW(h, w, y, input, rows, dataMaskWidth(profile, 'normed'));
  });

  it('embedding op on one-hot rows held by P1 alone returns the table rows', async () => {
    const h = parties(profile);
    const prg = testPrg(`mulw-embedding-${profile.name}`);
    const vocab = 96;
    const dim = 32;
    const tokens = [5, 77, 5];
    const w = randomWeight(prg, { name: 'embedding', op: 'embedding', outDim: dim, inDim: vocab, amplitude: 0.9 });
    const onehot = new Float64Array(tokens.length * vocab);
    tokens.forEach((t, r) => (onehot[r * vocab + t] = 1));
    const input = sharedOf({ family: 'onehot', offlineKnown: false }, new Float64Array(onehot.length), Float64Array.from(onehot));
    await checkMulW(h, w, onehot, input, tokens.length, dataMaskWidth(profile, 'onehot'));
    // D is online (P1's one-hot is not known offline): a non-offline frame.
    const [d] = h.messages('gateway', 'engine');
    expect(d!.kind).toBe(MessageKind.MulWInput);
    expect(d!.offline).toBe(false);
  });

  it('V = B′: when P1 holds a k12 mask as its share, nothing is sent online and the result is exact', async () => {
    const h = parties(profile);
    const prg = testPrg(`mulw-reuse-${profile.name}`);
    const rows = 2;
    const width = dataMaskWidth(profile, 'ffn');
    const w = randomWeight(prg, { name: 'down', op: 'linear', outDim: 24, inDim: 40, amplitude: 0.25 });
    const y = prg.uniformArray(rows * 40, 5);
    // P1's share is the mask the dealer can re-derive (as after an Elem): label and width in meta.
    const label = 'test/B2';
    const y1 = h.k12.prg(label).uniformArray(y.length, width);
    const y0 = Float64Array.from(y, (v, i) => v - y1[i]!);
    const input = sharedOf({ family: 'ffn', offlineKnown: true, p1Mask: { label, width } }, y0, y1);
    await checkMulW(h, w, y, input, rows, width);
    expect(onlineMulWInputs(h)).toBe(0);
    expect(h.messages('gateway', 'engine')).toHaveLength(0);
  });

  it('without the V = B′ optimisation the same input sends D and gives the same result', async () => {
    const h = parties(profile, false);
    const prg = testPrg(`mulw-reuse-${profile.name}`);
    const rows = 2;
    const width = dataMaskWidth(profile, 'ffn');
    const w = randomWeight(prg, { name: 'down', op: 'linear', outDim: 24, inDim: 40, amplitude: 0.25 });
    const y = prg.uniformArray(rows * 40, 5);
    const label = 'test/B2';
    const y1 = h.k12.prg(label).uniformArray(y.length, width);
    const y0 = Float64Array.from(y, (v, i) => v - y1[i]!);
    const input = sharedOf({ family: 'ffn', offlineKnown: true, p1Mask: { label, width } }, y0, y1);
    await checkMulW(h, w, y, input, rows, width);
    expect(onlineMulWInputs(h)).toBe(1);
  });

  it('Elem(RMSNorm) then MulW: the chained V = B′ gives W·rmsnorm(x) with no MulW message', async () => {
    const h = parties(profile);
    const prg = testPrg(`mulw-chain-${profile.name}`);
    const rows = 2;
    const dim = 32;
    const w = randomWeight(prg, { name: 'qkv', op: 'linear', outDim: 48, inDim: dim, amplitude: 0.3 });
    const x = prg.uniformArray(rows * dim, 20);
    const input = splitSecret(x, 'residual', prg, dataMaskWidth(profile, 'residual'));
    const ws = h.roleWeights(w);
    const out = await h.run(async (ctx) => {
      const normed = await elem(ctx, input[ctx.role], { kind: 'rmsnorm', rows, cols: dim, eps: 1e-5 }, 'normed');
      return mulW(ctx, ws[ctx.role], normed, rows, 'query');
    });
    const exact = plainApplyWeight(w, plainRmsNorm(x, rows, dim, 1e-5), rows);
    const z = reconstruct(out);
    // The Elem's output error δ (elemBound) passes through X: |Δz| ≤ n·s·δ; plus MulW's own
    // bound with V = B′ of the 'normed' width.
    const f = { kind: 'rmsnorm', rows, cols: dim, eps: 1e-5 } as const;
    const normedErr = elemBound(profile, { f, x, inFamily: 'residual', outFamily: 'normed', shareMax: maxAbsOf(input.engine.share, input.gateway.share), etaMax: maxAbsOf(plainRmsNorm(x, rows, dim, 1e-5)) });
    const bound = mulWBound(profile, { inDim: dim, scale: w.scale, vWidth: dataMaskWidth(profile, 'normed'), yMax: 2 * dataMaskWidth(profile, 'normed') }) + dim * w.scale * normedErr;
    expect(bound).toBeLessThan(0.1 * maxAbsOf(exact));
    expect(maxAbsDiff(z, exact)).toBeLessThanOrEqual(bound);
    const kinds = h.messages('gateway', 'engine').map((m) => m.kind);
    expect(kinds).not.toContain(MessageKind.MulWInput);
    expect(kinds).toEqual([MessageKind.PermInput, MessageKind.ElemReturn]);
  });
});
