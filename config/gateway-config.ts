/** `permllm gateway` flags → one frozen, validated config. */
import { z } from 'zod';
import { PERMLLM_PROFILE, PROFILE_STRENGTH } from '../protocol/masks/mask-profile.js';
import { defaultCacheDir, defaultStateDir, hostSchema, httpUrlSchema, linkTimingShape, loggingFlags, loggingShape, memoryFlags, memoryShape, numeric, pemFileSchema, portSchema, positiveIntSchema, shutdownFlags, shutdownShape, withEnvironment } from './common-schemas.js';
import { credentialSchema, fingerprintSchema, insecureFlag, tofuFlag, trustFlagShape } from './trust-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';
import { deviceFlags, deviceShape } from './device-flags.js';

export const GATEWAY_DEFAULT_PORT = 8080;

export const gatewayFlags: FlagDefinitions = withEnvironment({
  engine: { type: 'string', env: 'PERMLLM_ENGINE_URL', value: 'URL', help: 'the engine (http:// or https://)' },
  dealer: { type: 'string', env: 'PERMLLM_DEALER_URL', value: 'URL', help: 'the dealer (http:// or https://)' },
  host: { type: 'string', value: 'HOST', help: 'interface for the OpenAI API (default 127.0.0.1)' },
  port: { type: 'string', env: 'PORT', value: 'N', help: `port for the OpenAI API (default ${GATEWAY_DEFAULT_PORT}; 0 picks a free one)` },
  credential: { type: 'string', env: 'PERMLLM_CREDENTIAL', value: 'SECRET', help: 'your user credential from the engine\'s operator (sent to the engine only)' },
  'engine-fingerprint': { type: 'string', env: 'PERMLLM_ENGINE_FINGERPRINT', value: 'FP', help: 'the engine\'s identity, as its operator publishes it' },
  'dealer-fingerprint': { type: 'string', env: 'PERMLLM_DEALER_FINGERPRINT', value: 'FP', help: 'the identity of the dealer you trust (it must not also be a user, nor the engine)' },
  'state-dir': { type: 'string', env: 'PERMLLM_STATE_DIR', value: 'DIR', help: 'pinned identities (default ~/.local/state/permllm/gateway)' },
  'min-profile': { type: 'string', value: 'NAME', help: `weakest mask profile accepted from the engine (default ${PERMLLM_PROFILE.name}; weakest first: ${PROFILE_STRENGTH.join(', ')})` },
  ...tofuFlag,
  ...insecureFlag,
  'api-key': { type: 'string', env: 'PERMLLM_API_KEY', value: 'KEY', help: 'require "Authorization: Bearer KEY" from OpenAI clients' },
  ca: { type: 'string', env: 'PERMLLM_CA_FILE', value: 'FILE', help: 'PEM CA to trust for https/wss engine and dealer URLs' },
  'cache-dir': { type: 'string', env: 'PERMLLM_CACHE_DIR', value: 'DIR', help: 'where the masked model is cached (default ~/.cache/permllm)' },
  'max-concurrent': { type: 'string', value: 'N', help: 'backend sessions generating at once; a request takes n × prompts of them, more than N is refused (default 8)' },
  'max-prompts': { type: 'string', value: 'N', help: 'longest prompt list one /v1/completions request may send (default 8, at most 1024)' },
  'model-aliases': { type: 'string', env: 'PERMLLM_MODEL_ALIASES', value: 'NAMES', help: 'comma-separated other names the model answers to (e.g. gpt-4o-mini)' },
  'probe-interval-ms': { type: 'string', value: 'MS', help: 'how often engine and dealer health is checked (default 1000)' },
  threads: { type: 'string', env: 'PERMLLM_THREADS', value: 'N', help: 'onnxruntime threads per matrix product, in each compute worker (default: onnxruntime\'s choice, every core)' },
  ...deviceFlags,
  'heartbeat-ms': { type: 'string', value: 'MS', help: 'link ping interval (default 1000)' },
  'dead-peer-ms': { type: 'string', value: 'MS', help: 'silence after which a peer counts as dead (default 6000)' },
  'length-bucket': { type: 'string', env: 'PERMLLM_LENGTH_BUCKET', value: 'N', help: 'round the prompt length and the passes the engine sees to multiples of N tokens (default 0 = off; costs up to 2N-2 extra passes)' },
  'conversation-reuse': { type: 'boolean', help: 'continue a recent session\'s key/value state when a prompt extends its prompt + output, instead of prefilling again (the engine and the dealer then learn that the requests are linked; off with --length-bucket)' },
  'max-queue': { type: 'string', value: 'N', help: 'backend sessions allowed to wait for the session budget; beyond that 429 at once (default 16)' },
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
  ...memoryFlags,
});

/** "a, b,c" -> ["a", "b", "c"] */
const listSchema = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== '')).pipe(z.array(z.string().min(1)).min(1, 'give at least one name'));

export const gatewayConfigSchema = z.object({
  engine: httpUrlSchema,
  dealer: httpUrlSchema,
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(GATEWAY_DEFAULT_PORT),
  credential: credentialSchema.optional(),
  'engine-fingerprint': fingerprintSchema.optional(),
  'dealer-fingerprint': fingerprintSchema.optional(),
  'state-dir': z.string().min(1).default(defaultStateDir('gateway')),
  'min-profile': z
    .string()
    .refine((p) => PROFILE_STRENGTH.includes(p), { message: `unknown mask profile (weakest first: ${PROFILE_STRENGTH.join(', ')})` })
    .default(PERMLLM_PROFILE.name),
  ...trustFlagShape,
  'api-key': z.string().min(1).optional(),
  ca: pemFileSchema.optional(),
  'cache-dir': z.string().min(1).default(defaultCacheDir()),
  'max-concurrent': positiveIntSchema.default(8),
  'max-prompts': numeric(z.number().int().positive().max(1024)).default(8),
  'model-aliases': z.string().optional().transform((v) => (v ?? '').split(',').map((a) => a.trim()).filter((a) => a.length > 0)),
  'probe-interval-ms': positiveIntSchema.default(1000),
  threads: positiveIntSchema.optional(),
  ...deviceShape,
  'length-bucket': numeric(z.number().int().min(0).max(4096)).default(0),
  'conversation-reuse': z.boolean().default(false),
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
  ...memoryShape,
});

export type GatewayConfig = Readonly<z.output<typeof gatewayConfigSchema>>;
