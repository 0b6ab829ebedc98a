/**
 * Builds the engine's model card (protocol/transport/model-card.ts) from the loaded model: the
 * public config and weight specs, the tokenizer files read from where the model came from, and
 * the ids of the model and the pairing. Validated against the card schema before it is served.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelDescription } from '../../model/model-description.js';
import { findLlama2cTokenizer } from '../../model/llama2c/load-llama2c-model.js';
import { ModelLoadError } from '../../model/model-errors.js';
import type { WeightSpec } from '../../protocol/model/private-weights.js';
import type { MaskProfile } from '../../protocol/masks/mask-profile.js';
import type { AttentionMode } from '../../protocol/schedule/attention-mode.js';
import { HF_TOKENIZER_FILES, MASKED_MODEL_FORMAT, modelCardSchema, type FixedPointSpecs, type ModelCard, type TokenizerFiles } from '../../protocol/transport/model-card.js';

export interface ModelCardInputs {
  model: ModelDescription;
  weights: readonly WeightSpec[];
  /** ring64: the public plan and ring weight specs. */
  fixedPoint?: FixedPointSpecs;
  profile: MaskProfile;
  modelHash: string;
  pairingId: string;
  maskedModel: { bytes: number; sha256: string };
  maxFrameBytes: number;
  created: number;
  /** The operator's allowed attention modes (absent: the default, 'beaver' only). */
  attentionModes?: readonly AttentionMode[];
}

/** The tokenizer files of a model, as they are on disk (base64). */
export async function tokenizerFilesOf(model: ModelDescription): Promise<TokenizerFiles> {
  if (model.source.format === 'llama2c') {
    const file = await findLlama2cTokenizer(model.source.path, model.config.vocabSize);
    if (!file) throw new ModelLoadError(model.source.path, 'no tokenizer file next to the checkpoint to publish in the model card');
    return { format: 'llama2c', files: { 'tokenizer.bin': (await readFile(file)).toString('base64') } };
  }
  const files: Partial<Record<(typeof HF_TOKENIZER_FILES)[number], string>> = {};
  for (const name of HF_TOKENIZER_FILES) {
    try {
      files[name] = (await readFile(path.join(model.source.path, name))).toString('base64');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (files['tokenizer.json'] === undefined) throw new ModelLoadError(model.source.path, 'no tokenizer.json to publish in the model card');
  return { format: 'huggingface', files };
}

export async function buildModelCard(inputs: ModelCardInputs): Promise<ModelCard> {
  const { model } = inputs;
  const card: ModelCard = {
    cardVersion: 1,
    id: model.id,
    created: inputs.created,
    modelHash: inputs.modelHash,
    dtype: model.source.dtype,
    config: { ...model.config },
    weights: inputs.weights.map((w) => ({ ...w })),
    ...(inputs.fixedPoint ? { fixedPoint: inputs.fixedPoint } : {}),
    maskProfile: inputs.profile.name,
    shareDtype: inputs.profile.dtype,
    tokenizer: await tokenizerFilesOf(model),
    ...(model.chatTemplate === undefined ? {} : { chatTemplate: model.chatTemplate }),
    pairing: { id: inputs.pairingId },
    maskedModel: { format: MASKED_MODEL_FORMAT, bytes: inputs.maskedModel.bytes, sha256: inputs.maskedModel.sha256 },
    maxFrameBytes: inputs.maxFrameBytes,
    ...(inputs.attentionModes ? { attentionModes: [...inputs.attentionModes] } : {}),
  };
  return modelCardSchema.parse(card);
}
