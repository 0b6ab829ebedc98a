/**
 * What the ENGINE (P0) sees does not depend on the user's secret: for two different secrets,
 * the values P0 holds after each message from the gateway (decoded from the gateway→engine
 * frames, combined with P0's own share where it has one) are compared over many independent
 * calls with a two-sample Kolmogorov–Smirnov test at α = 0.001.
 *
 * Each sample pools one coordinate per row (or every coordinate of a constant secret) over
 * 40 calls, each call a fresh schedule step and therefore fresh masks: 2560 values per secret.
 * The KS test then rejects any pair of distributions more than D* = 1.95·√(2/2560) ≈ 0.055
 * apart. A mask of half-width w shifts the CDF by |a − b|/(2w) between secrets a and b:
 * ~1e-6 under our profile (not detectable, as required), 0.125 to 1 under a profile with
 * every ratio 1 (detected: the control that proves the test can fail).
 *
 * Keys are derived from fixed seeds, so every run draws the same masks: no flakiness.
 */
import { describe, expect, it } from 'vitest';
import { dataMaskWidth, PERMLLM_PROFILE, type FamilyMask, type MaskProfile, type TensorFamily } from '../../protocol/masks/mask-profile.js';
import { attentionScoresKV } from '../../protocol/subprotocols/mul-kv.js';
import { KvMemory } from '../../protocol/subprotocols/kv-memory.js';
import { mulW } from '../../protocol/subprotocols/mul-w.js';
import { elem, permOpen } from '../../protocol/subprotocols/perm-elem.js';
import type { Shared } from '../../protocol/session/party-context.js';
import { MessageKind } from '../../protocol/wire/frame.js';
import { ksCriticalValue, ksTwoSample, type KsResult } from '../helpers/kolmogorov-smirnov.js';
import { randomWeight, testPrg } from '../helpers/plain-ops.js';
import { sharedOf, splitSecret, ThreeParties, type PerParty } from '../helpers/three-party-harness.js';

const ALPHA = 0.001;
const CALLS = 40;
const PER_CALL = 64;

/** Every mask as wide as the value it hides: the strawman the test must catch. */
const WEAK_PROFILE: MaskProfile = Object.freeze({
  ...PERMLLM_PROFILE,
  name: 'weak-ratio-1',
  families: Object.fromEntries(Object.entries(PERMLLM_PROFILE.families).map(([f, m]) => [f, { bound: m.bound, ratio: 1 }])) as Record<TensorFamily, FamilyMask>,
  weightRatio: 1,
  beaverRatio: 1,
});

type ViewCollector = (profile: MaskProfile, secret: 'a' | 'b', seed: string) => Promise<number[]>;

function engineMessages(h: ThreeParties, kind: MessageKind): Float64Array[] {
  return h.messages('gateway', 'engine').filter((m) => m.kind === kind).map((m) => m.parts[0] as Float64Array);
}

/**
 * MulW's D on the embedding: P1 holds one-hot rows alone (P0's share is 0), so P0's view is D.
 * Secret a: token 3, secret b: token 7; sampled coordinate 3 of every row.
 */
const mulWView: ViewCollector = async (profile, secret, seed) => {
  const h = new ThreeParties({ profile, seed });
  const vocab = 16;
  const token = secret === 'a' ? 3 : 7;
  const w = randomWeight(testPrg('view-embedding'), { name: 'embedding', op: 'embedding', outDim: 4, inDim: vocab, amplitude: 1 });
  const ws = h.roleWeights(w);
  const onehot = new Float64Array(PER_CALL * vocab);
  for (let r = 0; r < PER_CALL; r++) onehot[r * vocab + token] = 1;
  const input = sharedOf({ family: 'onehot', offlineKnown: false }, new Float64Array(onehot.length), onehot);
  for (let c = 0; c < CALLS; c++) await h.run((ctx) => mulW(ctx, ws[ctx.role], input[ctx.role], PER_CALL, 'residual'));
  h.close();
  return engineMessages(h, MessageKind.MulWInput).flatMap((D) => Array.from({ length: PER_CALL }, (_, r) => D[r * vocab + 3]!));
};

/** Perm's x1 − A (logits): P0 holds x0 + (x1 − A) = x − A. Secrets: every logit +40 or −40. */
const permView: ViewCollector = async (profile, secret, seed) => {
  const h = new ThreeParties({ profile, seed });
  const prg = testPrg(`view-perm-${seed}`);
  const x = new Float64Array(PER_CALL).fill(secret === 'a' ? 40 : -40);
  const shares: PerParty<Shared>[] = [];
  for (let c = 0; c < CALLS; c++) {
    const input = splitSecret(x, 'logits', prg, dataMaskWidth(profile, 'logits'));
    shares.push(input);
    await h.run((ctx) => permOpen(ctx, input[ctx.role]));
  }
  h.close();
  return engineMessages(h, MessageKind.PermInput).flatMap((m, c) => Array.from(m, (v, i) => v + shares[c]!.engine.share![i]!));
};

