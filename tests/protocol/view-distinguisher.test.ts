/**
 * Can a curious ENGINE (P0) tell which of two prompts of equal length the user sent, from its
 * full recorded view of a private session? (Issue 11's acceptance; replaces the KS test, which
 * could not fail.)
 *
 * The engine's view: every value it holds after a gateway message, combined with its own share
 * (Perm inputs x − A, Elem returns η − A′, MulW inputs y − V, the Beaver openings k − U1,
 * v − U1, q − V1, P − V1), across the whole session: prefill and every decode pass. The dealer's
 * messages are functions of masks only. (The BFV token query is outside this test.)
 * The adversary knows the model and both candidate prompts, so it knows the true values x_A and
 * x_B behind every element (here: read from one reference session per prompt, x = v + m with m
 * reported by the gateway). Masks are uniform, so the optimal test is the support /
 * generalised likelihood-ratio test: the likelihood of candidate c is (1/2w)^n on the support
 * |x_c − v| ≤ w and the maximum-likelihood width is L_c = max |x_c − v| over the view, so it
 * decides for the candidate with the smaller L_c.
 * - Control, `ring64-weak-test` (every mask uniform on ±2^19 instead of the ring): must be
 *   detected (advantage 1 at 4 sessions per prompt).
 * - `ring64`: every received value is uniform on Z_2^64 whatever the prompt, so the advantage
 *   must stay within 3 standard errors of 0 at the stated count (SE = sqrt(0.5 / N) for N
 *   sessions per prompt); an excursion beyond that is confirmed on three times as many fresh
 *   sessions before the test fails (chance alone exceeds 3·SE at N = 10 about once in 400 runs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { RING64_PROFILE, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import { maxDeviation, recordEngineView } from '../helpers/engine-view.js';
import { pairModel, privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';

const SESSIONS_RING64 = 10;
const SESSIONS_WEAK = 4;
const NEW_TOKENS = 3;

const WEAK_PROFILE: MaskProfile = Object.freeze({ ...RING64_PROFILE, name: 'ring64-weak-test', hiding: 'statistical', ringMaskBits: 20 });

/** One session: the engine's held values v and the true values x = v + m, keyed by step/what. */
const recordSession = (parties: InProcessParties, prompt: readonly number[]) => recordEngineView(parties, () => privateGenerateInProcess(parties, prompt, NEW_TOKENS));

interface Outcome {
  advantage: number;
  correct: number;
  total: number;
  elements: number;
}

async function distinguish(model: ModelDescription, profile: MaskProfile, sessions: number, prompts: [number[], number[]]): Promise<Outcome> {
  const parties = await pairModel(model, profile);
  const refs = [await recordSession(parties, prompts[0]), await recordSession(parties, prompts[1])];
  let decidedA = [0, 0];
  let elements = 0;
  for (let s = 0; s < sessions; s++) {
    for (const secret of [0, 1]) {
      const { view } = await recordSession(parties, prompts[secret]!);
      elements = [...view.values()].reduce((n, v) => n + v.length, 0);
      const lA = maxDeviation(view, refs[0]!.truth);
      const lB = maxDeviation(view, refs[1]!.truth);
      const guessA = lA < lB || (lA === lB && s % 2 === 0);
      if (guessA) decidedA[secret]!++;
    }
  }
  const pA = decidedA[0]! / sessions;
  const pB = decidedA[1]! / sessions;
  const out = { advantage: pA - pB, correct: decidedA[0]! + (sessions - decidedA[1]!), total: 2 * sessions, elements };
  decidedA = [0, 0];
  return out;
}

describe('the engine cannot tell two prompts apart from its full view (support / GLR test)', () => {
  let model: ModelDescription;
  let prompts: [number[], number[]];
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    prompts = [model.tokenizer.encode('Tom went to the park', { addBos: true }), model.tokenizer.encode('Ben went to the park', { addBos: true })];
    expect(prompts[0]).toHaveLength(prompts[1].length);
    expect(prompts[0]).not.toEqual(prompts[1]);
  });

  it(`detects the weak control profile, and ring64 stays within sampling error (${SESSIONS_RING64} sessions per prompt)`, async () => {
    const weak = await distinguish(model, WEAK_PROFILE, SESSIONS_WEAK, prompts);
    const ring = await distinguish(model, RING64_PROFILE, SESSIONS_RING64, prompts);
    const se = Math.sqrt(0.5 / SESSIONS_RING64);
    console.log(
      `engine view distinguisher, prompts of ${prompts[0].length} tokens + ${NEW_TOKENS} decoded, ${ring.elements} engine-held values per session:\n` +
        `  ring64-weak-test (masks ±2^19): ${weak.correct}/${weak.total} correct, advantage ${weak.advantage.toFixed(2)}\n` +
        `  ring64:                        ${ring.correct}/${ring.total} correct, advantage ${ring.advantage.toFixed(2)} (standard error ${se.toFixed(2)}, bound 3·SE = ${(3 * se).toFixed(2)})`,
    );
    expect(weak.advantage).toBe(1);
    if (Math.abs(ring.advantage) > 3 * se) {
      // Under the null hypothesis a 3·SE excursion at 10 sessions per prompt happens by chance
      // about once in 400 runs (|X − Y| ≥ 7 for two Binomial(10, ½); seen once in CI). Confirm on
      // fresh sessions before failing: a real leak (the control's advantage is 1) exceeds the
      // bound again; chance does so about once in 400 of the already-rare first excursions.
      const again = await distinguish(model, RING64_PROFILE, 3 * SESSIONS_RING64, prompts);
      const seAgain = Math.sqrt(0.5 / (3 * SESSIONS_RING64));
      console.log(`  ring64 again:                  ${again.correct}/${again.total} correct, advantage ${again.advantage.toFixed(2)} (bound 3·SE = ${(3 * seAgain).toFixed(2)})`);
      expect(Math.abs(again.advantage)).toBeLessThanOrEqual(3 * seAgain);
    }
  }, 900_000);
});
