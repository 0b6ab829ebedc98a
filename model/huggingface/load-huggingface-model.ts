/**
 * Loads a Hugging Face model folder (config.json, model.safetensors or sharded safetensors with
 * model.safetensors.index.json, tokenizer.json, tokenizer_config.json) into our ModelDescription.
 *
 * Conversions at load: every tensor is widened to float32; the rows of wq/wk (and bq/bk, and the
 * q/k norm weights) are permuted per head from HF's half-split RoPE layout to our interleaved
 * one (rope-layout.ts); fused projections (Phi-3's qkv_proj, gate_up_proj) are split; Gemma's
 * norm weights w become 1 + w; experts are stacked (model-description.ts, LayerWeights.router);
 * a missing `lm_head.weight` or `tie_word_embeddings: true` makes lmHead the embedding array.
 *
 * Every tensor the folder holds must be one the architecture uses: a leftover (Qwen3's q_norm
 * under a Qwen2 config, an o_proj bias, a vision tower) fails the load with its name, because a
 * model that silently drops weights gives wrong logits.
 */
import { basename, join, resolve } from 'node:path';
import type { LayerWeights, ModelConfig, ModelDescription } from '../model-description.js';
import { ModelLoadError } from '../model-errors.js';
import type { Tokenizer } from '../tokenizer.js';
import { parseHuggingFaceConfig, type CheckpointLayout } from './huggingface-config.js';
import { EMBEDDING, FINAL_NORM, LM_HEAD } from './huggingface-tensor-names.js';
import { loadHuggingFaceTokenizer, readJsonFile } from './load-huggingface-tokenizer.js';
import { dequantizeMxfp4 } from './mxfp4.js';
import { halfSplitToInterleaved } from './rope-layout.js';
import { toWeightDtype, type SafetensorsDtype } from './safetensors-dtype.js';
import { SafetensorsSource } from './safetensors-source.js';

export interface LoadHuggingFaceOptions {
  /**
   * Use this tokenizer instead of the folder's tokenizer files (which then need not exist):
   * for weights converted from another format whose tokenizer has no tokenizer.json form.
   */
  tokenizer?: Tokenizer;
}

/** Buffers some exporters save that are not weights (recomputed from the config). */
const IGNORED_TENSOR = /\.rotary_emb\.inv_freq$/;

/**
 * @param dir the model folder; its name becomes the model id
 * @throws ModelLoadError naming the offending file (and tensor) for any bad or unsupported input
 */
export async function loadHuggingFaceModel(dir: string, options: LoadHuggingFaceOptions = {}): Promise<ModelDescription> {
  const configPath = join(dir, 'config.json');
  const { config, layout, architectureClass, declaredDtype } = parseHuggingFaceConfig(await readJsonFile(configPath, true), configPath);

  // Weights first: their checks are cheap, building a 128k-token tokenizer is not.
  const source = await SafetensorsSource.openFolder(dir);
  try {
    const reader = new TensorReader(source);
    const embedding = await reader.read(EMBEDDING, [config.vocabSize, config.dim]);
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.nLayers; l++) layers.push(await readLayer(reader, config, layout, l));
    const finalNorm = norm(layout, await reader.read(FINAL_NORM, [config.dim]));
    const tied = config.tiedEmbeddings || !source.has(LM_HEAD);
    const lmHead = tied ? embedding : await reader.read(LM_HEAD, [config.vocabSize, config.dim]);

    const unused = source.names().filter((name) => !reader.taken.has(name) && !IGNORED_TENSOR.test(name) && !(tied && name === LM_HEAD));
    if (unused.length > 0) {
      const shown = unused.slice(0, 8).join(', ') + (unused.length > 8 ? `, … (${unused.length} in all)` : '');
      throw new ModelLoadError(source.pathOf(unused[0]!), `tensors ${architectureClass} does not use: ${shown} (is config.json the checkpoint's own?)`);
    }
    if (tied && source.has(LM_HEAD)) {
      // tie_word_embeddings: true with an lm_head stored: transformers uses the embedding; so do we, but only if they agree.
      const head = await reader.read(LM_HEAD, [config.vocabSize, config.dim]);
      if (!sameValues(head, embedding)) throw new ModelLoadError(source.pathOf(LM_HEAD), `tie_word_embeddings is true but ${LM_HEAD} differs from ${EMBEDDING}`);
    }
    const dtype = reader.singleDtype(source);
    if (declaredDtype !== undefined && toWeightDtype(dtype) !== declaredDtype) {
      throw new ModelLoadError(configPath, `torch_dtype says ${declaredDtype} but the tensors are stored as ${toWeightDtype(dtype)} (e.g. ${EMBEDDING})`);
    }

    const hfTokenizer = options.tokenizer ? undefined : await loadHuggingFaceTokenizer(dir);
    const tokenizer = options.tokenizer ?? hfTokenizer!;
    if (tokenizer.vocabSize > config.vocabSize) {
      throw new ModelLoadError(
        hfTokenizer ? join(dir, 'tokenizer.json') : configPath,
        `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${config.vocabSize}`,
      );
    }

    const description: ModelDescription = {
      id: basename(resolve(dir)),
      source: { path: dir, format: 'huggingface', dtype: toWeightDtype(dtype) },
      config: { ...config, tiedEmbeddings: tied },
      weights: { embedding, layers, finalNorm, lmHead },
      tokenizer,
    };
    if (hfTokenizer?.chatTemplate !== undefined) description.chatTemplate = hfTokenizer.chatTemplate;
    return description;
  } finally {
    await source.close();
  }
}

