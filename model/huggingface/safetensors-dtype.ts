/**
 * The safetensors dtypes this project reads and writes, and their sizes. Weights may be
 * stored as F32, F16 or BF16; everything is widened to float32 in memory.
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

/** The short names used in `ModelDescription.source.dtype` and by the writer's options. */
export type WeightDtype = 'f32' | 'f16' | 'bf16';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

/** Byte sizes of every dtype the format defines, so that headers can be checked for size even when we cannot decode them. */
export const KNOWN_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

export function isSupportedDtype(dtype: string): dtype is SafetensorsDtype {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

export function toSafetensorsDtype(dtype: WeightDtype): SafetensorsDtype {
  return dtype === 'f32' ? 'F32' : dtype === 'f16' ? 'F16' : 'BF16';
}

export function toWeightDtype(dtype: SafetensorsDtype): WeightDtype {
  return dtype === 'F32' ? 'f32' : dtype === 'F16' ? 'f16' : 'bf16';
}
