/**
 * `permllm bench gpu`: the parties' weight products per token on the CPU and on the GPU
 * (bench/gpu-compute.ts). Prints a markdown report on stdout and writes gpu-compute.json and
 * gpu-compute.md into --out; progress goes to stderr.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { GPU_BENCH_SHAPES, gpuBenchMarkdown, runGpuComputeBench, writeGpuBench } from '../bench/gpu-compute.js';
import { COMPUTE_DEVICES } from '../compute/device-selection.js';

export const GPU_BENCH_USAGE = `usage: permllm bench gpu [--device cuda|auto|cpu] [--shape ${Object.keys(GPU_BENCH_SHAPES).join('|')}] [--decode N] [--prefill N]
                         [--cpu-prefill-rows N] [--no-full-model] [--parties] [--threads N] [--out DIR]

  --device D            cuda: the CPU and the GPU (fails without one); auto: the GPU if usable (default); cpu: the CPU only
                        [$PERMLLM_DEVICE]
  --shape S             layer shapes (default llama3-8b-layer: Llama-3.1-8B, dim 4096, hidden 14336, GQA 32:8, 128k head)
  --decode N            decode tokens timed, median reported (default 5)
  --prefill N           prefill length (default 512)
  --cpu-prefill-rows N  the CPU's prefill is measured at N rows and scaled to --prefill (default 16)
  --no-full-model       skip the whole-model shape on the GPU (32 resident layers + head)
  --parties             also the gateway/dealer's ring × ring products (8 B per parameter)
  --threads N           CPU threads (default: onnxruntime's choice)
  --out DIR             where gpu-compute.json and gpu-compute.md go (default bench/results/gpu)
`;

const int = (min: number) => z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().int().min(min));

const schema = z.object({
  device: z.enum(COMPUTE_DEVICES).default('auto'),
  shape: z.string().refine((s) => Object.hasOwn(GPU_BENCH_SHAPES, s), { message: `expected one of ${Object.keys(GPU_BENCH_SHAPES).join(', ')}` }).default('llama3-8b-layer'),
  decode: int(1).default(5),
  prefill: int(1).default(512),
  'cpu-prefill-rows': int(1).default(16),
  'no-full-model': z.boolean().default(false),
  parties: z.boolean().default(false),
  threads: int(1).optional(),
  out: z.string().min(1).default('bench/results/gpu'),
  help: z.boolean().default(false),
});

export async function runGpuBenchCommand(argv: string[]): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        device: { type: 'string' },
        shape: { type: 'string' },
        decode: { type: 'string' },
        prefill: { type: 'string' },
        'cpu-prefill-rows': { type: 'string' },
        'no-full-model': { type: 'boolean' },
        parties: { type: 'boolean' },
        threads: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`permllm bench gpu: ${error instanceof Error ? error.message : String(error)}\n\n${GPU_BENCH_USAGE}`);
    return 2;
  }
  if (values['device'] === undefined && process.env['PERMLLM_DEVICE']) values['device'] = process.env['PERMLLM_DEVICE'];
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`permllm bench gpu: bad flags:\n${parsed.error.issues.map((i) => `  --${String(i.path[0] ?? '')}: ${i.message}\n`).join('')}\n${GPU_BENCH_USAGE}`);
    return 2;
  }
  const f = parsed.data;
  if (f.help) {
    process.stdout.write(GPU_BENCH_USAGE);
    return 0;
  }
  const result = await runGpuComputeBench({
    shape: GPU_BENCH_SHAPES[f.shape]!,
    device: f.device,
    decodeTokens: f.decode,
    prefillTokens: f.prefill,
    cpuPrefillRows: Math.min(f['cpu-prefill-rows'], f.prefill),
    fullModel: !f['no-full-model'],
    parties: f.parties,
    ...(f.threads === undefined ? {} : { cpuThreads: f.threads }),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const files = await writeGpuBench(result, f.out);
  process.stdout.write(`${gpuBenchMarkdown(result)}\nwrote ${files.json}, ${files.markdown}\n`);
  return 0;
}
