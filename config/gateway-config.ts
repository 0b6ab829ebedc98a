/** `permllm gateway` flags → one frozen, validated config. */
import { z } from 'zod';
import { defaultCacheDir, hostSchema, httpUrlSchema, linkTimingShape, pemFileSchema, portSchema, positiveIntSchema, tokenSchema } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

export const GATEWAY_DEFAULT_PORT = 8080;

export const gatewayFlags: FlagDefinitions = {
  engine: { type: 'string', env: 'PERMLLM_ENGINE_URL', value: 'URL', help: 'the engine (http:// or https://)' },
  dealer: { type: 'string', env: 'PERMLLM_DEALER_URL', value: 'URL', help: 'the dealer (http:// or https://)' },
  host: { type: 'string', value: 'HOST', help: 'interface for the OpenAI API (default 127.0.0.1)' },
  port: { type: 'string', env: 'PORT', value: 'N', help: `port for the OpenAI API (default ${GATEWAY_DEFAULT_PORT}; 0 picks a free one)` },
  token: { type: 'string', env: 'PERMLLM_TOKEN', value: 'T', help: 'shared bearer token of the engine and dealer links' },
  'api-key': { type: 'string', env: 'PERMLLM_API_KEY', value: 'KEY', help: 'require "Authorization: Bearer KEY" from OpenAI clients' },
  ca: { type: 'string', env: 'PERMLLM_CA_FILE', value: 'FILE', help: 'PEM CA to trust for https/wss engine and dealer URLs' },
  'cache-dir': { type: 'string', env: 'PERMLLM_CACHE_DIR', value: 'DIR', help: 'where the masked model is cached (default ~/.cache/permllm)' },
  'max-concurrent': { type: 'string', value: 'N', help: 'requests generating at once (default 4)' },
  'model-alias': { type: 'string', env: 'PERMLLM_MODEL_ALIASES', value: 'NAMES', help: 'comma-separated other names the model answers to (e.g. gpt-4o-mini)' },
  'probe-interval-ms': { type: 'string', value: 'MS', help: 'how often engine and dealer health is checked (default 1000)' },
  threads: { type: 'string', env: 'PERMLLM_THREADS', value: 'N', help: 'compute threads for matrix products (default: onnxruntime\'s choice, every core)' },
  'heartbeat-ms': { type: 'string', value: 'MS', help: 'link ping interval (default 1000)' },
  'dead-peer-ms': { type: 'string', value: 'MS', help: 'silence after which a peer counts as dead (default 6000)' },
};

export const gatewayConfigSchema = z.object({
  engine: httpUrlSchema,
  dealer: httpUrlSchema,
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(GATEWAY_DEFAULT_PORT),
  token: tokenSchema.optional(),
  'api-key': z.string().min(1).optional(),
  ca: pemFileSchema.optional(),
  'cache-dir': z.string().min(1).default(defaultCacheDir()),
  'max-concurrent': positiveIntSchema.default(4),
  'model-alias': z.string().optional().transform((v) => (v ?? '').split(',').map((a) => a.trim()).filter((a) => a.length > 0)),
  'probe-interval-ms': positiveIntSchema.default(1000),
  threads: positiveIntSchema.optional(),
  ...linkTimingShape,
});

export type GatewayConfig = Readonly<z.output<typeof gatewayConfigSchema>>;
