/**
 * Can a curious ENGINE (P0) tell which of two inputs of equal length the user embedded, from its
 * full recorded view of a private embedding session? The same support / GLR test as
 * view-distinguisher.test.ts (see there for the statistics), over every value the engine holds
 * after a gateway message in the embedding pass: Perm inputs, Elem returns, MulW inputs, the
 * Beaver openings, and the diagonal MulW's input s − V, where s is the pooled final hidden state
 * (the only new value of this pass). The last step is also tested alone, since it carries the
 * embedding itself.
 * - Control `ring64-weak-test` (masks uniform on ±2^19): detected, advantage 1.
 * - `ring64`: within 3 standard errors of 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { embedInProcess } from '../../in-process/in-process-embedding.js';
import type { InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { RING64_PROFILE, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import { maxDeviation, recordEngineView } from '../helpers/engine-view.js';
import { pairModel } from '../helpers/private-vs-plaintext.js';

const SESSIONS_RING64 = 6;
const SESSIONS_WEAK = 3;
const WEAK_PROFILE: MaskProfile = Object.freeze({ ...RING64_PROFILE, name: 'ring64-weak-test', hiding: 'statistical', ringMaskBits: 20 });

const recordSession = (parties: InProcessParties, tokens: readonly number[]) => recordEngineView(parties, () => embedInProcess(parties, { tokens }));

interface Outcome {
  all: number;
  diagonal: number;
  elements: number;
  diagonalElements: number;
}

async function distinguish(model: ModelDescription, profile: MaskProfile, sessions: number, inputs: [number[], number[]]): Promise<Outcome> {
  const parties = await pairModel(model, profile);
  const refs = [await recordSession(parties, inputs[0]), await recordSession(parties, inputs[1])];
  const decidedA = { all: [0, 0], diagonal: [0, 0] };
  let elements = 0;
  let diagonalElements = 0;
  for (let s = 0; s < sessions; s++) {
    for (const secret of [0, 1]) {
      const { view } = await recordSession(parties, inputs[secret]!);
      elements = [...view.values()].reduce((n, v) => n + v.length, 0);
      diagonalElements = [...view].filter(([k]) => k.endsWith('/diagonal-input')).reduce((n, [, v]) => n + v.length, 0);
      for (const part of ['all', 'diagonal'] as const) {
        const only = part === 'diagonal' ? '/diagonal-input' : undefined;
        const lA = maxDeviation(view, refs[0]!.truth, only);
        const lB = maxDeviation(view, refs[1]!.truth, only);
        if (lA < lB || (lA === lB && s % 2 === 0)) decidedA[part][secret]!++;
      }
    }
  }
  const advantage = (d: number[]) => (d[0]! - d[1]!) / sessions;
  return { all: advantage(decidedA.all), diagonal: advantage(decidedA.diagonal), elements, diagonalElements };
}

describe('the engine cannot tell two embedded inputs apart from its full view', () => {
  let model: ModelDescription;
  let inputs: [number[], number[]];
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    inputs = [model.tokenizer.encode('Tom went to the park', { addBos: true }), model.tokenizer.encode('Ben went to the park', { addBos: true })];
    expect(inputs[0]).toHaveLength(inputs[1].length);
    expect(inputs[0]).not.toEqual(inputs[1]);
  });

  it(`detects the weak control profile; ring64 stays within sampling error (${SESSIONS_RING64} sessions per input)`, async () => {
    const weak = await distinguish(model, WEAK_PROFILE, SESSIONS_WEAK, inputs);
    const ring = await distinguish(model, RING64_PROFILE, SESSIONS_RING64, inputs);
    const se = Math.sqrt(0.5 / SESSIONS_RING64);
    console.log(
      `embedding view distinguisher, inputs of ${inputs[0].length} tokens, ${ring.elements} engine-held values per session (${ring.diagonalElements} in the pooled step):\n` +
        `  ring64-weak-test: advantage ${weak.all.toFixed(2)} (whole view), ${weak.diagonal.toFixed(2)} (pooled step alone)\n` +
        `  ring64:           advantage ${ring.all.toFixed(2)} (whole view), ${ring.diagonal.toFixed(2)} (pooled step alone); bound 3·SE = ${(3 * se).toFixed(2)}`,
    );
    expect(ring.diagonalElements).toBe(model.config.dim);
    expect(weak.all).toBe(1);
    expect(weak.diagonal).toBe(1);
    expect(Math.abs(ring.all)).toBeLessThanOrEqual(3 * se);
    expect(Math.abs(ring.diagonal)).toBeLessThanOrEqual(3 * se);
  }, 600_000);
});
