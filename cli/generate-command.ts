/**
 * `permllm generate`: one completion in one process.
 *
 *   permllm generate --plaintext [--model PATH] [--prompt TEXT] [-n N] [--temperature T]
 *                    [--top-p P] [--top-k K] [--min-p M] [--seed S] [--json]
 *
 * Prints only the completion text on stdout (streamed); timings go to stderr. With --json,
 * stdout gets one JSON object instead: {text, promptTokens, completionTokens, finishReason,
 * timings: {loadMs, prefillMs, decodeMs, decodeTokensPerSecond}}.
 *
 * Modes: --plaintext runs the reference forward pass; the default runs the private protocol
 * with all three parties in this process (engine, dealer and gateway talking only through
 * encoded frames), and --json then adds `stats`: critical-path flights per layer and per
 * decoded token, bytes per token to and from the engine, dealer bytes per token, and the
 * prefill and decode times.
 */
import { z } from 'zod';
import { parseCommandLine, type FlagDefinitions } from '../config/parse-flags.js';
import { loadModel, defaultModelPath } from '../model/load-model.js';
import type { ModelDescription } from '../model/model-description.js';
import { generate, type FinishReason } from '../plaintext/generate.js';
import { PlaintextModel } from '../plaintext/plaintext-model.js';
import type { TokenStepper } from '../plaintext/token-stepper.js';
import { samplingRng } from '../sampling/sampling-rng.js';
import { pairInProcessFor, runInProcess } from '../in-process/in-process-parties.js';
import type { PrivateSessionStats } from '../gateway/private/private-generation.js';
import { DEFAULT_PROFILE, MASK_PROFILES } from '../protocol/masks/mask-profile.js';

const USAGE = `usage: permllm generate [--plaintext] [--model PATH] [--prompt TEXT] [-n N] [--temperature T]
                        [--top-p P] [--top-k K] [--min-p M] [--seed S] [--profile NAME] [--json]

  (default)          the private protocol, engine + dealer + gateway in this process
  --plaintext        run the plaintext reference model instead
  --profile NAME     mask profile of the private protocol: ${Object.keys(MASK_PROFILES).join(' or ')}
                     (default ${DEFAULT_PROFILE.name}: perfect hiding; permllm-f64 and paper-f32 are statistical)
  --model PATH       llama2.c .bin, a folder holding one, or a Hugging Face folder
                     (default: $PERMLLM_MODEL, else ../shared/models/stories260K)
  --prompt TEXT      text to continue (default: empty, i.e. BOS only)
  -n, --max-tokens N most tokens to generate (default 256)
  --temperature T    0 = greedy (default 1)
  --top-p P          nucleus sampling mass in (0, 1] (default 1 = off)
  --top-k K          keep the K most likely tokens (default 0 = off)
  --min-p M          drop tokens below M x the top probability (default 0 = off)
  --seed S           integer seed: same seed, same text
  --json             print one JSON object instead of the text
`;

const generateFlags: FlagDefinitions = {
  plaintext: { type: 'boolean', help: 'run the plaintext reference model instead of the private protocol' },
  model: { type: 'string', help: 'llama2.c .bin, a folder holding one, or a Hugging Face folder', value: 'PATH' },
  prompt: { type: 'string', help: 'text to continue', value: 'TEXT' },
  'max-tokens': { type: 'string', short: 'n', help: 'most tokens to generate', value: 'N' },
  temperature: { type: 'string', help: '0 = greedy', value: 'T' },
  'top-p': { type: 'string', help: 'nucleus sampling mass in (0, 1]', value: 'P' },
  'top-k': { type: 'string', help: 'keep the K most likely tokens', value: 'K' },
  'min-p': { type: 'string', help: 'drop tokens below M x the top probability', value: 'M' },
  seed: { type: 'string', help: 'integer seed: same seed, same text', value: 'S' },
  json: { type: 'boolean', help: 'print one JSON object instead of the text' },
  profile: { type: 'string', help: 'mask profile of the private protocol', value: 'NAME' },
};

