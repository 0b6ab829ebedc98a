/**
 * The compute backend: the only place where large matrix products happen. Every party (the
 * plaintext oracle, P0's and P1's protocol steps, the dealer) multiplies through this
 * interface so that a GPU backend can replace the CPU one without touching the math above it.
 *
 * Layout: all matrices are dense, row-major. Weights are stored as in PyTorch / llama2.c,
 * W[out, in], so a linear layer is y = x · Wᵀ.
 */
import type { RingWeight } from './ring-weight.js';

export type FloatArray = Float32Array | Float64Array;

/** Hints for ComputeBackend.ringLinear. */
export interface RingLinearOptions {
  /**
   * The weight outlives this call (model weights, the parties' stored masked weights): a device
   * backend keeps its copy resident and reuses it. False for transient operands (attention's
   * keys and values), which are copied in for the one product. Default true.
   */
  resident?: boolean;
}

export interface ComputeBackend {
  readonly name: string;
  /** out[rows, outDim] = input[rows, inDim] · weight[outDim, inDim]ᵀ, in the inputs' dtype. */
  linear<T extends FloatArray>(input: T, rows: number, weight: T, outDim: number, inDim: number): Promise<T>;
  /** out[m, n] = a[m, k] · b[k, n], in the inputs' dtype. */
  matmul<T extends FloatArray>(a: T, m: number, k: number, b: T, n: number): Promise<T>;
  /**
   * Optional: out[rows, outDim] = input · weightᵀ in float64 for a 16-bit integer weight (the
   * ring64 formats: int16 weights, uint16 limb planes), widened inside the backend so no float64
   * copy of the weight is made by the caller. Callers fall back to widening themselves.
   */
  linearInt16?(input: Float64Array, rows: number, weight: Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Float64Array>;
  /**
   * Optional: out[m, n] = a[m, k] · b[k, n] with 8-bit operands and exact int32 accumulation
   * (onnxruntime MatMulInteger; what int8 tensor cores do): the ring64 byte-limb products.
   * Callers keep 255 · 255 · k < 2^31.
   */
  matmulU8?(a: Uint8Array, m: number, k: number, b: Uint8Array | Int8Array, n: number): Promise<Int32Array>;
  /**
   * Optional: y[rows, outDim] = x[rows, inDim] · Wᵀ mod 2^64, exact in Z_2^64 (the ring64
   * profile's products, e.g. uint64 GEMMs on a GPU), for any weight form (compute/ring-weight.ts).
   * compute/ring-gemm.ts calls it when present and otherwise runs its limb GEMMs through
   * `linear` / `matmulU8`; both give the same residues bit for bit.
   */
  ringLinear?(x: BigUint64Array, rows: number, weight: RingWeight, outDim: number, inDim: number, options?: RingLinearOptions): Promise<BigUint64Array>;
  /**
   * Optional: how many extra host copies of a stored weight this backend keeps beside the
   * caller's (the worker pool: 1, each stored weight lives once more in its owner worker;
   * absent: 0). protocol/session/memory-fit.ts counts them before a party loads a model.
   */
  readonly storedWeightCopies?: number;
}

/** Asserts that a flat array has the element count its shape claims; names the operand. */
export function assertShape(name: string, data: FloatArray, ...dims: number[]): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new RangeError(`${name}: expected ${dims.join('x')} = ${expected} elements, got ${data.length}`);
  }
}
