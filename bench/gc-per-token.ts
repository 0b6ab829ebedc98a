/**
 * Garbage-collection time per decoded token (issue 12, "per-call costs"): one private session in
 * process (ring64, greedy), with every GC pause in the process (all three parties) summed over
 * the decode steps and divided by their number, beside the decode time per token. Run with
 * `npx tsx bench/gc-per-token.ts [model [tokens]]` (default stories260K, 32 tokens).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pairInProcessFor, runInProcess } from '../in-process/in-process-parties.js';
import { RING64_PROFILE } from '../protocol/masks/mask-profile.js';
import { BENCH_MODELS } from './bench-models.js';

export async function gcPerToken(modelName: string, tokens: number): Promise<{ decodeMsPerToken: number; gcMsPerToken: number; gcPausesPerToken: number }> {
  const entry = BENCH_MODELS.get(modelName);
  if (!entry) throw new Error(`unknown model ${modelName}`);
  const parties = await pairInProcessFor(await entry.load(), RING64_PROFILE);
  let gcMs = 0;
  let pauses = 0;
  let counting = false;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!counting) continue;
      gcMs += e.duration;
      pauses++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const run = runInProcess(parties, { promptTokens: [1, 2, 3, 4], maxTokens: tokens, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, stopIds: new Set() });
  let seen = 0;
  let decodeStart = 0;
  for await (const e of run.events) {
    if (e.type !== 'token') continue;
    if (++seen === 1) {
      // GC entries arrive on a later turn: let the prefill's arrive before counting starts.
      await new Promise((resolve) => setTimeout(resolve, 20));
      counting = true;
      decodeStart = performance.now();
    }
  }
  const decodeMs = performance.now() - decodeStart;
  await run.done;
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  const steps = Math.max(1, seen - 1);
  return { decodeMsPerToken: decodeMs / steps, gcMsPerToken: gcMs / steps, gcPausesPerToken: pauses / steps };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const model = process.argv[2] ?? 'stories260K';
  const tokens = Number(process.argv[3] ?? 32);
  const r = await gcPerToken(model, tokens);
  console.log(`${model}: decode ${r.decodeMsPerToken.toFixed(1)} ms/token, GC ${r.gcMsPerToken.toFixed(2)} ms/token (${r.gcPausesPerToken.toFixed(1)} pauses/token)`);
}
