/** `permllm engine` flags → one frozen, validated config. */
import { z } from 'zod';
import { MASK_PROFILES, RING64_PROFILE } from '../protocol/masks/mask-profile.js';
import { defaultStateDir, hostSchema, httpUrlSchema, linkTimingShape, pemFileSchema, portSchema, positiveIntSchema, loggingFlags, loggingShape, memoryFlags, memoryShape, shutdownFlags, shutdownShape, withEnvironment } from './common-schemas.js';
import { credentialSchema, fingerprintSchema, insecureFlag, tofuFlag, trustFlagShape } from './trust-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';
import { deviceFlags, deviceShape } from './device-flags.js';
import { ATTENTION_MODES, DEFAULT_ATTENTION_MODES } from '../protocol/schedule/attention-mode.js';
import { keptStateFlags, keptStateShape } from './kept-state-flags.js';

export const ENGINE_DEFAULT_PORT = 8081;

export const engineFlags: FlagDefinitions = withEnvironment({
  model: { type: 'string', env: 'PERMLLM_MODEL', value: 'PATH', help: 'llama2.c .bin, a folder holding one, or a Hugging Face folder (default ../shared/models/stories260K)' },
  dealer: { type: 'string', env: 'PERMLLM_DEALER_URL', value: 'URL', help: 'the dealer this engine pairs with and dials per session (http:// or https://)' },
  'dealer-name': { type: 'string', env: 'PERMLLM_DEALER_NAME', value: 'NAME', help: 'a stable name for the dealer; the pairing key is kept per (model, dealer name) (default: the dealer URL\'s origin)' },
  host: { type: 'string', value: 'HOST', help: 'interface to bind (default 127.0.0.1)' },
  port: { type: 'string', value: 'N', help: `port (default ${ENGINE_DEFAULT_PORT}; 0 picks a free one)` },
  'dealer-fingerprint': { type: 'string', env: 'PERMLLM_DEALER_FINGERPRINT', value: 'FP', help: 'the dealer\'s identity (as `permllm dealer` prints it); sessions need its signatures' },
  'dealer-credential': { type: 'string', env: 'PERMLLM_DEALER_CREDENTIAL', value: 'SECRET', help: 'the link credential the dealer\'s operator gave you (prefer the environment variable: flags show in ps)' },
  'operator-credential': { type: 'string', env: 'PERMLLM_OPERATOR_CREDENTIAL', value: 'SECRET', help: 'opens /metrics (default: created in the state folder as operator-credential)' },
  'idle-session-ms': { type: 'string', value: 'MS', help: 'end a session from which the gateway sent nothing for this long (default 60000)' },
  ...keptStateFlags,
  ...tofuFlag,
  ...insecureFlag,
  'tls-cert': { type: 'string', value: 'FILE', help: 'PEM certificate: serve https/wss' },
  'tls-key': { type: 'string', value: 'FILE', help: 'PEM private key for --tls-cert' },
  ca: { type: 'string', env: 'PERMLLM_CA_FILE', value: 'FILE', help: 'PEM CA to trust for the dealer (besides the system CAs)' },
  'state-dir': { type: 'string', env: 'PERMLLM_STATE_DIR', value: 'DIR', help: 'identity, credentials, pinned dealer and pairing keys (default ~/.local/state/permllm/engine)' },
  'max-sessions': { type: 'string', value: 'N', help: 'concurrent sessions (default 8)' },
  profile: { type: 'string', value: 'NAME', help: `mask profile (default ${RING64_PROFILE.name}: exact Z_2^64 shares; permllm-f64 is statistical masking, for comparison; ${Object.keys(MASK_PROFILES).join(', ')})` },
  'attention-modes': { type: 'string', env: 'PERMLLM_ATTENTION_MODES', value: 'LIST', help: `attention modes the card allows, comma-separated (${ATTENTION_MODES.join(', ')}; default beaver: the paper's exposure; single-view shows the user permuted q/k/v and the attention pattern, README "Security")` },
  threads: { type: 'string', env: 'PERMLLM_THREADS', value: 'N', help: 'onnxruntime threads per matrix product, in each compute worker (default: onnxruntime\'s choice, every core)' },
  ...deviceFlags,
  'heartbeat-ms': { type: 'string', value: 'MS', help: 'link ping interval (default 1000)' },
  'dead-peer-ms': { type: 'string', value: 'MS', help: 'silence after which a peer counts as dead (default 6000)' },
  'probe-interval-ms': { type: 'string', value: 'MS', help: 'how often the dealer pairing is checked (default 1000)' },
  ...shutdownFlags,
  ...loggingFlags,
  ...memoryFlags,
});

export const engineConfigSchema = z.object({
  model: z.string().min(1).optional(),
  dealer: httpUrlSchema,
  'dealer-name': z.string().min(1).max(200).optional(),
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(ENGINE_DEFAULT_PORT),
  'dealer-fingerprint': fingerprintSchema.optional(),
  'dealer-credential': credentialSchema.optional(),
  'operator-credential': credentialSchema.optional(),
  'idle-session-ms': positiveIntSchema.default(60_000),
  ...keptStateShape,
  ...trustFlagShape,
  'tls-cert': pemFileSchema.optional(),
  'tls-key': pemFileSchema.optional(),
  ca: pemFileSchema.optional(),
  'state-dir': z.string().min(1).default(defaultStateDir('engine')),
  'max-sessions': positiveIntSchema.default(8),
  profile: z
    .string()
    .refine((p) => Object.hasOwn(MASK_PROFILES, p), { message: `unknown mask profile (known: ${Object.keys(MASK_PROFILES).join(', ')})` })
    .default(RING64_PROFILE.name),
  'probe-interval-ms': positiveIntSchema.default(1000),
  threads: positiveIntSchema.optional(),
  ...deviceShape,
  'attention-modes': z
    .string()
    .transform((s) => [...new Set(s.split(',').map((m) => m.trim()).filter((m) => m.length > 0))])
    .pipe(z.array(z.enum(ATTENTION_MODES)).min(1))
    .default(DEFAULT_ATTENTION_MODES.join(',')),
  ...linkTimingShape,
  ...shutdownShape,
  ...loggingShape,
  ...memoryShape,
});

export type EngineConfig = Readonly<z.output<typeof engineConfigSchema>>;
