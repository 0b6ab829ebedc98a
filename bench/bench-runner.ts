/**
 * `permllm bench`: for each model, the plaintext forward pass and the private protocol on the
 * same model and machine, under each emulated gateway–engine link; then the per-layer
 * extrapolation, and the JSON, markdown and SVG reports.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComputeBackend } from '../compute/compute-backend.js';
import type { ModelConfig } from '../model/model-description.js';
import { pairInProcessFor } from '../in-process/in-process-parties.js';
import { MASK_PROFILES } from '../protocol/masks/mask-profile.js';
import { Prg } from '../crypto/prg.js';
import type { BenchCell } from './acceptance-preset.js';
import { parseBenchProfile } from './bench-profile.js';
import { BENCH_MODELS, FULL_DEPTH_TARGETS, type BenchModel } from './bench-models.js';
import { benchResultsSchema, type BenchResults, type ExactCounts, type LinkResult, type ModelResult, type PrefillResult } from './bench-results.js';
import { extrapolate } from './extrapolation.js';
import { findingsOf } from './findings.js';
import { floorOf } from './floor-model.js';
import { LINK_SETTINGS, describeLink, isLinkSettingName, type LinkSettingName } from './link-settings.js';
import { plaintextModelFor, runPlaintext, type PlaintextRun } from './plaintext-timing.js';
import { runPrivateSession, timeParties, type DealerMode, type EmulationMode, type SessionMeasurement, type TimedParties } from './private-session.js';
import { renderChart } from './report-chart.js';
import { renderMarkdown } from './report-markdown.js';
import { timeTokenLookup, type LookupTiming } from './token-lookup-timing.js';

/** Re-exported: the CLI and scripts read a profile entry through the runner. */
export { parseBenchProfile };

export interface BenchOptions {
  quick: boolean;
  models: readonly string[];
  /**
   * Mask profiles to run the private protocol under, each beside the plaintext baseline; an entry
   * may name an attention mode after a colon (`ring64:single-view`; default: beaver).
   */
  profiles?: readonly string[];
  links: readonly LinkSettingName[];
  prompts: readonly number[];
  decodeTokens: number;
  emulation: EmulationMode;
  dealer: DealerMode;
  outDir: string;
  log: (line: string) => void;
  /**
   * What to measure, cell by cell (one model at one profile; acceptance-preset.ts). Without it,
   * every model at every profile, link and prompt (models × profiles × links × prompts).
   */
  cells?: readonly BenchCell[];
  /** The parties' compute backend (default: the process-wide in-thread one). */
  backend?: ComputeBackend;
}

export interface BenchFiles {
  json: string;
  markdown: string;
  chart: string;
}

/** Prompt token ids, seeded, avoiding the low ids llama2.c reserves (unk, BOS, EOS). */
function benchPrompt(vocab: number, length: number): number[] {
  const prg = Prg.fromSeed('permllm-bench/prompt', 1);
  return Array.from({ length }, () => 3 + prg.below(vocab - 3));
}

