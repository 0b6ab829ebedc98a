/**
 * y = x · Wᵀ mod 2^64 for any weight form (compute/ring-weight.ts), by the path compute/ring-gemm.ts
 * takes for that form, over a backend whose own products are float / 8-bit GEMMs. What a compute
 * worker runs for ComputeBackend.ringLinear, and what the pool runs in-thread for small products:
 * one function, so both give the in-thread backend's residues bit for bit (they are exact anyway).
 */
import type { ComputeBackend } from '../compute-backend.js';
import { ringLinearInt, ringLinearPlanar, ringLinearRing } from '../ring-gemm.js';
import type { Ring } from '../ring64.js';
import type { RingWeight } from '../ring-weight.js';

export function ringProductByForm(backend: ComputeBackend, x: Ring, rows: number, w: RingWeight, outDim: number, inDim: number): Promise<Ring> {
  if (backend.ringLinear) throw new TypeError(`ringProductByForm: ${backend.name} multiplies in the ring itself; call its ringLinear`);
  // A Uint16Array is limb planes here (RingWeight's meaning); ringLinearInt widens unsigned integer weights before calling ringLinear.
  if (w instanceof BigUint64Array || w instanceof Uint16Array) return ringLinearRing(backend, x, rows, w, outDim, inDim);
  if (w instanceof Int16Array || w instanceof Float64Array) return ringLinearInt(backend, x, rows, w, outDim, inDim);
  return ringLinearPlanar(backend, x, rows, w, outDim, inDim);
}