/** Elem's η − A′ (RMSNorm, rows of +1 or −1, so η is ±1 everywhere): P0's share of η is 0. */
const elemView: ViewCollector = async (profile, secret, seed) => {
  const h = new ThreeParties({ profile, seed });
  const prg = testPrg(`view-elem-${seed}`);
  const rows = 4;
  const cols = PER_CALL / rows;
  const x = new Float64Array(PER_CALL).fill(secret === 'a' ? 1 : -1);
  for (let c = 0; c < CALLS; c++) {
    const input = splitSecret(x, 'residual', prg, dataMaskWidth(profile, 'residual'));
    await h.run((ctx) => elem(ctx, input[ctx.role], { kind: 'rmsnorm', rows, cols, eps: 1e-5 }, 'normed'));
  }
  h.close();
  return engineMessages(h, MessageKind.ElemReturn).flatMap((m) => Array.from(m));
};

/** The KV opening of new key rows: P0 holds k0 + (k1 − U_K1) = k − U_K1. Secrets: keys all +32 or −32. */
const kvView: ViewCollector = async (profile, secret, seed) => {
  const h = new ThreeParties({ profile, seed });
  const prg = testPrg(`view-kv-${seed}`);
  const shape = { nHeads: 2, nKvHeads: 1, headDim: 8 };
  const rows = PER_CALL / 8;
  const k = new Float64Array(PER_CALL).fill(secret === 'a' ? 32 : -32);
  const q = prg.uniformArray(rows * 16, 4);
  const v = prg.uniformArray(PER_CALL, 4);
  const engineK: Float64Array[] = [];
  for (let c = 0; c < CALLS; c++) {
    const ks = splitSecret(k, 'key', prg, dataMaskWidth(profile, 'key'));
    const qs = splitSecret(q, 'query', prg, dataMaskWidth(profile, 'query'));
    const vs = splitSecret(v, 'value', prg, dataMaskWidth(profile, 'value'));
    engineK.push(ks.engine.share!);
    const memory = { engine: new KvMemory(8, rows), gateway: new KvMemory(8, rows), dealer: new KvMemory(8, rows) };
    await h.run((ctx) => attentionScoresKV(ctx, shape, memory[ctx.role], qs[ctx.role], ks[ctx.role], vs[ctx.role], rows, 0));
  }
  h.close();
  return engineMessages(h, MessageKind.KvOpening).flatMap((m, c) => Array.from(m, (x, i) => x + engineK[c]![i]!));
};

const views: [string, ViewCollector][] = [
  ["MulW's D (one-hot embedding)", mulWView],
  ["Perm's x1 − A (logits)", permView],
  ["Elem's η − A′ (RMSNorm)", elemView],
  ['KV opening (new key rows)', kvView],
];

const results: string[] = [];

describe('the engine’s view is independent of the secret (two-sample KS, α = 0.001)', () => {
  it.each(views)('%s', async (name, collect) => {
    const run = async (profile: MaskProfile): Promise<KsResult> => {
      const a = await collect(profile, 'a', `${profile.name}/${name}/a`);
      const b = await collect(profile, 'b', `${profile.name}/${name}/b`);
      expect(a).toHaveLength(CALLS * PER_CALL);
      expect(b).toHaveLength(CALLS * PER_CALL);
      return ksTwoSample(a, b);
    };
    const strong = await run(PERMLLM_PROFILE);
    const weak = await run(WEAK_PROFILE);
    const critical = ksCriticalValue(ALPHA, strong.n, strong.m);
    results.push(`${name.padEnd(30)} permllm-f64: D=${strong.statistic.toFixed(4)} p=${strong.pValue.toFixed(3)}   weak-ratio-1: D=${weak.statistic.toFixed(4)} p=${weak.pValue.toExponential(1)}   (D*=${critical.toFixed(4)})`);
    // Our masks: the secret does not show.
    expect(strong.pValue).toBeGreaterThan(ALPHA);
    // The control: with masks as wide as the values, the same test sees the secret.
    expect(weak.pValue).toBeLessThan(ALPHA);
    if (results.length === views.length) console.log(`engine view, secret a vs b, ${CALLS * PER_CALL} values each:\n${results.join('\n')}`);
  });
});
