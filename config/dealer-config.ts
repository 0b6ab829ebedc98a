/** `permllm dealer` flags → one frozen, validated config. */
import { z } from 'zod';
import { defaultStateDir, hostSchema, linkTimingShape, pemFileSchema, portSchema, positiveIntSchema, loggingFlags, loggingShape, shutdownFlags, shutdownShape, withEnvironment } from './common-schemas.js';
import { credentialSchema, fingerprintSchema, insecureFlag, tofuFlag, trustFlagShape } from './trust-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';
import { deviceFlags, deviceShape } from './device-flags.js';
import { keptStateFlags, keptStateShape } from './kept-state-flags.js';

export const DEALER_DEFAULT_PORT = 8082;

export const dealerFlags: FlagDefinitions = withEnvironment({
  host: { type: 'string', value: 'HOST', help: 'interface to bind (default 127.0.0.1)' },
  port: { type: 'string', value: 'N', help: `port (default ${DEALER_DEFAULT_PORT}; 0 picks a free one)` },
  'state-dir': { type: 'string', env: 'PERMLLM_STATE_DIR', value: 'DIR', help: 'identity, credentials and pinned engine (default ~/.local/state/permllm/dealer)' },
  'engine-fingerprint': { type: 'string', env: 'PERMLLM_ENGINE_FINGERPRINT', value: 'FP', help: 'the only engine identity allowed to pair (as `permllm engine` prints it)' },
  'link-credential': { type: 'string', env: 'PERMLLM_LINK_CREDENTIAL', value: 'SECRET', help: 'the credential the engine must present (default: created in the state folder as link-credential)' },
  'operator-credential': { type: 'string', env: 'PERMLLM_OPERATOR_CREDENTIAL', value: 'SECRET', help: 'opens /metrics (default: created in the state folder as operator-credential)' },
  'max-pairing-bytes': { type: 'string', value: 'N', help: 'largest weight masks one pairing may need (default 8 GiB)' },
  'idle-session-ms': { type: 'string', value: 'MS', help: 'end a session whose links move nothing for this long (default 60000)' },
  ...keptStateFlags,
  ...tofuFlag,
  ...insecureFlag,
  'tls-cert': { type: 'string', value: 'FILE', help: 'PEM certificate: serve https/wss' },
  'tls-key': { type: 'string', value: 'FILE', help: 'PEM private key for --tls-cert' },
  'max-sessions': { type: 'string', value: 'N', help: 'concurrent sessions (default 16)' },
  'max-pairings': { type: 'string', value: 'N', help: 'engine pairings held at once (default 4; each holds masks as large as the model)' },
  'rendezvous-timeout-ms': { type: 'string', value: 'MS', help: 'how long one side of a session waits for the other to join (default 10000)' },
  'max-frame-bytes': { type: 'string', value: 'N', help: 'largest message accepted from a party (default 64 KiB; parties only send handshakes)' },
  threads: { type: 'string', env: 'PERMLLM_THREADS', value: 'N', help: 'onnxruntime threads per matrix product, in each compute worker (default: onnxruntime\'s choice, every core)' },
  ...deviceFlags,
  'heartbeat-ms': { type: 'string', value: 'MS', help: 'link ping interval (default 1000)' },
  'dead-peer-ms': { type: 'string', value: 'MS', help: 'silence after which a peer counts as dead (default 6000)' },
  ...shutdownFlags,
  ...loggingFlags,
});

export const dealerConfigSchema = z.object({
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(DEALER_DEFAULT_PORT),
  'state-dir': z.string().min(1).default(defaultStateDir('dealer')),
  'engine-fingerprint': fingerprintSchema.optional(),
  'link-credential': credentialSchema.optional(),
  'operator-credential': credentialSchema.optional(),
  'max-pairing-bytes': positiveIntSchema.default(8 * 2 ** 30),
  'idle-session-ms': positiveIntSchema.default(60_000),
  ...keptStateShape,
  ...trustFlagShape,
  'tls-cert': pemFileSchema.optional(),
  'tls-key': pemFileSchema.optional(),
  'max-sessions': positiveIntSchema.default(16),
  'max-pairings': positiveIntSchema.default(4),
  'rendezvous-timeout-ms': positiveIntSchema.default(10_000),
  'max-frame-bytes': positiveIntSchema.default(64 << 10),
  threads: positiveIntSchema.optional(),
  ...deviceShape,
  ...linkTimingShape,
  ...shutdownShape,
  ...loggingShape,
});

export type DealerConfig = Readonly<z.output<typeof dealerConfigSchema>>;
