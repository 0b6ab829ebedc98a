import type { FloatArray } from '../../compute/compute-backend.js';

export type { FloatArray };

/** A zeroed array of the same element type as `like` (the ops keep their inputs' dtype). */
export function allocLike<T extends FloatArray>(like: T, length: number): T {
  return (like instanceof Float64Array ? new Float64Array(length) : new Float32Array(length)) as T;
}
