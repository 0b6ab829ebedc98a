/**
 * The choice of compute backend for a party process: `cpu` (onnxruntime), `cuda` (the GPU
 * backend, compute/cuda/) or `auto` (the GPU when one is usable, else the CPU). On the CPU,
 * `computeThreads` > 0 runs the products in that many worker threads
 * (compute/worker/worker-pool-backend.ts) so the event loop stays free; 0 runs them in-thread.
 * The GPU backend's calls stay on the main thread (a kernel launch and its download). A `cuda` choice
 * that cannot be met fails at once with CudaUnavailableError, whose message says what is missing
 * (the built library, the FFI, the driver, a device); `auto` logs that message and falls back.
 */
import type { ComputeBackend } from './compute-backend.js';
import { CudaBackend } from './cuda/cuda-backend.js';
import { CudaUnavailableError } from './cuda/cuda-library.js';
import { defaultBackend, OnnxCpuBackend } from './onnx-backend.js';
import { WorkerPoolBackend } from './worker/worker-pool-backend.js';

export const COMPUTE_DEVICES = ['cpu', 'cuda', 'auto'] as const;
export type ComputeDevice = (typeof COMPUTE_DEVICES)[number];

export interface SelectedBackend {
  backend: ComputeBackend;
  device: 'cpu' | 'cuda';
}

export interface ComputeSelectionOptions {
  /** onnxruntime intra-op threads, in-thread or per worker (undefined: onnxruntime's choice). */
  threads?: number | undefined;
  /** CPU products in this many worker threads; 0 or undefined: on the calling thread. */
  computeThreads?: number | undefined;
  log?: (line: string) => void;
}

/** The backend for `device`, sized by `options`. */
export function selectComputeBackend(device: ComputeDevice, options: ComputeSelectionOptions = {}): SelectedBackend {
  const cpu = (): SelectedBackend => {
    if (options.computeThreads) {
      const backend = new WorkerPoolBackend({ size: options.computeThreads, intraOpThreads: options.threads });
      options.log?.(`compute on the CPU in ${backend.size} worker thread${backend.size === 1 ? '' : 's'} (${backend.name})`);
      return { backend, device: 'cpu' };
    }
    return { backend: options.threads === undefined ? defaultBackend() : new OnnxCpuBackend(options.threads), device: 'cpu' };
  };
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
