import { describe, expect, it } from 'vitest';
import { Prg } from '../crypto/prg.js';
import { logprobOf, logSoftmax, topLogprobs } from './logprobs.js';

describe('logprobs', () => {
  it('log-softmax sums to one in probability and is stable for large logits', () => {
    const logits = Float32Array.of(1000, 999, 998);
    const lp = logSoftmax(logits);
    expect(lp.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
    expect(lp[0]).toBeCloseTo(-Math.log(1 + Math.exp(-1) + Math.exp(-2)), 12);
    expect(logprobOf(logits, 2)).toBeCloseTo(lp[2]!, 12);
    expect(() => logprobOf(logits, 3)).toThrow(RangeError);
  });

  it('topLogprobs equals sorting the whole vector (ties: lower index first)', () => {
    const rng = Prg.fromSeed('logprobs-test', 1);
    for (let trial = 0; trial < 20; trial++) {
      // Rounded values so that ties occur.
      const logits = Float64Array.from(rng.uniformArray(300, 5), (v) => Math.round(v * 4) / 4);
      const lp = logSoftmax(logits);
      const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
      for (const k of [0, 1, 5, 20, 300]) {
        expect(topLogprobs(logits, k)).toEqual(order.slice(0, k).map((index) => ({ index, logprob: lp[index] })));
      }
    }
  });
});
