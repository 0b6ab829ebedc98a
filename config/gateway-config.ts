/** `permllm gateway` flags → one frozen, validated config. */
import { z } from 'zod';
import { defaultCacheDir, hostSchema, httpUrlSchema, linkTimingShape, loggingFlags, loggingShape, numeric, pemFileSchema, portSchema, positiveIntSchema, shutdownFlags, shutdownShape, tokenSchema, withEnvironment } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

export const GATEWAY_DEFAULT_PORT = 8080;

export const gatewayFlags: FlagDefinitions = withEnvironment({
  engine: { type: 'string', env: 'PERMLLM_ENGINE_URL', value: 'URL', help: 'the engine (http:// or https://)' },
  dealer: { type: 'string', env: 'PERMLLM_DEALER_URL', value: 'URL', help: 'the dealer (http:// or https://)' },
  host: { type: 'string', value: 'HOST', help: 'interface for the OpenAI API (default 127.0.0.1)' },
  port: { type: 'string', env: 'PORT', value: 'N', help: `port for the OpenAI API (default ${GATEWAY_DEFAULT_PORT}; 0 picks a free one)` },
  token: { type: 'string', env: 'PERMLLM_TOKEN', value: 'T', help: 'shared bearer token of the engine and dealer links' },
  'api-key': { type: 'string', env: 'PERMLLM_API_KEY', value: 'KEY', help: 'require "Authorization: Bearer KEY" from OpenAI clients' },
  ca: { type: 'string', env: 'PERMLLM_CA_FILE', value: 'FILE', help: 'PEM CA to trust for https/wss engine and dealer URLs' },
  'cache-dir': { type: 'string', env: 'PERMLLM_CACHE_DIR', value: 'DIR', help: 'where the masked model is cached (default ~/.cache/permllm)' },
  'max-concurrent': { type: 'string', value: 'N', help: 'requests generating at once (default 4)' },
  'probe-interval-ms': { type: 'string', value: 'MS', help: 'how often engine and dealer health is checked (default 1000)' },
  threads: { type: 'string', env: 'PERMLLM_THREADS', value: 'N', help: 'compute threads for matrix products (default: onnxruntime\'s choice, every core)' },
  'heartbeat-ms': { type: 'string', value: 'MS', help: 'link ping interval (default 1000)' },
  'dead-peer-ms': { type: 'string', value: 'MS', help: 'silence after which a peer counts as dead (default 6000)' },
  'max-queue': { type: 'string', value: 'N', help: 'requests allowed to wait for a generation slot; beyond that 429 at once (default 16)' },
  'queue-timeout-ms': { type: 'string', value: 'MS', help: 'longest wait in the queue before 429 (default 60000)' },
  'retry-after-seconds': { type: 'string', value: 'S', help: 'least Retry-After sent with 429; the real one estimates the wait from how long slots are held (default 1)' },
  'max-body-bytes': { type: 'string', value: 'N', help: 'largest request body; larger ones get 413 and the connection is closed (default 1048576)' },
  'max-n': { type: 'string', value: 'N', help: 'largest n (choices per request, default 8, at most 128)' },
  'first-token-timeout-ms': { type: 'string', value: 'MS', help: 'time allowed before a first token without protocol progress (default 300000)' },
  'idle-timeout-ms': { type: 'string', value: 'MS', help: 'time allowed between two tokens (default 60000)' },
  'keep-alive-ms': { type: 'string', value: 'MS', help: 'SSE keep-alive comment after this much silence (default 5000)' },
  'cors-origins': { type: 'string', value: 'LIST', help: 'comma-separated extra CORS origins ("*" for any); loopback origins are always allowed' },
  'allowed-hosts': { type: 'string', value: 'LIST', help: 'comma-separated Host names accepted (DNS-rebinding defence; loopback binds always accept the loopback names)' },
  ...shutdownFlags,
  ...loggingFlags,
});

/** "a, b,c" -> ["a", "b", "c"] */
const listSchema = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== '')).pipe(z.array(z.string().min(1)).min(1, 'give at least one name'));

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
  'probe-interval-ms': positiveIntSchema.default(1000),
  threads: positiveIntSchema.optional(),
  ...linkTimingShape,
  'max-queue': numeric(z.number().int().min(0)).default(16),
  'queue-timeout-ms': positiveIntSchema.default(60_000),
  'retry-after-seconds': positiveIntSchema.default(1),
  'max-body-bytes': positiveIntSchema.default(1024 * 1024),
  'max-n': numeric(z.number().int().positive().max(128)).default(8),
  'first-token-timeout-ms': positiveIntSchema.default(300_000),
  'idle-timeout-ms': positiveIntSchema.default(60_000),
  'keep-alive-ms': positiveIntSchema.default(5_000),
  'cors-origins': listSchema.optional(),
  'allowed-hosts': listSchema.optional(),
  ...shutdownShape,
  ...loggingShape,
});

export type GatewayConfig = Readonly<z.output<typeof gatewayConfigSchema>>;
