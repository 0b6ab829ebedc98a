/**
 * The models the benchmark runs: the real stories260K, and synthetic Llama-family models at
 * real layer widths (random weights: the protocol's cost does not depend on their values).
 *
 * Synthetic models come in pairs of depths per layer shape, so that the cost of one layer is
 * the difference of the two runs (bench/README.md, "Extrapolation"). They keep a 512-entry
 * vocabulary (narrow-vocabulary.ts) so that the widest shapes fit in memory next to the three
 * float64 weight copies the in-process protocol holds (X at P0, X − U at P1, U at P2); one
 * model with the real 32,000-entry Llama-2 vocabulary measures what the vocabulary costs.
 */
import { defaultModelPath, loadModel } from '../model/load-model.js';
import type { ModelDescription } from '../model/model-description.js';
import { generateSyntheticModel, SYNTHETIC_PRESETS, type SyntheticPresetName, type SyntheticSpecInput } from '../model/synthetic/index.js';
import { narrowVocabulary } from './narrow-vocabulary.js';

/** A Llama layer shape (heads of 64 or 128 dims, grouped-query attention). */
export interface LayerShape {
  readonly key: string;
  readonly label: string;
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
}

export const LAYER_SHAPES = {
  d512: { key: 'd512', label: 'dim 512, hidden 1536, 8 q / 2 kv heads', dim: 512, hiddenDim: 1536, nHeads: 8, nKvHeads: 2 },
  d1024: { key: 'd1024', label: 'dim 1024, hidden 2816, 16 q / 4 kv heads', dim: 1024, hiddenDim: 2816, nHeads: 16, nKvHeads: 4 },
  d2048: { key: 'd2048', label: 'TinyLlama-1.1B layer: dim 2048, hidden 5632, 32 q / 4 kv heads', dim: 2048, hiddenDim: 5632, nHeads: 32, nKvHeads: 4 },
  'llama3-8b': { key: 'llama3-8b', label: 'Llama-3.1-8B layer: dim 4096, hidden 14336, 32 q / 8 kv heads', dim: 4096, hiddenDim: 14336, nHeads: 32, nKvHeads: 8 },
} as const satisfies Record<string, LayerShape>;

export type LayerShapeKey = keyof typeof LAYER_SHAPES;

/** The vocabulary the synthetic layer-shape models keep (stories260K's size). */
export const NARROW_VOCAB = 512;

export interface BenchModel {
  readonly name: string;
  readonly description: string;
  /** Set for synthetic models: which layer shape, used for per-layer differences. */
  readonly shape?: LayerShapeKey;
  readonly layers: number;
  readonly vocab: number;
  load(): Promise<ModelDescription>;
}

const SEED = 20240528;

function syntheticSpec(shape: LayerShape, layers: number): SyntheticSpecInput {
  return { dim: shape.dim, hiddenDim: shape.hiddenDim, nLayers: layers, nHeads: shape.nHeads, nKvHeads: shape.nKvHeads, tokenizer: 'llama3-32k', tiedEmbeddings: true, maxSeqLen: 2048 };
}

function synthetic(shapeKey: LayerShapeKey, layers: number, vocab: 'narrow' | 'llama2-32k' = 'narrow'): BenchModel {
  const shape = LAYER_SHAPES[shapeKey];
  const name = `${shapeKey === 'llama3-8b' ? 'llama3-8b' : `syn-${shapeKey}`}-l${layers}${vocab === 'narrow' ? '' : '-v32k'}`;
  return {
    name,
    description: `${layers} × ${shape.label}; ${vocab === 'narrow' ? `${NARROW_VOCAB}-entry vocabulary` : '32,000-entry vocabulary (llama3-32k tokenizer)'}`,
    shape: shapeKey,
    layers,
    vocab: vocab === 'narrow' ? NARROW_VOCAB : 32000,
    load: async () => {
      const model = await generateSyntheticModel(syntheticSpec(shape, layers), SEED);
      return vocab === 'narrow' ? narrowVocabulary(model, NARROW_VOCAB, name) : { ...model, id: name };
    },
  };
}

/** A `permllm synthesize` preset as it is, real vocabulary included (opt-in: large). */
function preset(name: SyntheticPresetName, description: string): BenchModel {
  const spec = SYNTHETIC_PRESETS[name] as SyntheticSpecInput;
  return {
    name,
    description,
    layers: spec.nLayers,
    vocab: 128256,
    load: async () => ({ ...(await generateSyntheticModel(spec, SEED)), id: name }),
  };
}

const catalogue: BenchModel[] = [
  {
    name: 'stories260K',
    description: 'the real model: dim 64, hidden 172, 5 layers, 8 q / 4 kv heads, vocabulary 512',
    layers: 5,
    vocab: 512,
    load: () => loadModel(defaultModelPath()),
  },
  synthetic('d512', 1),
  synthetic('d512', 2),
  synthetic('d1024', 1),
  synthetic('d1024', 2),
  synthetic('d2048', 1),
  synthetic('d2048', 2),
  synthetic('llama3-8b', 1),
  synthetic('d512', 1, 'llama2-32k'),
  // Not in the default run: about 13 GB of weight copies in one process.
  synthetic('llama3-8b', 2),
  // Opt-in, whole presets with the real 128,256-entry Llama 3 vocabulary (issue 11's figures).
  preset('synthetic-100m', 'the 100M preset: dim 640, hidden 1792, 4 layers, 10 q / 2 kv heads, 128k vocabulary (tied): 99.8M parameters'),
  preset('llama3-8b-layer', 'one Llama-3.1-8B layer with its real untied 128k embedding and head: 1.27G parameters'),
];

export const BENCH_MODELS: ReadonlyMap<string, BenchModel> = new Map(catalogue.map((m) => [m.name, m]));

/**
 * `--models full`: every layer shape at two depths and the vocabulary pair, what the
 * extrapolation to full depth needs (30–60 minutes on a busy 2-core machine). llama3-8b-l2 and
 * the whole presets stay opt-in by name: they are large.
 */
const OPT_IN = new Set(['llama3-8b-l2', 'synthetic-100m', 'llama3-8b-layer']);
export const FULL_MODELS: readonly string[] = catalogue.map((m) => m.name).filter((n) => !OPT_IN.has(n));
/** What a plain `permllm bench` runs: the real model, every mode and profile, in a few minutes (issue 12). */
export const DEFAULT_MODELS: readonly string[] = ['stories260K'];
/** Named model sets `--models` accepts besides model names. */
export const MODEL_SETS: ReadonlyMap<string, readonly string[]> = new Map([
  ['full', FULL_MODELS],
  ['default', DEFAULT_MODELS],
]);
export const QUICK_MODELS: readonly string[] = ['stories260K'];

/** A full-depth model the per-layer figures are extrapolated to. */
export interface FullDepthTarget {
  readonly name: string;
  readonly shape: LayerShapeKey;
  readonly layers: number;
  readonly vocab: number;
}

export const FULL_DEPTH_TARGETS: readonly FullDepthTarget[] = [
  { name: 'dim-512 × 8 layers, 32k vocabulary', shape: 'd512', layers: 8, vocab: 32000 },
  { name: 'dim-1024 × 16 layers, 32k vocabulary', shape: 'd1024', layers: 16, vocab: 32000 },
  { name: 'TinyLlama-1.1B shape (dim 2048 × 22 layers, 32k vocabulary)', shape: 'd2048', layers: 22, vocab: 32000 },
  { name: 'Llama-3.1-8B shape (dim 4096 × 32 layers, 128k vocabulary)', shape: 'llama3-8b', layers: 32, vocab: 128256 },
];