/** Reads tensors by name, remembering which were read and in which dtypes. */
class TensorReader {
  readonly taken = new Set<string>();
  private readonly dtypes = new Map<SafetensorsDtype, string>();

  constructor(private readonly source: SafetensorsSource) {}

  async read(name: string, shape: readonly number[]): Promise<Float32Array> {
    const { data, dtype } = await this.source.read(name, shape);
    this.taken.add(name);
    if (!this.dtypes.has(dtype)) this.dtypes.set(dtype, name);
    return data;
  }

  has(name: string): boolean {
    return this.source.has(name);
  }

  /** A packed MXFP4 matrix stack: `${base}_blocks` [...prefix, rows, cols/32, 16] and `${base}_scales` [..., rows, cols/32], dequantized to [...prefix, rows, cols]. */
  async readMxfp4(base: string, prefix: number, rows: number, cols: number): Promise<Float32Array> {
    if (cols % 32 !== 0) throw new ModelLoadError(this.source.pathOf(`${base}_blocks`), `MXFP4 tensor ${base}: ${cols} columns is not a multiple of the 32-value block`);
    const groups = cols / 32;
    const blocks = await this.source.readBytes(`${base}_blocks`, 'U8', [prefix, rows, groups, 16]);
    const scales = await this.source.readBytes(`${base}_scales`, 'U8', [prefix, rows, groups]);
    this.taken.add(`${base}_blocks`);
    this.taken.add(`${base}_scales`);
    return dequantizeMxfp4(blocks, scales, prefix * rows, groups);
  }

