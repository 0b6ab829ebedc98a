/**
 * Loads a Hugging Face Llama-family model folder (config.json, model.safetensors or sharded
 * safetensors with model.safetensors.index.json, tokenizer.json, tokenizer_config.json) into
 * our ModelDescription.
 *
 * Conversions at load: every tensor is widened to float32; the rows of wq/wk (and bq/bk) are
 * permuted per head from HF's half-split RoPE layout to our interleaved one (rope-layout.ts);
 * a missing `lm_head.weight` or `tie_word_embeddings: true` makes lmHead the embedding array.
 */
import { basename, join, resolve } from 'node:path';
import type { LayerWeights, ModelDescription } from '../model-description.js';
import { ModelLoadError } from '../model-errors.js';
import type { Tokenizer } from '../tokenizer.js';
import { parseHuggingFaceConfig } from './huggingface-config.js';
import {
  EMBEDDING,
  FINAL_NORM,
  LAYER_BIAS_TENSORS,
  LAYER_WEIGHT_TENSORS,
  layerTensorName,
  layerTensorShape,
  LM_HEAD,
  ropeHeads,
  unsupportedLayerTensorNames,
  type LayerTensor,
} from './huggingface-tensor-names.js';
import { loadHuggingFaceTokenizer, readJsonFile } from './load-huggingface-tokenizer.js';
import { halfSplitToInterleaved } from './rope-layout.js';
import { toWeightDtype } from './safetensors-dtype.js';
import { SafetensorsSource } from './safetensors-source.js';

export interface LoadHuggingFaceOptions {
  /**
   * Use this tokenizer instead of the folder's tokenizer files (which then need not exist):
   * for weights converted from another format whose tokenizer has no tokenizer.json form.
   */
  tokenizer?: Tokenizer;
}

/**
 * @param dir the model folder; its name becomes the model id
 * @throws ModelLoadError naming the offending file (and tensor) for any bad or unsupported input
 */
export async function loadHuggingFaceModel(dir: string, options: LoadHuggingFaceOptions = {}): Promise<ModelDescription> {
  const configPath = join(dir, 'config.json');
  const { config } = parseHuggingFaceConfig(await readJsonFile(configPath, true), configPath);

  // Weights first: their checks are cheap, building a 128k-token tokenizer is not.
  const source = await SafetensorsSource.openFolder(dir);
  try {
    const embedding = await source.read(EMBEDDING, [config.vocabSize, config.dim]);
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.nLayers; l++) {
      for (const name of unsupportedLayerTensorNames(l)) {
        if (source.has(name)) throw new ModelLoadError(source.pathOf(name), `tensor ${name} is present but not supported (no bias on o_proj or the MLP)`);
      }
      const read = async (tensor: LayerTensor): Promise<Float32Array> => {
        const { data } = await source.read(layerTensorName(l, tensor), layerTensorShape(config, tensor));
        const heads = ropeHeads(config, tensor);
        if (heads === undefined) return data;
        const cols = tensor === 'bq' || tensor === 'bk' ? 1 : config.dim;
        return halfSplitToInterleaved(data, heads, config.headDim, cols);
      };
      const w: Partial<Record<LayerTensor, Float32Array>> = {};
      for (const tensor of LAYER_WEIGHT_TENSORS) w[tensor] = await read(tensor);
      for (const tensor of LAYER_BIAS_TENSORS) {
        if (source.has(layerTensorName(l, tensor))) w[tensor] = await read(tensor);
      }
      const layer: LayerWeights = {
        attnNorm: w.attnNorm!, wq: w.wq!, wk: w.wk!, wv: w.wv!, wo: w.wo!,
        ffnNorm: w.ffnNorm!, w1: w.w1!, w2: w.w2!, w3: w.w3!,
      };
      if (w.bq) layer.bq = w.bq;
      if (w.bk) layer.bk = w.bk;
      if (w.bv) layer.bv = w.bv;
      layers.push(layer);
    }
    const finalNorm = (await source.read(FINAL_NORM, [config.dim])).data;
    const tied = config.tiedEmbeddings || !source.has(LM_HEAD);
    const lmHead = tied ? embedding.data : (await source.read(LM_HEAD, [config.vocabSize, config.dim])).data;

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
      source: { path: dir, format: 'huggingface', dtype: toWeightDtype(embedding.dtype) },
      config: { ...config, tiedEmbeddings: tied },
      weights: { embedding: embedding.data, layers, finalNorm, lmHead },
      tokenizer,
    };
    if (hfTokenizer?.chatTemplate !== undefined) description.chatTemplate = hfTokenizer.chatTemplate;
    return description;
  } finally {
    await source.close();
  }
}
