/**
 * `permllm healthcheck` flags (the Docker HEALTHCHECK) → one frozen, validated config. The
 * variables and defaults come from cli/healthcheck-probe.mjs, which bin/permllm.mjs also runs
 * before the TypeScript loader for the plain case (no flags).
 */
import { z } from 'zod';
import { DEFAULT_HEALTHCHECK_TIMEOUT_MS, HEALTHCHECK_ENV } from '../cli/healthcheck-probe.mjs';
import { pemFileSchema } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

export const healthcheckFlags: FlagDefinitions = {
  url: { type: 'string', env: HEALTHCHECK_ENV.url, value: 'URL', help: 'what to probe (default http://127.0.0.1:$PORT/healthz, PORT defaulting to 8080)' },
  ca: { type: 'string', env: HEALTHCHECK_ENV.ca, value: 'FILE', help: 'PEM CA to trust for an https URL' },
  'timeout-ms': { type: 'string', env: HEALTHCHECK_ENV.timeoutMs, value: 'MS', help: `give up after this long (default ${DEFAULT_HEALTHCHECK_TIMEOUT_MS})` },
};

export const healthcheckConfigSchema = z.object({
  url: z.string().url().optional(),
  ca: pemFileSchema.optional(),
  'timeout-ms': z.preprocess((v) => (typeof v === 'string' ? Number(v) : v), z.number().int().positive()).default(DEFAULT_HEALTHCHECK_TIMEOUT_MS),
});
