export { generateSyntheticModel } from './generate-synthetic-model.js';
export { writeSyntheticModel, SYNTHETIC_GENERATOR_VERSION, SYNTHETIC_MARKER } from './write-synthetic-model.js';
export { ensureSyntheticModel, syntheticModelFolder, syntheticCacheRoot } from './ensure-synthetic-model.js';
export {
  SYNTHETIC_PRESETS,
  isSyntheticPresetName,
  resolveSyntheticSpec,
  syntheticModelConfig,
  syntheticParameterCount,
  syntheticSpecSchema,
  type SyntheticPresetName,
  type SyntheticSpec,
  type SyntheticSpecInput,
} from './synthetic-spec.js';
export { syntheticTokenizerFiles, SYNTHETIC_TOKENIZER_SIZES, type SyntheticTokenizerName } from './synthetic-tokenizer-files.js';
export { syntheticTensors } from './synthetic-weights.js';
