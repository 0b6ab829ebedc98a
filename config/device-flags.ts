/**
 * `--device` and `--compute-threads`: where a party's matrix products run
 * (compute/device-selection.ts). One definition for engine, dealer and gateway.
 */
import { z } from 'zod';
import { COMPUTE_DEVICES } from '../compute/device-selection.js';
import { defaultComputeThreads, MAX_COMPUTE_THREADS } from '../compute/worker/worker-pool-backend.js';
import { numeric } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

export const deviceFlags: FlagDefinitions = {
  device: {
    type: 'string',
    env: 'PERMLLM_DEVICE',
    value: 'cpu|cuda|auto',
    help: 'where matrix products run: cpu (onnxruntime, default); cuda (an NVIDIA GPU through native/cuda, built by scripts/build-cuda.sh; start-up fails if none is usable); auto (the GPU if usable, else the CPU, logged)',
  },
  'compute-threads': {
    type: 'string',
    env: 'PERMLLM_COMPUTE_THREADS',
    value: 'N',
    help: `worker threads that run the CPU's matrix products off the event loop (default ${defaultComputeThreads()} here: half the cores, 1 to 4; 0 runs them on the main thread, which then stalls for each product; at most ${MAX_COMPUTE_THREADS})`,
  },
};

export const deviceShape = {
  device: z.enum(COMPUTE_DEVICES).default('cpu'),
  'compute-threads': numeric(z.number().int().min(0).max(MAX_COMPUTE_THREADS)).default(defaultComputeThreads()),
};
