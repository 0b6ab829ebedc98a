/**
 * `permllm bench`: private vs plaintext on the same models and machine, under emulated links.
 *
 *   permllm bench [--quick | --acceptance] [--models a,b] [--links none,paper,wan] [--prompts 16,128,512]
 *                 [--decode N] [--emulation wrapper|relay] [--dealer ahead|streamed] [--out DIR]
 *   permllm bench relay --target HOST:PORT [--listen PORT] [--rtt MS] [--bandwidth BPS]
 *
 * Writes bench.json, bench.md and time-per-token.svg into --out; progress goes to stderr. The
 * figures are printed, never asserted (bench/README.md explains how to read them).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ACCEPTANCE_PRESET } from '../bench/acceptance-preset.js';
import { renderAcceptance } from '../bench/acceptance-summary.js';
import { BENCH_MODELS, DEFAULT_MODELS, MODEL_SETS, QUICK_MODELS } from '../bench/bench-models.js';
import { DEFAULT_BENCH_PROFILES, parseBenchProfile, reanalyse, runBench } from '../bench/bench-runner.js';
import { MASK_PROFILES } from '../protocol/masks/mask-profile.js';
import { LinkEmulator } from '../bench/link-emulator.js';
import { LINK_SETTINGS, isLinkSettingName, type LinkSettingName } from '../bench/link-settings.js';
import { MAX_COMPUTE_THREADS, WorkerPoolBackend } from '../compute/worker/worker-pool-backend.js';

const USAGE = `usage: permllm bench [--quick] [--models a,b] [--profiles ring64,permllm-f64] [--links none,paper,wan] [--prompts 16,128,512]
                     [--decode N] [--emulation wrapper|relay] [--dealer ahead|streamed] [--compute-threads N] [--out DIR]
       permllm bench relay --target HOST:PORT [--listen PORT] [--rtt MS] [--bandwidth BITS_PER_S]
       permllm bench gpu [--device cuda|auto|cpu] [--shape llama3-8b-layer|tiny] [--decode N] [--prefill N] ... (--help: all)

  --quick           stories260K only, prompts 8 and 32, 4 tokens (under a minute; CI smoke)
  --acceptance      issue 12's acceptance table in one run: stories260K, the 100M preset and the 8B layer, every
                    profile and link, plus what the full-8B extrapolation needs (bench/acceptance-preset.ts decides
                    every cell; about 45 minutes on the shared 2-core machine); --models/--profiles/--links/--prompts/--decode do not apply
  --models LIST     comma-separated model names or sets (default: stories260K, a few minutes; "full": every layer
                    shape at two depths and the 32k-vocabulary pair, what the extrapolation needs, 30–60 minutes);
                    known: ${[...BENCH_MODELS.keys()].join(', ')}
  --links LIST      link settings between gateway and engine: ${Object.values(LINK_SETTINGS)
  .map((l) => `${l.name} = ${l.description}`)
  .join('; ')} (default: all)
  --prompts LIST    prompt lengths in tokens (default 16,512; quick 8,32)
  --profiles a,b    mask profiles, each beside the plaintext baseline, optionally :MODE (attention mode:
                    beaver, the paper's, or single-view; default ring64,ring64:single-view,permllm-f64);
                    ring64:beaver:paper-norms runs ring64 without the deferred FFN norm (10 flights per layer with the fused P·V)
  --decode N        tokens generated in the shortest prompt's session (default 12; quick 4)
  --emulation MODE  wrapper: in-process link wrapper (default); relay: loopback TCP through the relay
  --dealer MODE     ahead: the dealer makes the session's material before the online phase (default);
                    streamed: it runs alongside, sharing this process's event loop
  --compute-threads N  the three parties' matrix products in N worker threads (one pool shared by all three,
                    compute/worker/; default 0: on this process's main thread)
  --out DIR         where the reports go (default bench/results; quick bench/results/quick)
  --from-json FILES measure nothing: redo the extrapolation and the reports from one or more bench.json
                    (comma-separated: their models are analysed together, e.g. runs made piecewise)

  gpu: the parties' weight products per token on the CPU and on the GPU at Llama-3.1-8B shapes
  (one layer, the head, and the whole 8B shape where it fits): ms per token, GPU memory, and
  host↔device bytes per token (bench/gpu-compute.ts; docs/deploy.md "GPU").

  relay: a TCP relay that adds one-way delay (RTT/2) and paces each direction's bandwidth;
  put it between a gateway and an engine: the gateway dials --listen, the relay dials --target.
`;

function validProfileEntry(entry: string): boolean {
  try {
    const { profile, attention, deferFfnNorm } = parseBenchProfile(entry);
    return Object.hasOwn(MASK_PROFILES, profile) && ((attention === 'beaver' && deferFfnNorm) || MASK_PROFILES[profile]!.dtype === 'ring64');
  } catch {
    return false;
  }
}

const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v);
const numeric = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);

const benchFlagsSchema = z.object({
  quick: z.boolean().default(false),
  acceptance: z.boolean().default(false),
  models: z.preprocess(
    (v) => (list(v) as unknown[] | undefined)?.flatMap((m) => (typeof m === 'string' && MODEL_SETS.has(m) ? [...MODEL_SETS.get(m)!] : [m])),
    z.array(z.string().refine((m) => BENCH_MODELS.has(m), { message: 'unknown model' })).min(1),
  ).optional(),
  profiles: z.preprocess(list, z.array(z.string().refine(validProfileEntry, { message: 'unknown mask profile or attention mode' })).min(1)).optional(),
  links: z.preprocess(list, z.array(z.string().refine(isLinkSettingName, { message: `expected one of ${Object.keys(LINK_SETTINGS).join(', ')}` })).min(1)).optional(),
  prompts: z.preprocess((v) => (list(v) as unknown[] | undefined)?.map(Number), z.array(z.number().int().min(1).max(8192)).min(1)).optional(),
  decode: numeric(z.number().int().min(2).max(1024)).optional(),
  emulation: z.enum(['wrapper', 'relay']).default('wrapper'),
  dealer: z.enum(['ahead', 'streamed']).default('ahead'),
  'compute-threads': numeric(z.number().int().min(0).max(MAX_COMPUTE_THREADS)).default(0),
  out: z.string().min(1).optional(),
  'from-json': z.string().min(1).optional(),
  help: z.boolean().default(false),
});

const relayFlagsSchema = z.object({
  target: z.string().regex(/^[^:]+:\d+$/, 'expected HOST:PORT'),
  listen: numeric(z.number().int().min(0).max(65535)).default(0),
  rtt: numeric(z.number().min(0)).default(0),
  bandwidth: numeric(z.number().positive()).optional(),
});

function problems(error: z.ZodError): string {
  return error.issues.map((i) => `  --${String(i.path[0] ?? '')}: ${i.message}\n`).join('');
}

async function runRelay(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { target: { type: 'string' }, listen: { type: 'string' }, rtt: { type: 'string' }, bandwidth: { type: 'string' } }, strict: true });
  const parsed = relayFlagsSchema.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`permllm bench relay: bad flags:\n${problems(parsed.error)}\n${USAGE}`);
    return 2;
  }
  const { target, listen, rtt, bandwidth } = parsed.data;
  const [host, port] = target.split(':') as [string, string];
  const relay = await LinkEmulator.start({ listenPort: listen, targetHost: host, targetPort: Number(port), oneWayDelayMs: rtt / 2, bitsPerSecond: bandwidth ?? Number.POSITIVE_INFINITY });
  process.stderr.write(`relay listening on 127.0.0.1:${relay.port} → ${target}, ${rtt} ms RTT, ${bandwidth ? `${bandwidth} bit/s` : 'unpaced'}; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await relay.close();
  process.stderr.write(`relay: ${relay.totals.connections} connection(s), ${relay.totals.upstreamBytes} bytes up, ${relay.totals.downstreamBytes} bytes down\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'relay') return runRelay(argv.slice(1));
  if (argv[0] === 'gpu') return (await import('./bench-gpu-command.js')).runGpuBenchCommand(argv.slice(1));
  // `permllm bench --device D ...` is the GPU section (the end-to-end bench runs on the CPU).
  if (argv.some((a) => a === '--device' || a.startsWith('--device='))) return (await import('./bench-gpu-command.js')).runGpuBenchCommand(argv);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        acceptance: { type: 'boolean' },
        models: { type: 'string' },
        profiles: { type: 'string' },
        links: { type: 'string' },
        prompts: { type: 'string' },
        decode: { type: 'string' },
        emulation: { type: 'string' },
        dealer: { type: 'string' },
        'compute-threads': { type: 'string' },
        out: { type: 'string' },
        'from-json': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`permllm bench: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const parsed = benchFlagsSchema.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`permllm bench: bad flags:\n${problems(parsed.error)}\n${USAGE}`);
    return 2;
  }
  const flags = parsed.data;
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const quick = flags.quick;
  if (flags.acceptance && (quick || flags.models || flags.profiles || flags.links || flags.prompts || flags.decode)) {
    process.stderr.write(`permllm bench: --acceptance decides its own models, profiles, links, prompts and decode counts (bench/acceptance-preset.ts)\n\n${USAGE}`);
    return 2;
  }
  const fromJson = flags['from-json'];
  const pool = flags['compute-threads'] > 0 && !fromJson ? new WorkerPoolBackend({ size: flags['compute-threads'] }) : undefined;
  const { results, files } = fromJson
    ? await reanalyse(fromJson.split(',').map((f) => f.trim()).filter((f) => f !== ''), flags.out ?? 'bench/results')
    : await runBench({
        ...(pool ? { backend: pool } : {}),
        quick,
        ...(flags.acceptance ? { cells: ACCEPTANCE_PRESET } : {}),
        models: flags.models ?? (quick ? QUICK_MODELS : DEFAULT_MODELS),
        profiles: flags.profiles ?? [...DEFAULT_BENCH_PROFILES],
        links: (flags.links ?? Object.keys(LINK_SETTINGS)) as LinkSettingName[],
        prompts: [...new Set(flags.prompts ?? (quick ? [8, 32] : [16, 512]))].sort((a, b) => a - b),
        decodeTokens: flags.decode ?? (quick ? 4 : 12),
        emulation: flags.emulation,
        dealer: flags.dealer,
        outDir: flags.out ?? (quick ? 'bench/results/quick' : flags.acceptance ? 'bench/results/acceptance' : 'bench/results'),
        log: (line) => process.stderr.write(`${line}\n`),
      }).finally(() => pool?.close());
  process.stdout.write(`\n${renderAcceptance(results)}\n${results.findings.map((f) => `- ${f}`).join('\n')}\n\nwrote ${files.json}, ${files.markdown}, ${files.chart}\n`);
  return 0;
}
