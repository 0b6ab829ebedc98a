/**
 * The gateway's copy of the engine's public model card and masked model X − U, downloaded once
 * per (model, pairing) and cached on disk:
 *
 *   <cache>/<modelHash:16>-<pairingId:16>/model-card.json
 *   <cache>/<modelHash:16>-<pairingId:16>/masked-model.bin          (complete, verified)
 *   <cache>/<modelHash:16>-<pairingId:16>/masked-model.bin.partial  (a download in progress)
 *   <cache>/engines/<hash of the engine's origin>.json              (the last card seen there)
 *
 * A download resumes a partial file with a Range request when the engine still serves the same
 * digest (If-Range), shows a progress bar on stderr, and is checked against the sha256 in the
 * model card before it is renamed into place. Every load re-hashes the file (a damaged cache is
 * deleted and downloaded again) and checks its header against the card.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { RoleWeight } from '../../protocol/subprotocols/mul-w.js';
import type { RingRoleWeight } from '../../protocol/subprotocols/ring/ring-mul-w.js';
import { ControlClient, errorMessageOf } from '../../protocol/transport/control-client.js';
import { parseMaskedModel } from '../../protocol/transport/masked-model-format.js';
import { modelCardSchema, type ModelCard } from '../../protocol/transport/model-card.js';
import { tokenizerFromCard } from './card-tokenizer.js';
import { progressReporter, type ProgressReporter } from './download-progress.js';

export interface StoredModel {
  card: ModelCard;
  weights: Map<string, RoleWeight>;
  /** ring64: X − U as ring matrices (present exactly when the card's shareDtype is ring64). */
  ringWeights?: Map<string, RingRoleWeight>;
  tokenizer: Tokenizer;
  /** Whether this load downloaded the masked model (false: it came from the cache). */
  downloaded: boolean;
}

export class ModelCardError extends Error {
  override readonly name = 'ModelCardError';
}

export class MaskedModelIntegrityError extends Error {
  override readonly name = 'MaskedModelIntegrityError';
}

export interface MaskedModelStoreOptions {
  cacheDir: string;
  engine: ControlClient;
  log: (line: string) => void;
  /** Progress bar factory (default: stderr). */
  progress?: (label: string, total: number) => ProgressReporter;
}

const sha256File = async (file: string): Promise<string> => {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
};

const exists = async (file: string) => stat(file).then(
  (s) => s,
  () => undefined,
);

export class MaskedModelStore {
  /** Downloaded bytes of the download in progress, for readiness messages. */
  progress: { done: number; total: number } | undefined;

  constructor(private readonly options: MaskedModelStoreOptions) {}

  folderFor(card: ModelCard): string {
    return path.join(this.options.cacheDir, `${card.modelHash.slice(0, 16)}-${card.pairing.id.slice(0, 16)}`);
  }

  private engineIndexFile(): string {
    const origin = this.options.engine.origin;
    return path.join(this.options.cacheDir, 'engines', `${createHash('sha256').update(origin).digest('hex').slice(0, 24)}.json`);
  }