function parameterCount(c: ModelConfig): number {
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  return c.nLayers * (c.dim * (q + 2 * kv) + q * c.dim + 3 * c.hiddenDim * c.dim) + 2 * c.vocabSize * c.dim;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface PreparedModel {
  config: ModelConfig;
  /** The requested prompt lengths, capped to leave room for the decoded tokens in the context. */
  prompts: number[];
  parties: TimedParties;
  plaintext: Map<number, PlaintextRun>;
  loadMs: number;
  pairingMs: number;
}

/**
 * Loads the model, runs the plaintext baseline, pairs the three parties, and lets go of the
 * plaintext model and the float32 weights, so that only the parties' weights stay in memory.
 */
async function prepare(entry: BenchModel, profileName: string, requested: readonly number[], decodeTokens: number, log: (line: string) => void, deferFfnNorm = true, backend?: ComputeBackend): Promise<PreparedModel> {
  const t0 = performance.now();
  const model = await entry.load();
  const loadMs = performance.now() - t0;
  // stories260K holds 512 positions: a 512-token prompt becomes 512 − decodeTokens.
  const prompts = [...new Set(requested.map((p) => Math.min(p, model.config.maxSeqLen - decodeTokens)))].filter((p) => p > 0);
  if (prompts.length === 0) throw new Error(`${entry.name}: no prompt length fits a context of ${model.config.maxSeqLen}`);
  const plaintextModel = plaintextModelFor(model);
  const prompt = benchPrompt(model.config.vocabSize, Math.max(...prompts));
  await runPlaintext(plaintextModel, prompt.slice(0, 4), 2); // warm-up: onnxruntime sessions
  const plaintext = new Map<number, PlaintextRun>();
  for (const [i, p] of prompts.entries()) {
    const run = await runPlaintext(plaintextModel, prompt.slice(0, p), i === 0 ? decodeTokens : 1);
    plaintext.set(p, run);
    log(`  plaintext  prompt ${String(p).padStart(4)}: first token ${run.ttftMs.toFixed(1)} ms${run.decodeMsPerToken !== undefined ? `, decode ${run.decodeMsPerToken.toFixed(2)} ms/token` : ''}`);
  }
  const t1 = performance.now();
  const profile = MASK_PROFILES[profileName];
  if (!profile) throw new Error(`unknown mask profile "${profileName}" (known: ${Object.keys(MASK_PROFILES).join(', ')})`);
  const parties = timeParties(await pairInProcessFor(model, profile, backend, { deferFfnNorm }));
  log(`  ${profile.name} (${profile.hiding} hiding): paired in ${(performance.now() - t1).toFixed(0)} ms`);
  return { config: model.config, prompts, parties, plaintext, loadMs, pairingMs: performance.now() - t1 };
}

function prefillResult(m: SessionMeasurement, link: (typeof LINK_SETTINGS)[LinkSettingName], plaintextMs: number): PrefillResult {
  const { prefill } = m;
  return {
    promptTokens: m.promptTokens,
    ttftMs: m.ttftMs,
    ...prefill,
    floor: floorOf(link, prefill.flights, prefill.bytesToEngine + prefill.bytesFromEngine, plaintextMs, m.ttftMs),
    dealerOfflineMs: m.dealerOfflineMs,
  };
}

async function benchModel(entry: BenchModel, cell: BenchCell, options: BenchOptions): Promise<ModelResult> {
  const { log } = options;
  const { profile } = cell;
  log(`${entry.name} [${profile}]: ${entry.description}`);
  const { profile: maskProfile, attention, deferFfnNorm } = parseBenchProfile(profile);
  const prepared = await prepare(entry, maskProfile, cell.prompts, cell.decodeTokens, log, deferFfnNorm, options.backend);
  const { config, parties, plaintext, prompts } = prepared;
  parties.engine.attentionModes = ['beaver', attention];
  const prompt = benchPrompt(config.vocabSize, Math.max(...prompts));
  const plaintextDecode = plaintext.get(prompts[0]!)?.decodeMsPerToken;

  // Warm-up: onnxruntime's float64 sessions and SEAL's first context are built here.
  await runPrivateSession(parties, { promptTokens: prompt.slice(0, 4), maxTokens: 2, link: LINK_SETTINGS.none, emulation: options.emulation, dealer: options.dealer, attention });
  const results: LinkResult[] = [];
  for (const linkName of cell.links) {
    const link = LINK_SETTINGS[linkName];
    const prefill: PrefillResult[] = [];
    let decode: LinkResult['decode'] = null;
    let matches = true;
    for (const [i, p] of prompts.entries()) {
      if (i > 0 && !cell.longPromptLinks.includes(linkName)) continue;
      const m = await runPrivateSession(parties, { promptTokens: prompt.slice(0, p), maxTokens: i === 0 ? cell.decodeTokens : 1, link, emulation: options.emulation, dealer: options.dealer, attention });
      const plain = plaintext.get(p)!;
      prefill.push(prefillResult(m, link, plain.ttftMs));
      if (JSON.stringify(m.tokens) !== JSON.stringify(plain.tokens)) matches = false;
      let line = `  ${linkName.padEnd(5)}      prompt ${String(p).padStart(4)}: first token ${m.ttftMs.toFixed(1)} ms (${m.prefill.flights} flights, ${((m.prefill.bytesToEngine + m.prefill.bytesFromEngine) / 2 ** 20).toFixed(2)} MiB)`;
      if (m.decode) {
        const d = m.decode;
        const bytes = d.bytesToEngine + d.bytesFromEngine;
        decode = { ...d, floor: floorOf(link, d.flights, bytes, plaintextDecode ?? 0, d.msPerToken) };
        line += `, decode ${d.msPerToken.toFixed(1)} ms/token, ${d.flights} flights/token (${d.flightsPerLayer} per layer), ${(bytes / 1024).toFixed(1)} KiB/token; compute ${d.split.computeMs.toFixed(1)} / network ${d.split.networkMs.toFixed(1)} / dealer ${d.split.dealerMs.toFixed(1)} ms`;
      }
      log(line);
    }
    results.push({ link: linkName, rttMs: link.rttMs, bitsPerSecond: Number.isFinite(link.bitsPerSecond) ? link.bitsPerSecond : null, emulation: options.emulation, dealer: options.dealer, prefill, decode, matchesPlaintext: matches });
  }
  return {
    name: entry.name,
    profile,
    description: entry.description,
    shape: entry.shape ?? null,
    config: { dim: config.dim, hiddenDim: config.hiddenDim, nLayers: config.nLayers, nHeads: config.nHeads, nKvHeads: config.nKvHeads, headDim: config.headDim, vocabSize: config.vocabSize },
    parameters: parameterCount(config),
    loadMs: round(prepared.loadMs),
    pairingMs: round(prepared.pairingMs),
    plaintext: {
      prefill: prompts.map((p) => ({ promptTokens: p, ttftMs: plaintext.get(p)!.ttftMs })),
      decodeMsPerToken: plaintextDecode ?? null,
      decodeCpuMsPerToken: plaintext.get(prompts[0]!)?.decodeCpuMsPerToken ?? null,
    },
    private: results,
  };
}

export async function runBench(options: BenchOptions): Promise<{ results: BenchResults; files: BenchFiles }> {
  const startedAt = new Date().toISOString();
  const loadAverageStart = loadavg();
  const profileList = options.profiles ?? DEFAULT_BENCH_PROFILES;
  const cells: readonly BenchCell[] =
    options.cells ??
    options.models.flatMap((model) => profileList.map((profile) => ({ model, profile, links: options.links, prompts: options.prompts, longPromptLinks: options.links, decodeTokens: options.decodeTokens })));
  const entries = cells.map((cell) => {
    const entry = BENCH_MODELS.get(cell.model);
    if (!entry) throw new Error(`unknown model "${cell.model}" (known: ${[...BENCH_MODELS.keys()].join(', ')})`);
    return { entry, cell };
  });
  const unique = <T>(xs: readonly T[]) => [...new Set(xs)];
  // What the run as a whole covered (the union of its cells), as the reports read it.
  const covered = {
    models: unique(cells.map((c) => c.model)),
    profiles: unique(cells.map((c) => c.profile)),
    links: unique(cells.flatMap((c) => c.links)),
    prompts: unique(cells.flatMap((c) => c.prompts)).sort((a, b) => a - b),
    decodeTokens: Math.max(...cells.map((c) => c.decodeTokens)),
  };
  options.log(`permllm bench: ${covered.models.length} model(s), ${cells.length} (model, profile) cells; links ${covered.links.map((l) => `${l} (${describeLink(LINK_SETTINGS[l])})`).join(', ')}; prompts ${covered.prompts.join('/')}; up to ${covered.decodeTokens} tokens decoded; emulation ${options.emulation}; dealer ${options.dealer}`);
  const models: ModelResult[] = [];
  const snapshot = (tokenLookup: LookupTiming[], finished: boolean): BenchResults => ({
    schema: 'permllm-bench/1',
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, loadAverageStart, loadAverageEnd: loadavg() },
    options: { ...covered, emulation: options.emulation, dealer: options.dealer, ...(options.cells ? { cells: options.cells.map((c) => ({ ...c, links: [...c.links], prompts: [...c.prompts], longPromptLinks: [...c.longPromptLinks] })) } : {}), ...(finished ? {} : { partial: true }) },
    models: [...models],
    tokenLookup,
    extrapolation: { method: '', perLayer: [], fullDepth: [], vocabularyCost: null },
    findings: [],
  });
  for (const { entry, cell } of entries) {
    models.push(await benchModel(entry, cell, options));
    // After each cell, the reports so far (marked partial), so that a run cut short keeps what it measured.
    if (options.cells) await writeReports(snapshot([], false), options.outDir);
  }
  // The token lookup alone, at the vocabularies the extrapolation targets (skipped in quick mode).
  const lookupVocabs = options.quick ? [] : [...new Set([...models.map((m) => m.config.vocabSize), ...FULL_DEPTH_TARGETS.map((t) => t.vocab)])].sort((a, b) => a - b);
  const tokenLookup: LookupTiming[] = [];
  for (const vocab of lookupVocabs) {
    const t = await timeTokenLookup(vocab);
    tokenLookup.push(t);
    options.log(`token lookup alone, vocabulary ${vocab}: ${t.ms.toFixed(1)} ms, ${t.queryBytes} B query, ${t.answerBytes} B answer`);
  }
  const results = snapshot(tokenLookup, true);
  const files = await writeReports(results, options.outDir);
  return { results, files };
}