/** A flag's string as a number, so zod reports "expected number" for "abc" instead of NaN. */
const numeric = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);

const flagsSchema = z.object({
  plaintext: z.boolean().default(false),
  model: z.string().min(1).optional(),
  prompt: z.string().default(''),
  'max-tokens': numeric(z.number().int().min(1)).default(256),
  temperature: numeric(z.number().min(0)).default(1),
  'top-p': numeric(z.number().gt(0).max(1)).default(1),
  'top-k': numeric(z.number().int().min(0)).default(0),
  'min-p': numeric(z.number().min(0).max(1)).default(0),
  seed: z.string().regex(/^-?\d+$/, 'expected an integer').optional(),
  json: z.boolean().default(false),
  profile: z.enum(Object.keys(MASK_PROFILES) as [string, ...string[]]).default(DEFAULT_PROFILE.name),
});

export type GenerateFlags = z.infer<typeof flagsSchema> & { help: boolean };
type Mode = 'plaintext' | 'private';

/** Parses argv; returns the flags or every problem found, one line each (config/parse-flags). */
export function parseGenerateFlags(argv: string[]): { flags: GenerateFlags } | { errors: string[] } {
  // No environment fallbacks: generate reads only its flags (PERMLLM_MODEL is read by defaultModelPath).
  const parsed = parseCommandLine(argv, generateFlags, flagsSchema, {});
  if ('errors' in parsed) return { errors: parsed.errors };
  if (parsed.help) return { flags: { ...flagsSchema.parse({}), help: true } };
  return { flags: { ...parsed.config, help: false } };
}

export interface GenerateReport {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason | null;
  timings: { loadMs: number; prefillMs: number; decodeMs: number; decodeTokensPerSecond: number };
  /** Private mode only. */
  stats?: PrivateRunStats;
}

export interface PrivateRunStats {
  maskProfile: string;
  flightsPerLayer: number;
  flightsPerDecodedToken: number;
  bytesPerToken: { toEngine: number; fromEngine: number; fromDealer: number };
  prefillMs: number;
  decodeMs: number;
}

interface Completion {
  tokens: number[];
  finishReason: FinishReason | null;
  prefillMs: number;
  decodeMs: number;
  decodeSteps: number;
  stats?: PrivateRunStats;
}

/** The reference forward pass through the shared generation loop. */
async function completePlaintext(stepper: TokenStepper, prompt: number[], flags: GenerateFlags, stopIds: ReadonlySet<number>, onToken: (id: number) => void): Promise<Completion> {
  const generation = generate(stepper, prompt, { maxTokens: flags['max-tokens'], sampling: samplingOf(flags), rng: samplingRng(flags.seed), stopIds });
  for await (const { id } of generation) onToken(id);
  const { prefillMs, decodeMs, decodeSteps } = generation.timings;
  return { tokens: generation.tokens, finishReason: generation.finishReason ?? null, prefillMs, decodeMs, decodeSteps };
}

