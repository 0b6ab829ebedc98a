/**
 * How long the private protocol holds the event loop: one ring64 session with a long prompt
 * (default about 500 tokens, the load tests' prompt) with all three parties in this process,
 * while a timer probe measures every turn's lateness. All three parties share this one loop
 * here, so the longest stall is an upper bound on each party's longest synchronous stretch
 * between two yields (compute/event-loop-slices.ts) or asynchronous GEMMs; the networked
 * parties each see only their own share of it.
 *
 *   npx tsx bench/event-loop-stalls.ts [--repeat 33] [--max-tokens 2]
 *
 * Prints the measured numbers only (CPU time depends on the machine's load: compare runs made
 * side by side).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sliceYields } from '../compute/event-loop-slices.js';
import { pairInProcessFor, runInProcess } from '../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../model/load-model.js';
import { RING64_PROFILE } from '../protocol/masks/mask-profile.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '33' }, 'max-tokens': { type: 'string', default: '2' } } });
const model = await loadModel(defaultModelPath());
const prompt = model.tokenizer.encode('Once upon a time, there was a little girl named Lily. '.repeat(Number(values.repeat)), { addBos: true });
const parties = await pairInProcessFor(model, RING64_PROFILE);

// Probe: a 5 ms timer chain; each turn's lateness beyond 5 ms is time the loop was held.
const gaps: number[] = [];
let probing = true;
let last = performance.now();
const probe = () => {
  const now = performance.now();
  gaps.push(now - last - 5);
  last = now;
  if (probing) setTimeout(probe, 5);
};
setTimeout(probe, 5);
const histogram = monitorEventLoopDelay({ resolution: 5 });
histogram.enable();

const yieldsBefore = sliceYields();
const began = performance.now();
const run = runInProcess(parties, { promptTokens: prompt, maxTokens: Number(values['max-tokens']), sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, stopIds: new Set() });
let tokens = 0;
for await (const event of run.events) if (event.type === 'token') tokens++;
await run.done;
const seconds = (performance.now() - began) / 1000;
probing = false;
histogram.disable();

gaps.sort((a, b) => a - b);
const q = (p: number) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))]!.toFixed(1);
console.log(`${prompt.length} prompt tokens, ${tokens} generated in ${seconds.toFixed(1)} s; ${sliceYields() - yieldsBefore} slice yields`);
console.log(`event loop held (ms): max ${q(1)} p99 ${q(0.99)} p90 ${q(0.9)} median ${q(0.5)} over ${gaps.length} probe turns; perf_hooks max ${(histogram.max / 1e6).toFixed(1)}`);
