/**
 * The sampler and top_logprobs do the same work whatever the logits and the sampling
 * parameters (issue 11: the gateway's time per token up to the token query must not tell the
 * engine anything). Checked by counting the entries visited, not by timing (the benchmark
 * `bench/sampling-timing.ts` prints the times). And the fixed-work sampler still picks what the
 * sort-based one picked, draw for draw.
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../crypto/prg.js';
import type { WorkMeter } from './fixed-work-order.js';
import { topLogprobs } from './logprobs.js';
import { sampleToken } from './sample-token.js';
import { resolveSamplingParams, type SamplingParams } from './sampling-params.js';
import { samplingRng } from './sampling-rng.js';

const V = 2048;

function shapes(): [string, Float64Array][] {
  const prg = Prg.fromSeed('fixed-work-shapes', 1);
  const peaked = Float64Array.from(prg.uniformArray(V, 1));
  peaked[77] = 40;
  const withInfinities = Float64Array.from(prg.uniformArray(V, 3));
  for (let j = 0; j < V; j += 3) withInfinities[j] = -Infinity;
  return [
    ['flat (all equal)', new Float64Array(V)],
    ['uniform noise', Float64Array.from(prg.uniformArray(V, 5))],
    ['one dominant token', peaked],
    ['rounded (many ties)', Float64Array.from(prg.uniformArray(V, 4), (v) => Math.round(v))],
    ['a third -Infinity', withInfinities],
    ['huge magnitudes', Float64Array.from(prg.uniformArray(V, 1e6))],
    ['tiny magnitudes', Float64Array.from(prg.uniformArray(V, 1e-300))],
  ];
}

const PARAMS: SamplingParams[] = [
  { temperature: 0 },
  { temperature: 1 },
  { temperature: 0.7, topP: 0.9 },
  { temperature: 1.3, topK: 40 },
  { temperature: 1, minP: 0.05 },
  { temperature: 0.8, topK: 100, topP: 0.95, minP: 0.02 },
  { temperature: 2, topK: 1 },
];

/** The sampler as it was before issue 11 (sort the candidates), kept as the oracle. */
function sortedSampler(logits: Float64Array, params: SamplingParams, rng: Prg): number {
  const { temperature, topP, topK, minP } = resolveSamplingParams(params);
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const u = rng.uniform();
  const candidates: number[] = [];
  const t = temperature === 0 ? 1 : temperature;
  for (let i = 0; i < logits.length; i++) if (logits[i]! >= max - 60 * t) candidates.push(i);
  candidates.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (temperature === 0) return candidates[0]!;
  let count = topK > 0 ? Math.min(topK, candidates.length) : candidates.length;
  const weights = candidates.slice(0, count).map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  if (topP < 1) {
    let mass = 0;
    let keep = 0;
    while (keep < count) {
      mass += weights[keep]!;
      keep++;
      if (mass >= topP * total) break;
    }
    count = keep;
  }
  if (minP > 0) {
    let keep = 1;
    while (keep < count && weights[keep]! >= minP) keep++;
    count = keep;
  }
  const mass = weights.slice(0, count).reduce((a, b) => a + b, 0);
  let cumulative = 0;
  for (let j = 0; j < count; j++) {
    cumulative += weights[j]!;
    if (u * mass < cumulative) return candidates[j]!;
  }
  return candidates[count - 1]!;
}

describe('fixed-work sampling', () => {
  it('visits the same number of entries for every logits shape and every parameter set', () => {
    const visits = new Set<number>();
    for (const [, logits] of shapes()) {
      for (const params of PARAMS) {
        const meter: WorkMeter = { visits: 0 };
        sampleToken(logits, params, samplingRng(5), meter);
        visits.add(meter.visits);
      }
    }
    expect([...visits]).toHaveLength(1);
    // 2 preparation passes, the order's own pass, 3 cuts of 9 passes, 3 restrictions, 2 sums.
    expect([...visits][0]).toBe(35 * V);
  });

  it('top_logprobs visits the same number of entries for every logits shape (k fixed)', () => {
    for (const k of [1, 5, 20]) {
      const visits = new Set<number>();
      for (const [, logits] of shapes()) {
        const meter: WorkMeter = { visits: 0 };
        topLogprobs(logits, k, meter);
        visits.add(meter.visits);
      }
      expect([...visits], `k = ${k}`).toEqual([13 * V]);
    }
  });

  it('picks what the sort-based sampler picks, draw for draw', () => {
    let compared = 0;
    for (const [name, logits] of shapes()) {
      for (const params of PARAMS) {
        const fixed = samplingRng(`agree-${name}`);
        const sorted = samplingRng(`agree-${name}`);
        for (let draw = 0; draw < 30; draw++) {
          expect(sampleToken(logits, params, fixed), `${name} ${JSON.stringify(params)} draw ${draw}`).toBe(sortedSampler(logits, params, sorted));
          compared++;
        }
      }
    }
    expect(compared).toBe(shapes().length * PARAMS.length * 30);
  });
});
