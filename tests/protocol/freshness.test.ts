/**
 * Freshness: every permutation and every mask is new for every call and every session.
 * - Within a session: repeated calls on the same input draw different permutations (read from
 *   P1's view) and send P0 entirely different values.
 * - Across sessions (fresh X25519 keys): the same input gives P0 entirely different views.
 * - Over whole forward passes of stories260K: no party derives a PRG label twice, except the
 *   one designed reuse (the dealer re-derives an Elem's output mask B′ as the next MulW's V),
 *   and no value P0 receives from P1 ever repeats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { dataMaskWidth, PERMLLM_PROFILE } from '../../protocol/masks/mask-profile.js';
import type { SubprotocolReport } from '../../protocol/session/party-context.js';
import { attentionScoresKV } from '../../protocol/subprotocols/mul-kv.js';
import { KvMemory } from '../../protocol/subprotocols/kv-memory.js';
import { mulW } from '../../protocol/subprotocols/mul-w.js';
import { elem, permOpen } from '../../protocol/subprotocols/perm-elem.js';
import type { PartyName } from '../../protocol/transport/party-network.js';
import { permViewBound } from '../helpers/error-bounds.js';
import { maxAbsOf, randomWeight, testPrg } from '../helpers/plain-ops.js';
import { PrivateModelHarness } from '../helpers/private-forward-harness.js';
import { splitSecret, ThreeParties, type PerParty } from '../helpers/three-party-harness.js';
import { gatewayView, recoverDestinations } from '../helpers/wire-views.js';

const profile = PERMLLM_PROFILE;
const open: ThreeParties[] = [];
afterAll(() => open.forEach((h) => h.close()));

function floatsSent(h: ThreeParties, from: PartyName, to: PartyName): number[] {
  return h.messages(from, to).flatMap((m) => m.parts.flatMap((p) => (p instanceof Float64Array ? Array.from(p) : [])));
}

/** Number of positions where two equally long value lists agree exactly. */
function coincidences(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0);
}

/** One MulW, one Elem (RMSNorm), one permOpen and one MulKV on fixed inputs with fixed shares. */
async function fixedWorkload(h: ThreeParties): Promise<Uint32Array[]> {
  const prg = testPrg('freshness-workload');
  const w = randomWeight(prg, { name: 'w', op: 'linear', outDim: 16, inDim: 32, amplitude: 0.5 });
  const ws = h.roleWeights(w);
  const y = splitSecret(prg.uniformArray(64, 2), 'normed', prg, dataMaskWidth(profile, 'normed'));
  const x = prg.uniformArray(64, 20);
  const r = splitSecret(x, 'residual', prg, dataMaskWidth(profile, 'residual'));
  const logits = prg.uniformArray(100, 30);
  const l = splitSecret(logits, 'logits', prg, dataMaskWidth(profile, 'logits'));
  const q = splitSecret(prg.uniformArray(16, 3), 'query', prg, dataMaskWidth(profile, 'query'));
  const k = splitSecret(prg.uniformArray(8, 3), 'key', prg, dataMaskWidth(profile, 'key'));
  const v = splitSecret(prg.uniformArray(8, 3), 'value', prg, dataMaskWidth(profile, 'value'));
  const memory: PerParty<KvMemory> = { engine: new KvMemory(8, 1), gateway: new KvMemory(8, 1), dealer: new KvMemory(8, 1) };
  await h.run((ctx) => mulW(ctx, ws[ctx.role], y[ctx.role], 2, 'query'));
  await h.run((ctx) => elem(ctx, r[ctx.role], { kind: 'rmsnorm', rows: 4, cols: 16, eps: 1e-5 }, 'normed'));
  await h.run((ctx) => permOpen(ctx, l[ctx.role]));
  await h.run((ctx) => attentionScoresKV(ctx, { nHeads: 2, nKvHeads: 1, headDim: 8 }, memory[ctx.role], q[ctx.role], k[ctx.role], v[ctx.role], 1, 0));
  const tolR = permViewBound(profile, { family: 'residual', shareMax: maxAbsOf(r.engine.share, r.gateway.share) });
  const tolL = permViewBound(profile, { family: 'logits', shareMax: maxAbsOf(l.engine.share, l.gateway.share) });
  return [recoverDestinations(x, gatewayView(h, 2, 64, 'residual'), tolR), recoverDestinations(logits, gatewayView(h, 3, 100, 'logits'), tolL)];
}

