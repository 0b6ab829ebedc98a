/** `permllm dealer` flags → one frozen, validated config. */
import { z } from 'zod';
import { hostSchema, linkTimingShape, pemFileSchema, portSchema, positiveIntSchema, tokenSchema, loggingFlags, loggingShape, shutdownFlags, shutdownShape, withEnvironment } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

export const DEALER_DEFAULT_PORT = 8082;

export const dealerFlags: FlagDefinitions = withEnvironment({
  host: { type: 'string', value: 'HOST', help: 'interface to bind (default 127.0.0.1)' },
  port: { type: 'string', value: 'N', help: `port (default ${DEALER_DEFAULT_PORT}; 0 picks a free one)` },
  token: { type: 'string', env: 'PERMLLM_TOKEN', value: 'T', help: 'shared bearer token of every link (prefer the environment variable: flags show in ps)' },
  'tls-cert': { type: 'string', value: 'FILE', help: 'PEM certificate: serve https/wss' },
  'tls-key': { type: 'string', value: 'FILE', help: 'PEM private key for --tls-cert' },
  'max-sessions': { type: 'string', value: 'N', help: 'concurrent sessions (default 16)' },
  'max-pairings': { type: 'string', value: 'N', help: 'engine pairings held at once (default 4; each holds masks as large as the model)' },
  'rendezvous-timeout-ms': { type: 'string', value: 'MS', help: 'how long one side of a session waits for the other to join (default 10000)' },
  'max-frame-bytes': { type: 'string', value: 'N', help: 'largest message accepted from a party (default 1 MiB; parties only send handshakes)' },
  threads: { type: 'string', env: 'PERMLLM_THREADS', value: 'N', help: 'compute threads for matrix products (default: onnxruntime\'s choice, every core)' },
  'heartbeat-ms': { type: 'string', value: 'MS', help: 'link ping interval (default 1000)' },
  'dead-peer-ms': { type: 'string', value: 'MS', help: 'silence after which a peer counts as dead (default 6000)' },
  ...shutdownFlags,
  ...loggingFlags,
});

export const dealerConfigSchema = z.object({
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(DEALER_DEFAULT_PORT),
  token: tokenSchema.optional(),
  'tls-cert': pemFileSchema.optional(),
  'tls-key': pemFileSchema.optional(),
  'max-sessions': positiveIntSchema.default(16),
  'max-pairings': positiveIntSchema.default(4),
  'rendezvous-timeout-ms': positiveIntSchema.default(10_000),
  'max-frame-bytes': positiveIntSchema.default(1 << 20),
  threads: positiveIntSchema.optional(),
  ...linkTimingShape,
  ...shutdownShape,
  ...loggingShape,
});

export type DealerConfig = Readonly<z.output<typeof dealerConfigSchema>>;