/**
 * ring64 (the default, perfect hiding) in the paper's attention mode and in the single-view mode
 * (issue 12), beside permllm-f64 (statistical), each with the plaintext baseline.
 */
export const DEFAULT_BENCH_PROFILES = ['ring64', 'ring64:single-view', 'permllm-f64'] as const;

/** Fills in the extrapolation and the findings from the measurements (in place). */
function analysed(results: BenchResults): BenchResults {
  const links = results.options.links.filter(isLinkSettingName);
  const first = results.options.profiles[0];
  results.extrapolation = extrapolate(results.models.filter((m) => m.profile === first), links, results.tokenLookup);
  results.findings = findingsOf(results);
  return results;
}

async function writeReports(results: BenchResults, outDir: string): Promise<BenchFiles> {
  analysed(results);
  benchResultsSchema.parse(results); // never write a file the schema would reject
  await mkdir(outDir, { recursive: true });
  const files: BenchFiles = { json: join(outDir, 'bench.json'), markdown: join(outDir, 'bench.md'), chart: join(outDir, 'time-per-token.svg') };
  await writeFile(files.json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(files.markdown, renderMarkdown(results));
  await writeFile(files.chart, renderChart(results));
  return files;
}

/**
 * Re-runs only the analysis (extrapolation, findings) and the reports on results files written
 * earlier, e.g. after the extrapolation changed, without measuring again. Several files (runs
 * made piecewise, e.g. the heavy models on their own) are analysed as one: their models side by
 * side, the union of their options, and per vocabulary the token-lookup timing that has the
 * online (query-ahead) figure, else the first. `exactCounts` (bench/exact-counts.ts) fill the
 * acceptance table's cells the runs did not measure (bench/modelled-cells.ts).
 */
export async function reanalyse(jsonPaths: string | readonly string[], outDir: string, exactCounts: readonly ExactCounts[] = []): Promise<{ results: BenchResults; files: BenchFiles }> {
  const paths = typeof jsonPaths === 'string' ? [jsonPaths] : jsonPaths;
  if (paths.length === 0) throw new Error('reanalyse: no results file');
  // The analysis is recomputed, so an older file's extrapolation and findings need not parse.
  const schema = benchResultsSchema.omit({ extrapolation: true, findings: true });
  const runs = await Promise.all(paths.map(async (p) => schema.parse(JSON.parse(await readFile(p, 'utf8')))));
  const [first, ...rest] = runs as [(typeof runs)[number], ...typeof runs];
  const union = <T>(xs: T[][]) => [...new Set(xs.flat())];
  const lookups = new Map<number, BenchResults['tokenLookup'][number]>();
  for (const t of runs.flatMap((r) => r.tokenLookup)) {
    const had = lookups.get(t.vocab);
    if (!had || (had.onlineMs === undefined && t.onlineMs !== undefined)) lookups.set(t.vocab, t);
  }
  const measured = {
    ...first,
    startedAt: [first, ...rest].map((r) => r.startedAt).sort()[0]!,
    finishedAt: [first, ...rest].map((r) => r.finishedAt).sort().at(-1)!,
    options: {
      ...first.options,
      models: union(runs.map((r) => r.options.models)),
      profiles: union(runs.map((r) => r.options.profiles)),
      links: union(runs.map((r) => r.options.links)),
      prompts: union(runs.map((r) => r.options.prompts)).sort((a, b) => a - b),
    },
    models: runs.flatMap((r) => r.models),
    tokenLookup: [...lookups.values()].sort((a, b) => a.vocab - b.vocab),
    // Exact counts for unmeasured cells (bench/exact-counts.ts): the files' own and those given.
    ...(runs.some((r) => r.exactCounts) || exactCounts.length > 0 ? { exactCounts: [...runs.flatMap((r) => r.exactCounts ?? []), ...exactCounts] } : {}),
  };
  const results: BenchResults = { ...measured, extrapolation: { method: '', perLayer: [], fullDepth: [], vocabularyCost: null }, findings: [] };
  return { results, files: await writeReports(results, outDir) };
}
