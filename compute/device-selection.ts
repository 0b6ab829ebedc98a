/**
 * The choice of compute backend for a party process: `cpu` (onnxruntime), `cuda` (the GPU
 * backend, compute/cuda/) or `auto` (the GPU when one is usable, else the CPU). A `cuda` choice
 * that cannot be met fails at once with CudaUnavailableError, whose message says what is missing
 * (the built library, the FFI, the driver, a device); `auto` logs that message and falls back.
 */
import type { ComputeBackend } from './compute-backend.js';
import { CudaBackend } from './cuda/cuda-backend.js';
import { CudaUnavailableError } from './cuda/cuda-library.js';
import { defaultBackend, OnnxCpuBackend } from './onnx-backend.js';

export const COMPUTE_DEVICES = ['cpu', 'cuda', 'auto'] as const;
export type ComputeDevice = (typeof COMPUTE_DEVICES)[number];

export interface SelectedBackend {
  backend: ComputeBackend;
  device: 'cpu' | 'cuda';
}

/** The backend for `device`; `threads` sizes the CPU backend (undefined: onnxruntime's choice). */
export function selectComputeBackend(device: ComputeDevice, options: { threads?: number | undefined; log?: (line: string) => void } = {}): SelectedBackend {
  const cpu = (): SelectedBackend => ({ backend: options.threads === undefined ? defaultBackend() : new OnnxCpuBackend(options.threads), device: 'cpu' });
  if (device === 'cpu') return cpu();
  try {
    const backend = CudaBackend.open();
    options.log?.(`compute on the GPU: ${backend.lib.deviceName} (compute capability ${backend.lib.computeCapability / 10}, ${(backend.lib.totalMemory / 2 ** 30).toFixed(1)} GiB, driver ${backend.lib.driverVersion})`);
    return { backend, device: 'cuda' };
  } catch (error) {
    if (device === 'auto' && error instanceof CudaUnavailableError) {
      options.log?.(`--device auto: falling back to the CPU (${error.message})`);
      return cpu();
    }
    throw error;
  }
}