  /** The one storage dtype of all tensors (mixed dtypes are refused: the config declares one). */
  singleDtype(source: SafetensorsSource): SafetensorsDtype {
    if (this.dtypes.size > 1) {
      const list = [...this.dtypes].map(([dtype, name]) => `${dtype} (e.g. ${name})`).join(', ');
      const first = [...this.dtypes.values()][1]!;
      throw new ModelLoadError(source.pathOf(first), `tensors are stored in more than one dtype: ${list}`);
    }
    return [...this.dtypes.keys()][0]!;
  }
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Gemma stores w for a norm that multiplies by 1 + w; we store the multiplier. */
function norm(layout: CheckpointLayout, w: Float32Array): Float32Array {
  if (!layout.normPlusOne) return w;
  for (let i = 0; i < w.length; i++) w[i] = 1 + w[i]!;
  return w;
}

/** Rows [from, from + count) of a row-major matrix with `cols` columns (a copy). */
function rowsOf(m: Float32Array, from: number, count: number, cols: number): Float32Array {
  return m.slice(from * cols, (from + count) * cols);
}

async function readLayer(reader: TensorReader, c: ModelConfig, layout: CheckpointLayout, l: number): Promise<LayerWeights> {
  const p = `model.layers.${l}.`;
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const toInterleaved = (m: Float32Array, heads: number, cols: number) => halfSplitToInterleaved(m, heads, c.headDim, cols, c.rotaryDim ?? c.headDim);

  let wq: Float32Array, wk: Float32Array, wv: Float32Array;
  if (layout.fusedProjections) {
    const qkv = await reader.read(`${p}self_attn.qkv_proj.weight`, [q + 2 * kv, c.dim]);
    wq = rowsOf(qkv, 0, q, c.dim);
    wk = rowsOf(qkv, q, kv, c.dim);
    wv = rowsOf(qkv, q + kv, kv, c.dim);
  } else {
    wq = await reader.read(`${p}self_attn.q_proj.weight`, [q, c.dim]);
    wk = await reader.read(`${p}self_attn.k_proj.weight`, [kv, c.dim]);
    wv = await reader.read(`${p}self_attn.v_proj.weight`, [kv, c.dim]);
  }
  const layer: LayerWeights = {
    attnNorm: norm(layout, await reader.read(`${p}input_layernorm.weight`, [c.dim])),
    wq: toInterleaved(wq, c.nHeads, c.dim),
    wk: toInterleaved(wk, c.nKvHeads, c.dim),
    wv,
    wo: await reader.read(`${p}self_attn.o_proj.weight`, [c.dim, q]),
    ffnNorm: new Float32Array(0),
    w1: new Float32Array(0),
    w2: new Float32Array(0),
    w3: new Float32Array(0),
  };
  if (layout.qkvBias) {
    if (reader.has(`${p}self_attn.q_proj.bias`)) layer.bq = toInterleaved(await reader.read(`${p}self_attn.q_proj.bias`, [q]), c.nHeads, 1);
    if (reader.has(`${p}self_attn.k_proj.bias`)) layer.bk = toInterleaved(await reader.read(`${p}self_attn.k_proj.bias`, [kv]), c.nKvHeads, 1);
    if (reader.has(`${p}self_attn.v_proj.bias`)) layer.bv = await reader.read(`${p}self_attn.v_proj.bias`, [kv]);
  }
  if (layout.outputBiasAndSinks) {
    layer.bo = await reader.read(`${p}self_attn.o_proj.bias`, [c.dim]);
    layer.sinks = await reader.read(`${p}self_attn.sinks`, [c.nHeads]);
  }
  if (layout.qkNorm) {
    // One γ per head coordinate, shared by all heads: permuted like one head's rows.
    layer.qNorm = toInterleaved(norm(layout, await reader.read(`${p}self_attn.q_norm.weight`, [c.headDim])), 1, 1);
    layer.kNorm = toInterleaved(norm(layout, await reader.read(`${p}self_attn.k_norm.weight`, [c.headDim])), 1, 1);
  }
  if (layout.sandwichNorms) {
    layer.postAttnNorm = norm(layout, await reader.read(`${p}post_attention_layernorm.weight`, [c.dim]));
    layer.ffnNorm = norm(layout, await reader.read(`${p}pre_feedforward_layernorm.weight`, [c.dim]));
    layer.postFfnNorm = norm(layout, await reader.read(`${p}post_feedforward_layernorm.weight`, [c.dim]));
  } else {
    layer.ffnNorm = await reader.read(`${p}post_attention_layernorm.weight`, [c.dim]);
  }

  const h = c.hiddenDim;
  const moe = c.variant?.moe;
  if (moe && layout.moe === 'gpt-oss') {
    Object.assign(layer, await readGptOssExperts(reader, c, p, moe.nExperts));
  } else if (moe && layout.moe) {
    const E = moe.nExperts;
    const mixtral = layout.moe === 'mixtral';
    layer.router = await reader.read(mixtral ? `${p}block_sparse_moe.gate.weight` : `${p}mlp.gate.weight`, [E, c.dim]);
    layer.w1 = new Float32Array(E * h * c.dim);
    layer.w3 = new Float32Array(E * h * c.dim);
    layer.w2 = new Float32Array(E * c.dim * h);
    for (let e = 0; e < E; e++) {
      const base = mixtral ? `${p}block_sparse_moe.experts.${e}.` : `${p}mlp.experts.${e}.`;
      layer.w1.set(await reader.read(`${base}${mixtral ? 'w1' : 'gate_proj'}.weight`, [h, c.dim]), e * h * c.dim);
      layer.w3.set(await reader.read(`${base}${mixtral ? 'w3' : 'up_proj'}.weight`, [h, c.dim]), e * h * c.dim);
      layer.w2.set(await reader.read(`${base}${mixtral ? 'w2' : 'down_proj'}.weight`, [c.dim, h]), e * c.dim * h);
    }
  } else if (layout.fusedProjections) {
    const gateUp = await reader.read(`${p}mlp.gate_up_proj.weight`, [2 * h, c.dim]);
    layer.w1 = rowsOf(gateUp, 0, h, c.dim);
    layer.w3 = rowsOf(gateUp, h, h, c.dim);
    layer.w2 = await reader.read(`${p}mlp.down_proj.weight`, [c.dim, h]);
  } else {
    layer.w1 = await reader.read(`${p}mlp.gate_proj.weight`, [h, c.dim]);
    layer.w3 = await reader.read(`${p}mlp.up_proj.weight`, [h, c.dim]);
    layer.w2 = await reader.read(`${p}mlp.down_proj.weight`, [c.dim, h]);
  }
  return layer;
}

/**
 * gpt-oss experts: mlp.router.{weight [E, dim], bias [E]}; mlp.experts.gate_up_proj [E, dim, 2h]
 * (x·W, gate and up interleaved in the output columns: gate = even, up = odd) with bias [E, 2h];
 * down_proj [E, h, dim] with bias [E, dim]. The released checkpoints store both projections as
 * MXFP4 (`_blocks`, `_scales`) in the transposed, PyTorch-Linear order [E, out, in]; either form
 * is read into our stacked rows (w1, w3 [E·h, dim], w2 [E·dim, h]).
 */
async function readGptOssExperts(reader: TensorReader, c: ModelConfig, p: string, E: number): Promise<Partial<LayerWeights>> {
  const { dim, hiddenDim: h } = c;
  const base = `${p}mlp.experts.`;
  const router = await reader.read(`${p}mlp.router.weight`, [E, dim]);
  const routerBias = await reader.read(`${p}mlp.router.bias`, [E]);
  const gateUpBias = await reader.read(`${base}gate_up_proj_bias`, [E, 2 * h]);
  const downBias = await reader.read(`${base}down_proj_bias`, [E, dim]);
  // gateUp(e, o, i): output o (of 2h) from input i (of dim); down(e, o, i): output o (of dim) from input i (of h).
  let gateUp: (e: number, o: number, i: number) => number;
  let down: (e: number, o: number, i: number) => number;
  if (reader.has(`${base}gate_up_proj_blocks`)) {
    const gu = await reader.readMxfp4(`${base}gate_up_proj`, E, 2 * h, dim); // [E, 2h, dim]
    const dn = await reader.readMxfp4(`${base}down_proj`, E, dim, h); // [E, dim, h]
    gateUp = (e, o, i) => gu[(e * 2 * h + o) * dim + i]!;
    down = (e, o, i) => dn[(e * dim + o) * h + i]!;
  } else {
    const gu = await reader.read(`${base}gate_up_proj`, [E, dim, 2 * h]);
    const dn = await reader.read(`${base}down_proj`, [E, h, dim]);
    gateUp = (e, o, i) => gu[(e * dim + i) * 2 * h + o]!;
    down = (e, o, i) => dn[(e * h + i) * dim + o]!;
  }
  const w1 = new Float32Array(E * h * dim);
  const w3 = new Float32Array(E * h * dim);
  const w2 = new Float32Array(E * dim * h);
  const b1 = new Float32Array(E * h);
  const b3 = new Float32Array(E * h);
  for (let e = 0; e < E; e++) {
    for (let j = 0; j < h; j++) {
      const row = e * h + j;
      for (let i = 0; i < dim; i++) {
        w1[row * dim + i] = gateUp(e, 2 * j, i);
        w3[row * dim + i] = gateUp(e, 2 * j + 1, i);
      }
      b1[row] = gateUpBias[e * 2 * h + 2 * j]!;
      b3[row] = gateUpBias[e * 2 * h + 2 * j + 1]!;
    }
    for (let o = 0; o < dim; o++) for (let i = 0; i < h; i++) w2[(e * dim + o) * h + i] = down(e, o, i);
  }
  return { router, routerBias, w1, w3, w2, b1, b3, b2: downBias };
}
