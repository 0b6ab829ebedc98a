/**
 * The tensors of a Hugging Face model folder: either one `model.safetensors`, or shards
 * listed in `model.safetensors.index.json` (`weight_map`: tensor name → shard file name).
 * Shards are opened on first use and all closed together.
 */
import { basename, join } from 'node:path';
import { z } from 'zod';
import { ModelLoadError } from '../model-errors.js';
import { readJsonFile } from './load-huggingface-tokenizer.js';
import type { SafetensorsDtype } from './safetensors-dtype.js';
import { SafetensorsFile } from './safetensors-file.js';
import { pathExists } from '../path-exists.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

const indexSchema = z.object({ weight_map: z.record(z.string()) }).passthrough();

export class SafetensorsSource {
  private readonly open = new Map<string, Promise<SafetensorsFile>>();

  private constructor(
    private readonly dir: string,
    /** tensor name → shard file name (relative to dir). */
    private readonly weightMap: ReadonlyMap<string, string>,
    /** The file blamed for a tensor that is not there at all. */
    private readonly listingFile: string,
  ) {}

  static async openFolder(dir: string): Promise<SafetensorsSource> {
    const indexPath = join(dir, INDEX_FILE);
    if (await pathExists(indexPath)) {
      const parsed = indexSchema.safeParse(await readJsonFile(indexPath, true));
      if (!parsed.success) {
        throw new ModelLoadError(indexPath, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
      }
      const map = new Map<string, string>();
      for (const [name, file] of Object.entries(parsed.data.weight_map)) {
        // Shards live next to the index; refuse paths that would leave the folder.
        if (basename(file) !== file) throw new ModelLoadError(indexPath, `weight_map entry ${name} points outside the folder: ${file}`);
        map.set(name, file);
      }
      return new SafetensorsSource(dir, map, indexPath);
    }
    const singlePath = join(dir, SINGLE_FILE);
    if (!(await pathExists(singlePath))) {
      throw new ModelLoadError(dir, `no ${SINGLE_FILE} or ${INDEX_FILE} in the folder`);
    }
    const file = await SafetensorsFile.open(singlePath);
    const source = new SafetensorsSource(dir, new Map(file.names().map((n) => [n, SINGLE_FILE])), singlePath);
    source.open.set(SINGLE_FILE, Promise.resolve(file));
    return source;
  }

  /** Every tensor name the folder holds. */
  names(): string[] {
    return [...this.weightMap.keys()];
  }

  has(name: string): boolean {
    return this.weightMap.has(name);
  }

  /** The file that holds (or, for a missing tensor, should list) `name`. */
  pathOf(name: string): string {
    const fileName = this.weightMap.get(name);
    return fileName === undefined ? this.listingFile : join(this.dir, fileName);
  }

  /** Reads a tensor as float32, checking its shape; errors name the file and the tensor. */
  async read(name: string, shape: readonly number[]): Promise<{ data: Float32Array; dtype: SafetensorsDtype }> {
    const fileName = this.weightMap.get(name);
    if (fileName === undefined) throw new ModelLoadError(this.listingFile, `tensor ${name} is missing`);
    return (await this.file(fileName)).read(name, shape);
  }

  /** Reads a tensor's raw bytes (see SafetensorsFile.readBytes). */
  async readBytes(name: string, dtype: 'U8', shape: readonly number[]): Promise<Uint8Array> {
    const fileName = this.weightMap.get(name);
    if (fileName === undefined) throw new ModelLoadError(this.listingFile, `tensor ${name} is missing`);
    return (await this.file(fileName)).readBytes(name, dtype, shape);
  }

  async close(): Promise<void> {
    const files = await Promise.allSettled(this.open.values());
    await Promise.all(files.flatMap((f) => (f.status === 'fulfilled' ? [f.value.close()] : [])));
  }

  private file(fileName: string): Promise<SafetensorsFile> {
    let file = this.open.get(fileName);
    if (!file) {
      file = SafetensorsFile.open(join(this.dir, fileName));
      this.open.set(fileName, file);
    }
    return file;
  }
}
