import { describe, expect, it } from 'vitest';
import { applyLogitAdjustments, isNeutral, logitAdjustmentDelta } from './logit-adjustments.js';

describe('applyLogitAdjustments', () => {
  it('subtracts presence·[count>0] + frequency·count and adds the bias (OpenAI semantics)', () => {
    const logits = new Float32Array(10).fill(1);
    const out = applyLogitAdjustments(logits, { presencePenalty: 0.5, frequencyPenalty: 0.25, logitBias: { 3: 2, 7: -1 }, generated: [5, 5, 7, 5] });
    expect(Array.from(out)).toEqual([1, 1, 1, 3, 1, 1 - 0.5 - 0.75, 1, 1 - 0.5 - 0.25 - 1, 1, 1]);
    expect(Array.from(logits)).toEqual(new Array(10).fill(1)); // input untouched
  });

  it('keeps the element type and accepts string keys as JSON delivers them', () => {
    const bias = JSON.parse('{"2": -100}') as Record<number, number>;
    const out = applyLogitAdjustments(Float64Array.of(0, 0, 0), { logitBias: bias, generated: [] });
    expect(out).toBeInstanceOf(Float64Array);
    expect(Array.from(out)).toEqual([0, 0, -100]);
  });

  it('ignores penalties before anything was generated', () => {
    expect(isNeutral({ presencePenalty: 2, frequencyPenalty: 2, generated: [] })).toBe(true);
    expect(logitAdjustmentDelta(4, { presencePenalty: 2, generated: [] })).toBeUndefined();
    expect(isNeutral({ presencePenalty: 2, generated: [1] })).toBe(false);
  });

  it('commutes with a permutation: adjust in vocabulary order, then permute', () => {
    const logits = Float64Array.of(0.1, 0.2, 0.3, 0.4);
    const perm = [2, 0, 3, 1];
    const adjusted = applyLogitAdjustments(logits, { frequencyPenalty: 1, logitBias: { 0: 5 }, generated: [3] });
    const permuted = new Float64Array(4);
    adjusted.forEach((v, i) => (permuted[perm[i]!] = v));
    expect(permuted[perm[0]!]).toBeCloseTo(5.1);
    expect(permuted[perm[3]!]).toBeCloseTo(-0.6);
  });

  it('rejects bias keys outside the vocabulary and non-finite values, naming them', () => {
    expect(() => applyLogitAdjustments(new Float32Array(4), { logitBias: { 4: 1 }, generated: [] })).toThrow(/logitBias: key "4"/);
    expect(() => applyLogitAdjustments(new Float32Array(4), { logitBias: JSON.parse('{"x": 1}') as Record<number, number>, generated: [] })).toThrow(/key "x"/);
    expect(() => applyLogitAdjustments(new Float32Array(4), { logitBias: { 1: NaN }, generated: [] })).toThrow(/logitBias\[1\]/);
    expect(() => applyLogitAdjustments(new Float32Array(4), { presencePenalty: Infinity, generated: [1] })).toThrow(/presencePenalty/);
    expect(() => applyLogitAdjustments(new Float32Array(4), { presencePenalty: 1, generated: [9] })).toThrow(/generated: token 9/);
  });

  it('a per-step constraint adds its delta to bias and penalties, sees the generated tokens, and must match the logits length', () => {
    const seen: number[][] = [];
    const constraint = {
      nextDelta: (generated: readonly number[], vocabSize: number) => {
        seen.push([...generated]);
        const d = new Float64Array(vocabSize).fill(-1024);
        d[2] = 0;
        return d;
      },
    };
    const adjusted = applyLogitAdjustments(new Float64Array([1, 2, 3, 4]), { logitBias: { 2: 1 }, constraint, generated: [2] });
    expect([...adjusted]).toEqual([1 - 1024, 2 - 1024, 4, 4 - 1024]);
    expect(seen).toEqual([[2]]);
    const short = { nextDelta: () => new Float64Array(3) };
    expect(() => applyLogitAdjustments(new Float64Array(4), { constraint: short, generated: [] })).toThrow(/constraint: delta has 3 entries/);
  });
});
