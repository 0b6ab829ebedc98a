/**
 * Reader for llama2.c "version 0" checkpoints (the format of karpathy/llama2.c `run.c`).
 *
 * Layout: seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; a negative vocab_size means the classifier is stored separately), then
 * float32 arrays: token embedding [vocab, dim]; rms_att [L, dim]; wq [L, dim, dim];
 * wk, wv [L, kv_dim, dim]; wo [L, dim, dim]; rms_ffn [L, dim]; w1 [L, hidden, dim];
 * w2 [L, dim, hidden]; w3 [L, hidden, dim]; rms_final [dim]; the legacy RoPE tables
 * freq_cis_real and freq_cis_imag [seq_len, head_dim/2] each (skipped: RoPE is recomputed);
 * and, only when unshared, the classifier [vocab, dim].
 *
 * The file size must match the header exactly; anything else is a ModelLoadError that names
 * the file and gives expected against actual bytes, before any weight is read.
 */
import { open } from 'node:fs/promises';
import type { LayerWeights, ModelConfig, ModelWeights } from '../model-description.js';
import { ModelLoadError } from '../model-errors.js';

export const LLAMA2C_HEADER_BYTES = 28;
/** llama2.c hard-codes these two; the checkpoint does not store them. */
export const LLAMA2C_ROPE_THETA = 10000;
export const LLAMA2C_NORM_EPS = 1e-5;

/** The seven header fields as stored (vocabSize already made positive). */
export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** True when the classifier is the embedding table (stored vocab_size was positive). */
  sharedClassifier: boolean;
}

export interface Llama2cCheckpoint {
  header: Llama2cHeader;
  config: ModelConfig;
  weights: ModelWeights;
}

/** Validates the raw header fields; throws ModelLoadError naming the field. */
export function parseLlama2cHeader(file: string, raw: Int32Array): Llama2cHeader {
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = Array.from(raw);
  const fields: Record<string, number | undefined> = { dim, hidden_dim: hiddenDim, n_layers: nLayers, n_heads: nHeads, n_kv_heads: nKvHeads, seq_len: seqLen };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value <= 0) throw new ModelLoadError(file, `bad header: ${name} = ${value ?? 'missing'}, must be positive`);
  }
  if (rawVocab === undefined || rawVocab === 0) throw new ModelLoadError(file, `bad header: vocab_size = ${rawVocab ?? 'missing'}, must be non-zero`);
  // The positivity checks above narrow nothing for the compiler; re-read as numbers.
  const d = dim!, h = nHeads!, kv = nKvHeads!;
  if (d % h !== 0) throw new ModelLoadError(file, `bad header: dim ${d} is not divisible by n_heads ${h}`);
  if (h % kv !== 0) throw new ModelLoadError(file, `bad header: n_heads ${h} is not a multiple of n_kv_heads ${kv}`);
  if ((d / h) % 2 !== 0) throw new ModelLoadError(file, `bad header: head dimension ${d / h} is odd (RoPE rotates pairs)`);
  return {
    dim: d,
    hiddenDim: hiddenDim!,
    nLayers: nLayers!,
    nHeads: h,
    nKvHeads: kv,
    vocabSize: Math.abs(rawVocab),
    seqLen: seqLen!,
    sharedClassifier: rawVocab > 0,
  };
}

/** The float32 arrays of a version-0 checkpoint, in file order, with their element counts. */
function tensorPlan(hd: Llama2cHeader): { name: string; count: number }[] {
  const { dim, hiddenDim, nLayers: L, vocabSize, seqLen } = hd;
  const headDim = dim / hd.nHeads;
  const kvDim = headDim * hd.nKvHeads;
  const plan = [
    { name: 'token_embedding', count: vocabSize * dim },
    { name: 'rms_att', count: L * dim },
    { name: 'wq', count: L * dim * dim },
    { name: 'wk', count: L * kvDim * dim },
    { name: 'wv', count: L * kvDim * dim },
    { name: 'wo', count: L * dim * dim },
    { name: 'rms_ffn', count: L * dim },
    { name: 'w1', count: L * hiddenDim * dim },
    { name: 'w2', count: L * dim * hiddenDim },
    { name: 'w3', count: L * hiddenDim * dim },
    { name: 'rms_final', count: dim },
    { name: 'freq_cis_real', count: (seqLen * headDim) / 2 },
    { name: 'freq_cis_imag', count: (seqLen * headDim) / 2 },
  ];
  if (!hd.sharedClassifier) plan.push({ name: 'wcls', count: vocabSize * dim });
  return plan;
}

/** Bytes a version-0 checkpoint with this header must have. */
export function expectedLlama2cBytes(header: Llama2cHeader): number {
  return LLAMA2C_HEADER_BYTES + 4 * tensorPlan(header).reduce((sum, t) => sum + t.count, 0);
}

