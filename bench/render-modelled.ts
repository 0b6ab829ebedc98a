/**
 * Re-renders a benchmark run's reports with every acceptance cell filled (bench/modelled-cells.ts)
 * from its stored measurements and the exact counts of short sessions (bench/exact-counts.ts),
 * without measuring anything again:
 *
 *   npx tsx bench/render-modelled.ts --from-json bench/results/issue12-one-run/bench.json \
 *     --counts bench/results/issue12-one-run/modelled/counts --out bench/results/issue12-one-run/modelled
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exactCountsSchema } from './bench-results.js';
import { reanalyse } from './bench-runner.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const from = arg('from-json');
  const countsDir = arg('counts');
  const out = arg('out');
  if (!from || !out) throw new Error('usage: render-modelled.ts --from-json FILE[,FILE] [--counts DIR] --out DIR');
  const files = countsDir ? (await readdir(countsDir)).filter((f) => f.endsWith('.json')).sort() : [];
  const counts = await Promise.all(files.map(async (f) => exactCountsSchema.parse(JSON.parse(await readFile(join(countsDir!, f), 'utf8')))));
  const { files: written } = await reanalyse(from.split(','), out, counts);
  console.log(`${counts.length} count file(s); wrote ${written.markdown}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