describe('freshness within a session', () => {
  it('two Elem calls and two permOpen calls on the same input draw different permutations and masks', async () => {
    const h = new ThreeParties({ profile });
    open.push(h);
    const prg = testPrg('freshness-calls');
    const x = prg.uniformArray(48, 20);
    const input = splitSecret(x, 'residual', prg, dataMaskWidth(profile, 'residual'));
    const f = { kind: 'rmsnorm', rows: 3, cols: 16, eps: 1e-5 } as const;
    await h.run((ctx) => elem(ctx, input[ctx.role], f, 'normed'));
    await h.run((ctx) => elem(ctx, input[ctx.role], f, 'normed'));
    const tol = permViewBound(profile, { family: 'residual', shareMax: maxAbsOf(input.engine.share, input.gateway.share) });
    const first = recoverDestinations(x, gatewayView(h, 1, 48, 'residual'), tol);
    const second = recoverDestinations(x, gatewayView(h, 2, 48, 'residual'), tol);
    expect(second).not.toEqual(first);
    // Every message value P0 received differs between the two calls.
    const sentAt = (step: number) => h.messages('gateway', 'engine').filter((m) => m.step === step).flatMap((m) => Array.from(m.parts[0] as Float64Array));
    const [a, b] = [sentAt(1), sentAt(2)];
    expect(a.length).toBe(2 * 48);
    expect(coincidences(a, b)).toBe(0);

    const logits = prg.uniformArray(100, 30);
    const l = splitSecret(logits, 'logits', prg, dataMaskWidth(profile, 'logits'));
    const p1 = await h.run((ctx) => permOpen(ctx, l[ctx.role]));
    const p2 = await h.run((ctx) => permOpen(ctx, l[ctx.role]));
    expect(p2.engine.permutation!.dest).not.toEqual(p1.engine.permutation!.dest);
    expect(p2.gateway.view).not.toEqual(p1.gateway.view);
  });
});

describe('freshness across sessions', () => {
  it('two sessions on the same inputs give the engine entirely different views and draw different permutations', async () => {
    const s1 = new ThreeParties({ profile });
    const s2 = new ThreeParties({ profile });
    open.push(s1, s2);
    const perms1 = await fixedWorkload(s1);
    const perms2 = await fixedWorkload(s2);
    for (const [from, to] of [['gateway', 'engine'], ['dealer', 'engine'], ['dealer', 'gateway'], ['engine', 'gateway']] as const) {
      const a = floatsSent(s1, from, to);
      const b = floatsSent(s2, from, to);
      expect(a.length).toBeGreaterThan(0);
      expect(coincidences(a, b)).toBe(0);
    }
    expect(perms2[0]).not.toEqual(perms1[0]);
    expect(perms2[1]).not.toEqual(perms1[1]);
  });
});

describe('freshness over whole forward passes (stories260K)', () => {
  let model: ModelDescription;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
  });

  /** Labels derived more than once, per party and key. */
  function repeatedLabels(labels: string[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    return new Map([...counts].filter(([, n]) => n > 1));
  }

  /** B′ labels of Elem steps whose output feeds a MulW directly (the designed V = B′ reuse). */
  function reusedElemMasks(reports: SubprotocolReport[]): Set<string> {
    const byStep = new Map(reports.map((r) => [r.step, r]));
    return new Set(reports.filter((r) => r.op === 'elem' && byStep.get(r.step + 1)?.op === 'mulW').map((r) => `${r.step}/B2`));
  }

  it.each([true, false])('optimized=%s: no label is derived twice except the dealer’s B′ = V, and no value P0 receives repeats', async (optimized) => {
    const run = new PrivateModelHarness(model, 8, { profile, optimized });
    try {
      const prompt = model.tokenizer.encode('Lily and Tom', { addBos: true });
      const first = await run.pass(prompt, 0);
      const second = await run.pass([42], prompt.length);
      expect(second.permutation.dest).not.toEqual(first.permutation.dest);
      const { labels, reports } = run.h;
      expect(labels.engine.k02.length).toBeGreaterThan(100);
      expect(repeatedLabels(labels.engine.k02)).toEqual(new Map());
      expect(repeatedLabels(labels.gateway.k12)).toEqual(new Map());
      expect(repeatedLabels(labels.dealer.k02)).toEqual(new Map());
      const reuse = reusedElemMasks(reports.gateway);
      // Per layer: RMSNorm→qkv, RMSNorm→gate/up, SwiGLU→down; plus final norm→LM head; two passes.
      expect(reuse.size).toBe(2 * (3 * model.config.nLayers + 1));
      expect(repeatedLabels(labels.dealer.k12)).toEqual(optimized ? new Map([...reuse].map((l) => [l, 2])) : new Map());
      // Every value P0 received from P1 is new (float64 masks: a repeat would mean a reused mask).
      const values = floatsSent(run.h, 'gateway', 'engine').filter((v) => v !== 0);
      expect(values.length).toBeGreaterThan(10_000);
      expect(new Set(values).size).toBe(values.length);
    } finally {
      run.close();
    }
  });
});
