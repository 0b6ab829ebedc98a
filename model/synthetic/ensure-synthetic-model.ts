/**
 * A cache of written synthetic models, so tests and benchmarks generate each one once per
 * machine: `os.tmpdir()/permllm-synthetic/<name>-<seed>-<hash of spec and generator version>`.
 * Folders are written under a temporary name and renamed into place when complete, so
 * concurrent processes never see half-written models.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSyntheticSpec, type SyntheticPresetName, type SyntheticSpecInput } from './synthetic-spec.js';
import { SYNTHETIC_GENERATOR_VERSION, SYNTHETIC_MARKER, writeSyntheticModel } from './write-synthetic-model.js';
import { pathExists } from '../path-exists.js';

export function syntheticCacheRoot(): string {
  return join(tmpdir(), 'permllm-synthetic');
}

/** The cache folder for a preset (or a named custom spec) and seed; it may not exist yet. */
export function syntheticModelFolder(preset: SyntheticPresetName | { name: string; spec: SyntheticSpecInput }, seed: number | bigint | string): string {
  const name = typeof preset === 'string' ? preset : preset.name;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new RangeError(`synthetic model name "${name}": use letters, digits, '.', '_' and '-' only`);
  const spec = resolveSyntheticSpec(typeof preset === 'string' ? preset : preset.spec);
  const hash = createHash('sha256')
    .update(JSON.stringify({ version: SYNTHETIC_GENERATOR_VERSION, spec: sortKeys(spec) }))
    .digest('hex')
    .slice(0, 12);
  return join(syntheticCacheRoot(), `${name}-${String(seed)}-${hash}`);
}

/** Returns the folder of the synthetic model, writing it first if it is not cached yet. */
export async function ensureSyntheticModel(
  preset: SyntheticPresetName | { name: string; spec: SyntheticSpecInput },
  seed: number | bigint | string = 0,
): Promise<string> {
  const folder = syntheticModelFolder(preset, seed);
  if (await pathExists(join(folder, SYNTHETIC_MARKER))) return folder;
  await mkdir(syntheticCacheRoot(), { recursive: true });
  const staging = `${folder}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeSyntheticModel(staging, typeof preset === 'string' ? preset : preset.spec, seed);
    if (await pathExists(join(folder, SYNTHETIC_MARKER))) return folder; // another process finished first
    await rm(folder, { recursive: true, force: true }); // a stale, incomplete folder (a crashed writer)
    await rename(staging, folder);
  } catch (error) {
    // Another process may have finished the same folder first; that one is as good as ours.
    if (!(await pathExists(join(folder, SYNTHETIC_MARKER)))) throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return folder;
}


function sortKeys(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}
