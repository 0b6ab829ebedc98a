/**
 * Seeded random weights for a synthetic model, one tensor at a time, all drawn from one
 * `Prg.fromSeed('synthetic', seed)` stream in the canonical tensor order
 * (model-tensor-list.ts): the same spec and seed give bit-identical weights everywhere.
 *
 * Initialisation keeps activations O(1), like a freshly initialised real model:
 * - linear weights W[out, in] ~ N(0, 1/in) (so each output of x·Wᵀ has the input's scale);
 * - embedding and LM head ~ N(0, 1/dim) (logits of a unit-RMS hidden state have std ≈ 1);
 * - RMSNorm weights ~ 1 + N(0, 0.05²); q/k/v biases ~ N(0, 0.1²).
 * "Normal" is the Irwin–Hall sum of four uniform bytes, rescaled: bounded at ±3.46σ, cheap
 * enough for the billion values of the 8B-layer preset.
 * Values are rounded to the storage dtype, so a model generated in memory equals the one
 * read back from its written folder.
 */
import { Prg } from '../../crypto/prg.js';
import { f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, bf16BitsToF32 } from '../huggingface/half-float.js';
import { modelTensorKeys, modelTensorShape, describeKey, type ModelTensor, type ModelTensorKey } from '../huggingface/model-tensor-list.js';
import type { WeightDtype } from '../huggingface/safetensors-dtype.js';
import { syntheticModelConfig, type SyntheticSpec } from './synthetic-spec.js';

/** Mean and standard deviation of a sum of four independent uniform bytes. */
const IRWIN_HALL_MEAN = 4 * 127.5;
const IRWIN_HALL_STD = Math.sqrt((4 * (256 * 256 - 1)) / 12);
const CHUNK_VALUES = 1 << 20;

/**
 * The tensors of the synthetic model, lazily: each tensor's data is drawn when asked for,
 * and they must be asked for in list order (the writer and generateSyntheticModel do).
 */
export function syntheticTensors(spec: SyntheticSpec, seed: number | bigint | string): ModelTensor[] {
  const config = syntheticModelConfig(spec);
  const prg = Prg.fromSeed('synthetic', seed);
  const keys = modelTensorKeys(config, spec.qkvBias);
  let next = 0;
  return keys.map((key, index) => ({
    key,
    shape: modelTensorShape(config, key),
    data: () => {
      if (index !== next) throw new Error(`synthetic weights: tensor ${describeKey(key)} requested out of order`);
      next++;
      const shape = modelTensorShape(config, key);
      const count = shape.reduce((a, b) => a * b, 1);
      const { mean, std } = initialisation(key, shape, config.dim);
      return roundToDtype(normalArray(prg, count, mean, std), spec.dtype);
    },
  }));
}

function initialisation(key: ModelTensorKey, shape: readonly number[], dim: number): { mean: number; std: number } {
  if (key.kind === 'embedding' || key.kind === 'lmHead') return { mean: 0, std: 1 / Math.sqrt(dim) };
  if (key.kind === 'finalNorm') return { mean: 1, std: 0.05 };
  switch (key.tensor) {
    case 'attnNorm':
    case 'ffnNorm':
      return { mean: 1, std: 0.05 };
    case 'bq':
    case 'bk':
    case 'bv':
      return { mean: 0, std: 0.1 };
    default:
      return { mean: 0, std: 1 / Math.sqrt(shape[1]!) };
  }
}

/** `count` approximately normal values with the given mean and standard deviation. */
export function normalArray(prg: Prg, count: number, mean: number, std: number): Float32Array {
  const out = new Float32Array(count);
  const scale = std / IRWIN_HALL_STD;
  for (let done = 0; done < count; done += CHUNK_VALUES) {
    const n = Math.min(CHUNK_VALUES, count - done);
    const bytes = prg.bytes(4 * n);
    for (let i = 0; i < n; i++) {
      const j = 4 * i;
      const sum = bytes[j]! + bytes[j + 1]! + bytes[j + 2]! + bytes[j + 3]!;
      out[done + i] = mean + (sum - IRWIN_HALL_MEAN) * scale;
    }
  }
  return out;
}

/** Rounds float32 values in place to the nearest value representable in `dtype`. */
export function roundToDtype(values: Float32Array, dtype: WeightDtype): Float32Array {
  if (dtype === 'bf16') {
    for (let i = 0; i < values.length; i++) values[i] = bf16BitsToF32(f32ToBf16Bits(values[i]!));
  } else if (dtype === 'f16') {
    for (let i = 0; i < values.length; i++) values[i] = f16BitsToF32(f32ToF16Bits(values[i]!));
  }
  return values;
}
