/**
 * The forms a weight of the exact Z_2^64 products takes (ring64 profile), shared by the CPU limb
 * path (compute/ring-gemm.ts) and the backends that multiply in the ring natively
 * (ComputeBackend.ringLinear, e.g. compute/cuda/). Every form denotes one matrix W[outDim, inDim]
 * of ring elements; the product is y = x · Wᵀ mod 2^64.
 */

/** An int16 weight as two byte planes, transposed [inDim, outDim]: w = 256 · hi + lo. */
export interface Int16Planes {
  kind: 'int16';
  lo: Uint8Array;
  hi: Int8Array;
}

/**
 * A ring weight as eight signed-digit planes, transposed [inDim, outDim]: w = Σ_k d_k · 256^k
 * mod 2^64 with d_k ∈ [−128, 127] (each byte recoded with a carry into the next), so the
 * products take onnxruntime's uint8 × int8 kernel, faster than uint8 × uint8.
 */
export interface RingPlanes {
  kind: 'ring';
  bytes: Int8Array;
}

/** The parties' stored hot-path weights (int16 at P0, ring at P1 / P2). */
export type PlanarWeight = Int16Planes | RingPlanes;

/**
 * Any weight of a ring product:
 * - Int16Array [outDim, inDim]: integer weights |w| < 2^15 (the engine's model weights);
 * - Float64Array [outDim, inDim]: the same integers held as float64;
 * - BigUint64Array [outDim, inDim]: ring elements;
 * - Uint16Array of 4 · outDim · inDim: the four 16-bit limb planes of ring elements (toLimbPlanes);
 * - PlanarWeight: the transposed byte planes above.
 */
export type RingWeight = Int16Array | Float64Array | BigUint64Array | Uint16Array | PlanarWeight;

/** Element count of the matrix a weight form denotes (limb and byte planes count once per element). */
export function ringWeightElements(w: RingWeight): number {
  if (w instanceof Uint16Array) return w.length / 4;
  if (ArrayBuffer.isView(w)) return w.length;
  return w.kind === 'int16' ? w.lo.length : w.bytes.length / 8;
}
