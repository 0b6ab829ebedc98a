import { describe, expect, it } from 'vitest';
import { Prg } from '../crypto/prg.js';
import { argmax, sampleToken } from './sample-token.js';
import type { SamplingParams } from './sampling-params.js';
import { samplingRng } from './sampling-rng.js';

function randomLogits(n: number, seed: number, spread = 4): Float32Array {
  return Float32Array.from(Prg.fromSeed('test-logits', seed).uniformArray(n, spread));
}

/** permuted[perm[i]] = logits[i], i.e. index i moves to perm[i] (Prg.permutation's convention). */
function permute(logits: Float32Array, perm: Uint32Array): Float32Array {
  const out = new Float32Array(logits.length);
  logits.forEach((v, i) => (out[perm[i]!] = v));
  return out;
}

describe('sampleToken', () => {
  it('is argmax at temperature 0, ties going to the lowest index', () => {
    expect(sampleToken(Float32Array.of(1, 3, 2, 3), { temperature: 0 }, Prg.random())).toBe(1);
    const logits = randomLogits(512, 1);
    expect(sampleToken(logits, { temperature: 0 }, Prg.random())).toBe(argmax(logits));
  });

  it('top-k = 1 equals greedy at any temperature', () => {
    for (let seed = 0; seed < 20; seed++) {
      const logits = randomLogits(512, seed);
      expect(sampleToken(logits, { temperature: 1.5, topK: 1 }, samplingRng(seed))).toBe(argmax(logits));
    }
    expect(sampleToken(Float64Array.of(0, 5, 5, 1), { temperature: 1, topK: 1 }, samplingRng(1))).toBe(1);
  });

  it('is reproducible from a seed and differs between seeds', () => {
    const logits = randomLogits(512, 2, 1);
    const run = (seed: number) => {
      const rng = samplingRng(seed);
      return Array.from({ length: 40 }, () => sampleToken(logits, { temperature: 1 }, rng));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it.each<SamplingParams>([
    { temperature: 1 },
    { temperature: 0.7, topP: 0.9 },
    { temperature: 1.3, topK: 40 },
    { temperature: 1, minP: 0.05 },
    { temperature: 0.8, topK: 100, topP: 0.95, minP: 0.02 },
    { temperature: 0 },
  ])('picks π(i) on π(logits) for the same rng stream: %o', (params) => {
    for (let seed = 0; seed < 25; seed++) {
      const logits = randomLogits(512, 100 + seed);
      const perm = Prg.fromSeed('test-perm', seed).permutation(512);
      const plain = samplingRng(seed);
      const permuted = samplingRng(seed);
      for (let draw = 0; draw < 4; draw++) {
        expect(sampleToken(permute(logits, perm), params, permuted)).toBe(perm[sampleToken(logits, params, plain)]);
      }
    }
  });

  it('follows the softmax distribution', () => {
    const logits = Float64Array.of(Math.log(0.5), Math.log(0.3), Math.log(0.2));
    const rng = samplingRng('distribution');
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, { temperature: 1 }, rng)]!++;
    expect(counts[0]! / 20000).toBeCloseTo(0.5, 1);
    expect(counts[1]! / 20000).toBeCloseTo(0.3, 1);
    expect(counts[2]! / 20000).toBeCloseTo(0.2, 1);
  });

  it.each<[SamplingParams, number[]]>([
    [{ temperature: 1, topP: 0.5 }, [0]],
    [{ temperature: 1, topP: 0.6 }, [0, 1]],
    [{ temperature: 1, topP: 1 }, [0, 1, 2, 3]],
    [{ temperature: 1, topK: 2 }, [0, 1]],
    [{ temperature: 1, minP: 0.5 }, [0, 1]],
    [{ temperature: 1, minP: 0.3 }, [0, 1, 2]],
  ])('%o only ever picks %j', (params, allowed) => {
    // probabilities 0.5, 0.3, 0.15, 0.05 placed at shuffled indices: 2, 0, 3, 1
    const place = [2, 0, 3, 1];
    const logits = new Float64Array(4);
    [0.5, 0.3, 0.15, 0.05].forEach((p, rank) => (logits[place[rank]!] = Math.log(p)));
    const rng = samplingRng('filters');
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i++) seen.add(sampleToken(logits, params, rng));
    expect([...seen].sort()).toEqual(allowed.map((rank) => place[rank]!).sort());
  });

  it('never picks -Infinity logits and rejects unusable input', () => {
    const logits = Float32Array.of(-Infinity, 0, -Infinity);
    const rng = samplingRng(3);
    for (let i = 0; i < 100; i++) expect(sampleToken(logits, { temperature: 2 }, rng)).toBe(1);
    expect(() => sampleToken(Float32Array.of(0, NaN), { temperature: 1 }, rng)).toThrow(/logits\[1\] is NaN/);
    expect(() => sampleToken(Float32Array.of(-Infinity), { temperature: 1 }, rng)).toThrow(/every logit is -Infinity/);
    expect(() => sampleToken(new Float32Array(0), { temperature: 1 }, rng)).toThrow(/empty/);
  });

  it.each<[SamplingParams, RegExp]>([
    [{ temperature: -1 }, /^temperature/],
    [{ temperature: NaN }, /^temperature/],
    [{ temperature: 1, topP: 0 }, /^topP/],
    [{ temperature: 1, topP: 1.5 }, /^topP/],
    [{ temperature: 1, topK: 2.5 }, /^topK/],
    [{ temperature: 1, minP: -0.1 }, /^minP/],
  ])('rejects %o naming the parameter', (params, pattern) => {
    expect(() => sampleToken(Float32Array.of(0, 1), params, samplingRng(0))).toThrow(pattern);
  });
});
