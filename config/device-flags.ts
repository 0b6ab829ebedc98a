/** `--device`: where a party's matrix products run (compute/device-selection.ts). One definition for engine, dealer and gateway. */
import { z } from 'zod';
import { COMPUTE_DEVICES } from '../compute/device-selection.js';
import type { FlagDefinitions } from './parse-flags.js';

export const deviceFlags: FlagDefinitions = {
  device: {
    type: 'string',
    env: 'PERMLLM_DEVICE',
    value: 'cpu|cuda|auto',
    help: 'where matrix products run: cpu (onnxruntime, default); cuda (an NVIDIA GPU through native/cuda, built by scripts/build-cuda.sh; start-up fails if none is usable); auto (the GPU if usable, else the CPU, logged)',
  },
};

export const deviceShape = {
  device: z.enum(COMPUTE_DEVICES).default('cpu'),
};
