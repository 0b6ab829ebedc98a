/**
 * Whether this machine can run the GPU tests, and if not, why (the reason goes into the skipped
 * tests' names, so a run shows it). Uses the library scripts/build-cuda.sh built
 * (native/cuda/build/, or $PERMLLM_CUDA_LIB).
 */
import { execFileSync } from 'node:child_process';
import { CudaBackend } from '../../compute/cuda/cuda-backend.js';
import { CudaUnavailableError } from '../../compute/cuda/cuda-library.js';

export type CudaAvailability = { available: true; backend: CudaBackend } | { available: false; reason: string };

let cached: CudaAvailability | undefined;

export function cudaAvailability(): CudaAvailability {
  if (cached) return cached;
  try {
    cached = { available: true, backend: CudaBackend.open() };
  } catch (error) {
    if (!(error instanceof CudaUnavailableError)) throw error;
    cached = { available: false, reason: error.message };
  }
  return cached;
}

/** The nvcc this machine would build with, or undefined. */
export function findNvcc(): string | undefined {
  for (const candidate of [process.env['NVCC'], 'nvcc', '/usr/local/cuda/bin/nvcc']) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}