  /** GET /v1/model-card, validated. Throws ControlUnreachableError when the engine is down. */
  async fetchCard(signal?: AbortSignal): Promise<ModelCard> {
    const { status, body } = await this.options.engine.json('GET', '/v1/model-card', undefined, signal);
    if (status !== 200) throw new ModelCardError(`the engine answered HTTP ${status} for its model card: ${errorMessageOf(body)}`);
    const parsed = modelCardSchema.safeParse(body);
    if (!parsed.success) {
      throw new ModelCardError(`the engine's model card is invalid: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  }

  /** The card last seen at this engine, if its masked model is cached (for starting while the engine is down). */
  async lastCard(): Promise<ModelCard | undefined> {
    try {
      const index = JSON.parse(await readFile(this.engineIndexFile(), 'utf8')) as { folder?: unknown };
      if (typeof index.folder !== 'string') return undefined;
      const folder = path.join(this.options.cacheDir, path.basename(index.folder));
      const card = modelCardSchema.parse(JSON.parse(await readFile(path.join(folder, 'model-card.json'), 'utf8')));
      return (await exists(path.join(folder, 'masked-model.bin'))) ? card : undefined;
    } catch {
      return undefined;
    }
  }

  /** The masked model for `card`: from the cache when it is there and intact, else downloaded. */
  async load(card: ModelCard, signal?: AbortSignal): Promise<StoredModel> {
    const folder = this.folderFor(card);
    await mkdir(folder, { recursive: true });
    const file = path.join(folder, 'masked-model.bin');
    let downloaded = false;
    let bytes: Buffer | undefined;
    if (await exists(file)) {
      // Hashed as a stream (the event loop keeps serving), then read.
      const digest = await sha256File(file);
      if (digest === card.maskedModel.sha256) bytes = await readFile(file);
      else {
        this.options.log(`cached masked model ${file} does not match the engine's digest; downloading it again`);
        await rm(file, { force: true });
      }
      if (bytes) this.options.log(`using the cached masked model ${file}`);
    }
    if (!bytes) {
      await this.download(card, file, signal);
      downloaded = true;
      bytes = await readFile(file);
    }
    const { header, weights, ringWeights } = parseMaskedModel(bytes);
    bytes = undefined; // ring64: parsing copied X − U into byte planes; let the file buffer go
    if (header.modelHash !== card.modelHash || header.pairingId !== card.pairing.id) {
      throw new MaskedModelIntegrityError('the masked model belongs to another model or pairing than the model card');
    }
    const expected = JSON.stringify(card.weights.map((w) => [w.name, w.op, w.outDim, w.inDim, w.scale]));
    const actual = JSON.stringify(header.tensors.map((w) => [w.name, w.op, w.outDim, w.inDim, w.scale]));
    if (expected !== actual) throw new MaskedModelIntegrityError('the masked model\'s tensors differ from the model card\'s weight specs');
    if (header.profile !== card.maskProfile) throw new MaskedModelIntegrityError(`the masked model is for mask profile ${header.profile}, the model card says ${card.maskProfile}`);
    const ringSpecs = (specs: ReadonlyArray<{ name: string; outDim: number; inDim: number; blocks: ReadonlyArray<{ rows: number; exponent: number }>; hasBias: boolean }> | undefined) =>
      JSON.stringify((specs ?? []).map((w) => [w.name, w.outDim, w.inDim, w.blocks.map((b) => [b.rows, b.exponent]), w.hasBias]));
    if (ringSpecs(card.fixedPoint?.weights) !== ringSpecs(header.ringTensors)) throw new MaskedModelIntegrityError('the masked model\'s ring tensors differ from the model card\'s fixed-point weight specs');
    await writeFile(path.join(folder, 'model-card.json'), JSON.stringify(card));
    await mkdir(path.dirname(this.engineIndexFile()), { recursive: true });
    await writeFile(this.engineIndexFile(), JSON.stringify({ folder: path.basename(folder) }));
    const tokenizer = await tokenizerFromCard(card, folder);
    return { card, weights, ...(ringWeights ? { ringWeights } : {}), tokenizer, downloaded };
  }

  private async download(card: ModelCard, file: string, signal?: AbortSignal): Promise<void> {
    const partial = `${file}.partial`;
    const meta = `${partial}.json`;
    const { bytes: total, sha256 } = card.maskedModel;
    let start = 0;
    const previous = await readFile(meta, 'utf8').then(
      (text) => JSON.parse(text) as { sha256?: string },
      () => undefined,
    );
    const partialSize = (await exists(partial))?.size ?? 0;
    if (previous?.sha256 === sha256 && partialSize > 0 && partialSize < total) start = partialSize;
    else await rm(partial, { force: true });
    await writeFile(meta, JSON.stringify({ sha256 }));

    const etag = `"${sha256}"`;
    const response = await this.options.engine.send('GET', '/v1/masked-model', {
      headers: start > 0 ? { range: `bytes=${start}-`, 'if-range': etag } : {},
      bodyTimeoutMs: 60_000,
      ...(signal ? { signal } : {}),
    });
    if (response.status !== 200 && response.status !== 206) {
      const text = await response.body.text();
      throw new ModelCardError(`the engine answered HTTP ${response.status} for the masked model: ${errorMessageOf(safeJson(text))}`);
    }
    if (response.headers['x-permllm-sha256'] !== sha256) {
      await response.body.dump();
      throw new MaskedModelIntegrityError('the engine serves a different masked model than its model card announced (its pairing changed); try again');
    }
    if (response.status === 200) start = 0;
    const label = start > 0 ? `resuming the masked model download at ${(start / 1048576).toFixed(1)} MiB` : 'downloading the masked model';
    const bar = (this.options.progress ?? progressReporter)(label, total);
    let done = start;
    this.progress = { done, total };
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        done += chunk.length;
        this.progress = { done, total };
        bar.update(done);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(response.body, counter, createWriteStream(partial, { flags: start > 0 ? 'a' : 'w' }));
    } finally {
      this.progress = undefined;
    }
    const size = (await stat(partial)).size;
    if (size !== total) throw new MaskedModelIntegrityError(`masked model download ended at ${size} of ${total} bytes; it resumes on the next try`);
    const digest = await sha256File(partial);
    if (digest !== sha256) {
      await rm(partial, { force: true });
      await rm(meta, { force: true });
      throw new MaskedModelIntegrityError(`the downloaded masked model's sha256 ${digest.slice(0, 12)}… is not the ${sha256.slice(0, 12)}… the engine announced; deleted, try again`);
    }
    await rename(partial, file);
    await rm(meta, { force: true });
    bar.finish(`masked model verified (sha256 ${sha256.slice(0, 12)}…) and cached in ${path.dirname(file)}`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