/** The private protocol, all three parties in this process. */
async function completePrivate(model: ModelDescription, prompt: number[], flags: GenerateFlags, onToken: (id: number) => void): Promise<Completion> {
  const profile = MASK_PROFILES[flags.profile] ?? DEFAULT_PROFILE;
  const parties = await pairInProcessFor(model, profile);
  const sampling = { ...samplingOf(flags), topP: flags['top-p'], topK: flags['top-k'], minP: flags['min-p'] };
  const run = runInProcess(parties, {
    promptTokens: prompt,
    maxTokens: flags['max-tokens'],
    sampling: flags.seed === undefined ? sampling : { ...sampling, seed: Number(flags.seed) },
    adjustments: {},
    stopIds: model.tokenizer.eosIds,
  });
  const tokens: number[] = [];
  let finishReason: FinishReason | null = null;
  let session: PrivateSessionStats | undefined;
  for await (const event of run.events) {
    if (event.type === 'token') {
      tokens.push(event.id);
      onToken(event.id);
    } else if (event.type === 'finish') finishReason = event.reason;
    else if (event.type === 'stats') session = event.stats;
  }
  const { engine } = await run.done;
  if (engine instanceof Error) throw engine;
  if (!session) throw new Error('private session ended without statistics');
  const decodeSteps = Math.max(1, engine.passes - 1);
  return {
    tokens,
    finishReason,
    prefillMs: session.prefillMs,
    decodeMs: session.decodeMs,
    decodeSteps: engine.passes - 1,
    stats: {
      maskProfile: profile.name,
      flightsPerLayer: session.flightsPerLayer,
      flightsPerDecodedToken: session.flightsPerToken,
      bytesPerToken: {
        toEngine: Math.round(session.perToken.bytesToEngine),
        fromEngine: Math.round(session.perToken.bytesFromEngine),
        fromDealer: Math.round(session.perToken.dealerBytesToGateway + (engine.dealerBytesTotal - engine.dealerBytesAfterPrefill) / decodeSteps),
      },
      prefillMs: round(session.prefillMs),
      decodeMs: round(session.decodeMs),
    },
  };
}

function samplingOf(flags: GenerateFlags) {
  return { temperature: flags.temperature, topP: flags['top-p'], topK: flags['top-k'], minP: flags['min-p'] };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseGenerateFlags(argv);
  if ('errors' in parsed) {
    process.stderr.write(`permllm generate: ${parsed.errors.length} problem(s) with the flags:\n${parsed.errors.map((e) => `  ${e}\n`).join('')}\n${USAGE}`);
    return 2;
  }
  const { flags } = parsed;
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const mode: Mode = flags.plaintext ? 'plaintext' : 'private';

  const loadStart = performance.now();
  const model = await loadModel(flags.model ?? defaultModelPath());
  const stepper = mode === 'plaintext' ? new PlaintextModel(model).newSequence() : undefined;
  const loadMs = performance.now() - loadStart;

  const { tokenizer } = model;
  const prompt = tokenizer.encode(flags.prompt, { addBos: true });
  let text = '';
  const context = [...prompt];
  const onToken = (id: number) => {
    const piece = tokenizer.decodeIncrement(context, [id]);
    context.push(id);
    text += piece;
    if (!flags.json && piece) process.stdout.write(piece);
  };
  const done = stepper ? await completePlaintext(stepper, prompt, flags, tokenizer.eosIds, onToken) : await completePrivate(model, prompt, flags, onToken);

  const { prefillMs, decodeMs, decodeSteps } = done;
  const report: GenerateReport = {
    text,
    promptTokens: prompt.length,
    completionTokens: done.tokens.length,
    finishReason: done.finishReason,
    timings: { loadMs: round(loadMs), prefillMs: round(prefillMs), decodeMs: round(decodeMs), decodeTokensPerSecond: decodeSteps > 0 ? round((decodeSteps * 1000) / decodeMs) : 0 },
  };
  if (done.stats) report.stats = done.stats;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    if (process.stdout.isTTY) process.stdout.write('\n');
    const t = report.timings;
    process.stderr.write(
      `[${mode}] ${model.id}: ${report.promptTokens} prompt + ${report.completionTokens} completion tokens (${report.finishReason}); load ${t.loadMs} ms, prefill ${t.prefillMs} ms, decode ${t.decodeTokensPerSecond} tokens/s\n`,
    );
    if (report.stats) {
      const s = report.stats;
      process.stderr.write(
        `[private] profile ${s.maskProfile}: ${s.flightsPerLayer} one-way flights per layer, ${s.flightsPerDecodedToken} per decoded token; per token ${s.bytesPerToken.toEngine} B to the engine, ${s.bytesPerToken.fromEngine} B from it, ${s.bytesPerToken.fromDealer} B from the dealer\n`,
      );
    }
  }
  return 0;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
