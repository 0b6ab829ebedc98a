/**
 * The gateway's per-token work between the permuted logits and the token query, timed over
 * logits shapes and sampling parameters (issue 11: it must not depend on either). Prints one
 * table; run with `npx tsx bench/sampling-timing.ts [vocab ...]` (default 512 32000 128256).
 *
 * Measured per call: the logit-adjustment delta (always a full-vocabulary add), sampleToken
 * and, for the logprobs rows, topLogprobs(20). Median of the repeats after a warm-up.
 */
import { pathToFileURL } from 'node:url';
import { Prg } from '../crypto/prg.js';
import { logitAdjustmentDelta, sampleToken, samplingRng, topLogprobs, type SamplingParams } from '../sampling/index.js';

export interface SamplingTimingRow {
  vocab: number;
  shape: string;
  params: string;
  ms: number;
}

const SHAPES: Record<string, (v: number, prg: Prg) => Float64Array> = {
  flat: (v) => new Float64Array(v),
  peaked: (v, prg) => {
    const x = Float64Array.from(prg.uniformArray(v, 1));
    x[v >> 1] = 30;
    return x;
  },
  noise: (v, prg) => Float64Array.from(prg.uniformArray(v, 8)),
};

const PARAMS: Record<string, { sampling: SamplingParams; logprobs?: number }> = {
  greedy: { sampling: { temperature: 0 } },
  'T=1': { sampling: { temperature: 1 } },
  'top-p 0.9': { sampling: { temperature: 0.8, topP: 0.9 } },
  'top-k 40': { sampling: { temperature: 1, topK: 40 } },
  'min-p 0.05': { sampling: { temperature: 1, minP: 0.05 } },
  'greedy + top_logprobs 20': { sampling: { temperature: 0 }, logprobs: 20 },
};

export function timeSampling(vocab: number, repeats = 7): SamplingTimingRow[] {
  const rows: SamplingTimingRow[] = [];
  const prg = Prg.fromSeed('sampling-timing', vocab);
  const rng = samplingRng(1);
  for (const [shape, make] of Object.entries(SHAPES)) {
    const logits = make(vocab, prg);
    for (const [name, { sampling, logprobs }] of Object.entries(PARAMS)) {
      const times: number[] = [];
      for (let k = 0; k <= repeats; k++) {
        const t0 = performance.now();
        const delta = logitAdjustmentDelta(vocab, { generated: [] }) ?? new Float64Array(vocab);
        const view = logits.slice();
        for (let i = 0; i < vocab; i++) view[i] = view[i]! + delta[i]!;
        sampleToken(view, sampling, rng);
        if (logprobs) topLogprobs(view, logprobs);
        if (k > 0) times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      rows.push({ vocab, shape, params: name, ms: times[Math.floor(times.length / 2)]! });
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const vocabs = process.argv.slice(2).map(Number);
  for (const vocab of vocabs.length ? vocabs : [512, 32000, 128256]) {
    const rows = timeSampling(vocab);
    const ms = rows.map((r) => r.ms);
    console.log(`vocab ${vocab}: min ${Math.min(...ms).toFixed(2)} ms, max ${Math.max(...ms).toFixed(2)} ms per token`);
    for (const r of rows) console.log(`  ${r.shape.padEnd(7)} ${r.params.padEnd(26)} ${r.ms.toFixed(2)} ms`);
  }
}