export function llama2cConfig(header: Llama2cHeader): ModelConfig {
  return {
    architecture: 'llama',
    dim: header.dim,
    hiddenDim: header.hiddenDim,
    nLayers: header.nLayers,
    nHeads: header.nHeads,
    nKvHeads: header.nKvHeads,
    headDim: header.dim / header.nHeads,
    vocabSize: header.vocabSize,
    maxSeqLen: header.seqLen,
    ropeTheta: LLAMA2C_ROPE_THETA,
    normEps: LLAMA2C_NORM_EPS,
    tiedEmbeddings: header.sharedClassifier,
  };
}

/** Reads only the header (for finding the matching tokenizer before loading weights). */
export async function readLlama2cHeader(file: string): Promise<Llama2cHeader> {
  const fh = await openOrThrow(file);
  try {
    const size = (await fh.stat()).size;
    if (size < LLAMA2C_HEADER_BYTES) throw new ModelLoadError(file, `truncated: ${size} bytes, shorter than the ${LLAMA2C_HEADER_BYTES}-byte llama2.c header`);
    const raw = new Int32Array(7);
    await fh.read(new Uint8Array(raw.buffer), 0, LLAMA2C_HEADER_BYTES, 0);
    return parseLlama2cHeader(file, raw);
  } finally {
    await fh.close();
  }
}

/**
 * Loads a whole checkpoint. Each tensor is read into its own Float32Array (no views into one
 * giant buffer, so files above Node's 2 GiB Buffer limit still load tensor by tensor).
 */
export async function readLlama2cCheckpoint(file: string): Promise<Llama2cCheckpoint> {
  const fh = await openOrThrow(file);
  try {
    const size = (await fh.stat()).size;
    if (size < LLAMA2C_HEADER_BYTES) throw new ModelLoadError(file, `truncated: ${size} bytes, shorter than the ${LLAMA2C_HEADER_BYTES}-byte llama2.c header`);
    const raw = new Int32Array(7);
    await fh.read(new Uint8Array(raw.buffer), 0, LLAMA2C_HEADER_BYTES, 0);
    const header = parseLlama2cHeader(file, raw);
    const expected = expectedLlama2cBytes(header);
    if (size !== expected) {
      const shape = `dim ${header.dim}, hidden ${header.hiddenDim}, layers ${header.nLayers}, heads ${header.nHeads}/${header.nKvHeads}, vocab ${header.vocabSize}${header.sharedClassifier ? '' : ' (unshared classifier)'}, seq_len ${header.seqLen}`;
      throw new ModelLoadError(file, `${size < expected ? 'truncated' : 'wrong size'}: expected ${expected} bytes for a llama2.c checkpoint with ${shape}, file has ${size} bytes`);
    }

    const tensors = new Map<string, Float32Array>();
    let position = LLAMA2C_HEADER_BYTES;
    for (const { name, count } of tensorPlan(header)) {
      if (name.startsWith('freq_cis')) {
        position += 4 * count; // legacy RoPE tables: recomputed from theta instead
        continue;
      }
      const data = new Float32Array(count);
      const { bytesRead } = await fh.read(new Uint8Array(data.buffer), 0, 4 * count, position);
      if (bytesRead !== 4 * count) throw new ModelLoadError(file, `truncated while reading ${name}: got ${bytesRead} of ${4 * count} bytes at offset ${position}`);
      position += 4 * count;
      tensors.set(name, data);
    }
    return { header, config: llama2cConfig(header), weights: splitLayers(header, tensors) };
  } finally {
    await fh.close();
  }
}

async function openOrThrow(file: string) {
  try {
    return await open(file, 'r');
  } catch (error) {
    throw new ModelLoadError(file, `cannot open: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Slices the stacked [L, ...] arrays into per-layer views (no copies). */
function splitLayers(hd: Llama2cHeader, tensors: Map<string, Float32Array>): ModelWeights {
  const get = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new Error(`llama2c reader: tensor ${name} was not read`); // a bug here, not bad input
    return t;
  };
  const { dim, hiddenDim, nLayers } = hd;
  const kvDim = (dim / hd.nHeads) * hd.nKvHeads;
  const layer = (name: string, l: number, size: number) => get(name).subarray(l * size, (l + 1) * size);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      attnNorm: layer('rms_att', l, dim),
      wq: layer('wq', l, dim * dim),
      wk: layer('wk', l, kvDim * dim),
      wv: layer('wv', l, kvDim * dim),
      wo: layer('wo', l, dim * dim),
      ffnNorm: layer('rms_ffn', l, dim),
      w1: layer('w1', l, hiddenDim * dim),
      w2: layer('w2', l, dim * hiddenDim),
      w3: layer('w3', l, hiddenDim * dim),
    });
  }
  const embedding = get('token_embedding');
  return {
    embedding,
    layers,
    finalNorm: get('rms_final'),
    lmHead: hd.sharedClassifier ? embedding : get('wcls'),
  };
}
