/**
 * A copy of a model that keeps only the first `vocab` rows of its embedding and LM head. The
 * layers, whose cost the benchmark measures per layer, are untouched; the vocabulary-sized
 * steps (embedding, LM head, logit opening, token lookup) shrink to a fixed small cost, which
 * keeps the wide models within memory and lets the vocabulary's own cost be measured apart
 * (bench/README.md, "Extrapolation").
 */
import type { ModelDescription } from '../model/model-description.js';
import { IdTokenizer } from './id-tokenizer.js';

export function narrowVocabulary(model: ModelDescription, vocab: number, id = `${model.id}-v${vocab}`): ModelDescription {
  const { config, weights } = model;
  if (!Number.isInteger(vocab) || vocab < 2 || vocab > config.vocabSize) throw new RangeError(`narrowVocabulary: vocab ${vocab} must be in [2, ${config.vocabSize}]`);
  const embedding = weights.embedding.slice(0, vocab * config.dim);
  const lmHead = config.tiedEmbeddings ? embedding : weights.lmHead.slice(0, vocab * config.dim);
  return {
    id,
    source: model.source,
    config: { ...config, vocabSize: vocab },
    weights: { embedding, layers: weights.layers, finalNorm: weights.finalNorm, lmHead },
    tokenizer: new IdTokenizer(vocab),
  };
}
