/** `permllm healthcheck` flags (the Docker HEALTHCHECK) → one frozen, validated config. */
import { z } from 'zod';
import { pemFileSchema } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

export const healthcheckFlags: FlagDefinitions = {
  url: { type: 'string', env: 'PERMLLM_HEALTHCHECK_URL', value: 'URL', help: 'what to probe (default http://127.0.0.1:$PORT/healthz, PORT defaulting to 8080)' },
  ca: { type: 'string', env: 'PERMLLM_CA_FILE', value: 'FILE', help: 'PEM CA to trust for an https URL' },
  'timeout-ms': { type: 'string', env: 'PERMLLM_HEALTHCHECK_TIMEOUT_MS', value: 'MS', help: 'give up after this long (default 3000)' },
};

export const healthcheckConfigSchema = z.object({
  url: z.string().url().optional(),
  ca: pemFileSchema.optional(),
  'timeout-ms': z.preprocess((v) => (typeof v === 'string' ? Number(v) : v), z.number().int().positive()).default(3000),
});
