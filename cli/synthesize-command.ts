/**
 * `permllm synthesize`: writes a synthetic model (seeded random weights at a real shape, real
 * tokenizer) as a Hugging Face folder that `--model` accepts everywhere.
 *
 *   permllm synthesize --preset NAME [--seed S] [--out DIR]
 *   permllm synthesize --list
 *
 * Without --out the model goes to the shared cache (os.tmpdir()/permllm-synthetic/...), and
 * an existing cached copy is reused. The folder's path is printed on stdout; what was made
 * and how long it took go to stderr.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  ensureSyntheticModel,
  isSyntheticPresetName,
  resolveSyntheticSpec,
  SYNTHETIC_PRESETS,
  syntheticParameterCount,
  writeSyntheticModel,
} from '../model/synthetic/index.js';

const USAGE = `usage: permllm synthesize --preset NAME [--seed S] [--out DIR]
       permllm synthesize --list

  --preset NAME  one of: ${Object.keys(SYNTHETIC_PRESETS).join(', ')}
  --seed S       seed of the random weights (default 0): same seed, same model
  --out DIR      write here (must be absent or empty); default: the cache folder
                 under the system temp directory, reused when already there
  --list         print the presets with their shapes and parameter counts
`;

const flagsSchema = z.object({
  preset: z.string().refine(isSyntheticPresetName, (v) => ({ message: `unknown preset "${v}" (known: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})` })).optional(),
  seed: z.string().regex(/^\d+$/, 'expected a non-negative integer').default('0'),
  out: z.string().min(1).optional(),
  list: z.boolean().default(false),
  help: z.boolean().default(false),
});

export async function run(argv: string[]): Promise<number> {
  let values: unknown;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        preset: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`permllm synthesize: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n  ');
    process.stderr.write(`permllm synthesize:\n  ${problems}\n\n${USAGE}`);
    return 2;
  }
  const flags = parsed.data;
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.list) {
    for (const name of Object.keys(SYNTHETIC_PRESETS)) {
      if (!isSyntheticPresetName(name)) continue;
      const s = resolveSyntheticSpec(name);
      const shape = `dim ${s.dim}, hidden ${s.hiddenDim}, ${s.nLayers} layer${s.nLayers === 1 ? '' : 's'}, ${s.nHeads}/${s.nKvHeads} heads, ${s.tokenizer} tokenizer${s.tiedEmbeddings ? ', tied' : ''}${s.qkvBias ? ', qkv bias' : ''}, ${s.dtype}`;
      process.stdout.write(`${name.padEnd(18)} ${syntheticParameterCount(s).toLocaleString('en-US').padStart(13)} parameters  (${shape})\n`);
    }
    return 0;
  }
  if (!flags.preset) {
    process.stderr.write(`permllm synthesize: --preset is required\n\n${USAGE}`);
    return 2;
  }
  const preset = flags.preset as keyof typeof SYNTHETIC_PRESETS; // checked by the schema's refine
  const started = performance.now();
  let folder: string;
  if (flags.out) {
    folder = path.resolve(flags.out);
    const existing = await readdir(folder).catch(() => []);
    if (existing.length > 0) {
      process.stderr.write(`permllm synthesize: --out ${flags.out}: folder is not empty\n`);
      return 1;
    }
    await writeSyntheticModel(folder, preset, flags.seed);
  } else {
    folder = await ensureSyntheticModel(preset, flags.seed);
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = (await Promise.all((await readdir(folder)).map(async (f) => (await stat(path.join(folder, f))).size))).reduce((a, b) => a + b, 0);
  const parameters = syntheticParameterCount(resolveSyntheticSpec(preset));
  process.stderr.write(
    `synthesize: ${preset} seed ${flags.seed}: ${parameters.toLocaleString('en-US')} parameters, ${(bytes / 1e6).toFixed(1)} MB on disk, ${seconds.toFixed(1)} s\n`,
  );
  process.stdout.write(`${folder}\n`);
  return 0;
}
