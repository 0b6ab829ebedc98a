/** `permllm start` (= `npm start`) flags → one frozen, validated config. */
import { z } from 'zod';
import { allocatorSchema } from './allocator.js';
import { hostSchema, portSchema, withEnvironment } from './common-schemas.js';
import { deviceFlags, deviceShape } from './device-flags.js';
import { GATEWAY_DEFAULT_PORT } from './gateway-config.js';
import type { FlagDefinitions } from './parse-flags.js';

export const startFlags: FlagDefinitions = withEnvironment({
  model: { type: 'string', env: 'PERMLLM_MODEL', value: 'PATH', help: 'the model the engine serves (default ../shared/models/stories260K)' },
  host: { type: 'string', value: 'HOST', help: 'interface for the gateway (default 127.0.0.1); engine and dealer always bind loopback' },
  port: { type: 'string', env: 'PORT', value: 'N', help: `gateway port (default ${GATEWAY_DEFAULT_PORT})` },
  'api-key': { type: 'string', env: 'PERMLLM_API_KEY', value: 'KEY', help: 'require "Authorization: Bearer KEY" from OpenAI clients' },
  allocator: {
    type: 'string',
    env: 'PERMLLM_ALLOCATOR',
    value: 'auto|jemalloc|glibc',
    help: "the children's native allocator: jemalloc (preloaded; RSS follows the memory in use, docs/deploy.md Memory; refused where libjemalloc.so.2 is not installed), glibc (MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_=131072), auto (default: jemalloc where installed, else glibc); an LD_PRELOAD or MALLOC_* variable of your own wins",
  },
  // Passed to all three children: where each party's matrix products run.
  ...deviceFlags,
});

export const startConfigSchema = z.object({
  model: z.string().min(1).optional(),
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(GATEWAY_DEFAULT_PORT),
  'api-key': z.string().min(1).optional(),
  allocator: allocatorSchema.default('auto'),
  ...deviceShape,
});

export type StartConfig = Readonly<z.output<typeof startConfigSchema>>;
