/**
 * Paper-exposure attention (Beaver MulKV, ring64) sends only the causal lower triangle of the
 * scores and probabilities (issue 12): in a T-row prefill every softmax input the engine holds
 * and every probability opening has H·T(T+1)/2 entries, and nothing the engine receives has the
 * full square's H·T² entries; the result stays the fixed-point oracle's bit for bit (the other
 * ring64 tests), and these sizes are what the transport carries (one ring element each).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pairInProcessFor } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import type { ModelDescription } from '../../model/model-description.js';
import { fixedPointGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

describe('causal triangle in the paper attention mode (ring64)', () => {
  let model: ModelDescription;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
  });

  it('a 30-token prefill (one chunk) opens H·T(T+1)/2 probabilities per layer, never H·T²', async () => {
    // The Beaver P·V (the fused step, ring-fused-values.ts, opens no probabilities: fused-values.test.ts).
    const parties = await pairInProcessFor(model, RING64_PROFILE, undefined, { fusedValuesBytes: false });
    const held = new Map<string, number>();
    parties.engine.ringViewTap = (step, what, values) => held.set(`${step}/${what}`, values.length);
    const prompt = Array.from({ length: 30 }, (_, i) => 3 + ((i * 37) % 500));
    const T = prompt.length;
    const H = model.config.nHeads;
    const priv = await privateGenerateInProcess(parties, prompt, 2);
    const oracle = await fixedPointGenerate(parties, prompt, 2);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    const triangle = (H * T * (T + 1)) / 2;
    const probs = [...held].filter(([k]) => k.endsWith('/kv-probs')).map(([, n]) => n);
    // The prefill's layers, then the decode step's (one row of T + 1 keys).
    expect(probs).toEqual([...Array(model.config.nLayers).fill(triangle), ...Array(model.config.nLayers).fill(H * (T + 1))]);
    const softmaxInputs = [...held].filter(([k]) => k.endsWith('/view-input/0')).map(([, n]) => n);
    expect(softmaxInputs.slice(0, model.config.nLayers)).toEqual(Array(model.config.nLayers).fill(triangle));
    const returns = [...held].filter(([k]) => k.endsWith('/view-return/0')).map(([, n]) => n);
    expect(Math.max(...softmaxInputs, ...probs, ...returns)).toBeLessThan(H * T * T);
  });
});
