/**
 * Exact flights and bytes of prefills and decode steps that a benchmark run did not measure,
 * from short real sessions on the same model and profile (no figure here is a time).
 *
 *   npx tsx bench/exact-counts.ts --model synthetic-100m --profile ring64 --prompts 32,64,96 \
 *     [--decode-prompt 32 --decode-steps 3] [--no-fusion] --out bench/results/.../counts/NAME.json
 *
 * Why short sessions suffice (bench/cell-model.ts uses them): a prompt is prefilled in chunks of
 * PREFILL_CHUNK_ROWS = 32 rows (protocol/schedule/forward-program.ts), and every message of a
 * chunk of r rows starting at position s has a size that is a polynomial of degree ≤ 2 in (r, s)
 * (rows × widths, and the causal triangle r·s + r(r+1)/2 per head), so at r = 32 a chunk's
 * bytes are affine in its index c, as long as the plan takes the same decision for every chunk
 * (the fused P·V rule, plan-fused-values.ts). Three prompts 32·m0, 32·(m0+1), 32·(m0+2) then give
 * every 32·M prefill exactly; a decode step's bytes are affine in its key count the same way.
 * The model's validation (cell-model.test.ts, and the report's checks) compares such predictions
 * with sessions and cells that were measured.
 *
 * Sessions run on link `none` with the dealer ahead, as the benchmark's cells do; a prefill
 * point generates one token (maxTokens 1, as the benchmark's long prompts), so its window holds
 * the same messages as theirs. `--no-fusion` pairs with the fused P·V step switched off
 * (fusedValuesBytes: false): the schedule a default plan runs past its bound, reachable at a few
 * keys (its bytes equal the default plan's unfused chunks: the report checks it on stories260K).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { pairInProcessFor } from '../in-process/in-process-parties.js';
import { MASK_PROFILES } from '../protocol/masks/mask-profile.js';
import { Prg } from '../crypto/prg.js';
import { BENCH_MODELS } from './bench-models.js';
import { parseBenchProfile } from './bench-runner.js';
import { LINK_SETTINGS } from './link-settings.js';
import { runPrivateSession, timeParties } from './private-session.js';
import type { ExactCounts } from './cell-model.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The benchmark's prompt (bench-runner.ts benchPrompt): seeded, avoiding the reserved low ids. */
function benchPrompt(vocab: number, length: number): number[] {
  const prg = Prg.fromSeed('permllm-bench/prompt', 1);
  return Array.from({ length }, () => 3 + prg.below(vocab - 3));
}

async function main(): Promise<void> {
  const modelName = arg('model');
  const entry = modelName ? BENCH_MODELS.get(modelName) : undefined;
  const profileEntry = arg('profile') ?? 'ring64';
  const out = arg('out');
  if (!entry || !out) throw new Error('usage: exact-counts.ts --model NAME --profile PROFILE[:MODE] --prompts 32,64,96 [--decode-prompt N --decode-steps K] [--no-fusion] --out FILE');
  const prompts = (arg('prompts') ?? '').split(',').filter(Boolean).map(Number);
  const decodePrompt = arg('decode-prompt') === undefined ? undefined : Number(arg('decode-prompt'));
  const decodeSteps = Number(arg('decode-steps') ?? 3);
  const noFusion = process.argv.includes('--no-fusion');
  const { profile, attention, deferFfnNorm } = parseBenchProfile(profileEntry);
  const mask = MASK_PROFILES[profile];
  if (!mask) throw new Error(`unknown mask profile ${profile}`);
  const t0 = performance.now();
  const model = await entry.load();
  const parties = timeParties(await pairInProcessFor(model, mask, undefined, { deferFfnNorm, ...(noFusion ? { fusedValuesBytes: false as const } : {}) }));
  parties.engine.attentionModes = ['beaver', attention];
  const plan = parties.engine.ring?.plan;
  console.error(`${entry.name} [${profileEntry}${noFusion ? ', no fusion' : ''}]: paired in ${((performance.now() - t0) / 1000).toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)}`);
  const longest = Math.max(...prompts, (decodePrompt ?? 0) + decodeSteps);
  const tokens = benchPrompt(model.config.vocabSize, longest);
  const session = (n: number, maxTokens: number) =>
    runPrivateSession(parties, { promptTokens: tokens.slice(0, n), maxTokens, link: LINK_SETTINGS.none, emulation: 'wrapper', dealer: 'ahead', attention });
  const result: ExactCounts = {
    model: entry.name,
    profile: profileEntry,
    fusedValuesBytes: plan?.fusedValuesBytes ?? null,
    config: { nLayers: model.config.nLayers, nHeads: model.config.nHeads, headDim: model.config.headDim, vocabSize: model.config.vocabSize },
    prefill: [],
    decode: null,
    loadAverage: loadavg()[0]!,
  };
  for (const n of prompts) {
    const t = performance.now();
    const m = await session(n, 1);
    result.prefill.push({ promptTokens: n, flights: m.prefill.flights, bytes: m.prefill.bytesToEngine + m.prefill.bytesFromEngine, bytesByKind: m.prefill.bytesByKind });
    console.error(`  prefill ${n}: ${m.prefill.flights} flights, ${m.prefill.bytesToEngine + m.prefill.bytesFromEngine} B (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  if (decodePrompt !== undefined) {
    const m = await session(decodePrompt, decodeSteps + 1);
    result.decode = { promptTokens: decodePrompt, flightsPerToken: m.stats.flightsPerToken, flightsPerLayer: m.stats.flightsPerLayer, steps: m.decodeSteps };
    console.error(`  decode after ${decodePrompt}: ${m.stats.flightsPerToken} flights/token (${m.stats.flightsPerLayer}/layer), steps ${m.decodeSteps.map((s) => `${s.keys} keys ${s.bytes} B (query ${s.tokenQueryBytes})`).join('; ')}`);
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
