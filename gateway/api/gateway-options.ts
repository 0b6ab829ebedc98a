/**
 * The gateway's options: validated by zod (every problem listed at once), defaults filled in,
 * then frozen. `createGatewayApp` and `startGatewayServer` accept `GatewayOptions`.
 */
import { z } from 'zod';
import type { Logger } from '../../observability/logger.js';
import type { GenerationBackend } from '../pipeline/generation-backend.js';

const isBackend = (value: unknown): value is GenerationBackend =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as GenerationBackend).generate === 'function' &&
  typeof (value as GenerationBackend).readiness === 'function' &&
  typeof (value as GenerationBackend).modelInfo === 'object';

const positiveInt = () => z.number().int().positive();

export const gatewayOptionsSchema = z
  .object({
    /** What generates tokens (plaintext model, or the private protocol client). */
    backend: z.custom<GenerationBackend>(isBackend, { message: 'must implement GenerationBackend' }),
    /** When set, every /v1 route and /metrics require `Authorization: Bearer <apiKey>`. */
    apiKey: z.string().min(1).optional(),
    /**
     * Backend sessions generating at once: each choice of each prompt is one private session,
     * so a request takes n × prompts of them (more than this: 400). The engine's default
     * `--max-sessions` is 8 too.
     */
    maxConcurrent: positiveInt().default(8),
    /** Backend sessions allowed to wait for the budget; beyond that 429 at once. */
    maxQueue: z.number().int().min(0).default(16),
    /** Longest prompt list `/v1/completions` accepts (400 with param `prompt` beyond). */
    maxPrompts: positiveInt().max(1024).default(8),
    /** Longest wait in the queue before 429. */
    queueTimeoutMs: positiveInt().default(60_000),
    /** Least Retry-After (seconds) sent with 429; the real one estimates the wait from how long slots are held. */
    retryAfterSeconds: positiveInt().default(1),
    /** Largest accepted request body (413 beyond). */
    maxBodyBytes: positiveInt().default(1024 * 1024),
    /** Other names the served model answers to (apps that hard-code `gpt-4o-mini` and the like). */
    modelAliases: z.array(z.string().min(1)).default([]),
    /** Largest `n`. */
    maxN: positiveInt().max(128).default(8),
    /** Time allowed before a choice's first token without the backend reporting progress (the private prefill reports every layer). */
    firstTokenTimeoutMs: positiveInt().default(300_000),
    /** Time allowed between two tokens; a slow but progressing stream is never cut. */
    idleTimeoutMs: positiveInt().default(60_000),
    /** `: keep-alive` SSE comment after this much silence. */
    keepAliveMs: positiveInt().default(5_000),
    /** Host names accepted in the Host header (DNS-rebinding defence); undefined = no check. */
    allowedHosts: z.array(z.string().min(1)).min(1).optional(),
    /** Extra CORS origins ("*" for any); loopback origins are always allowed. */
    corsOrigins: z.array(z.string().min(1)).default([]),
    /** Access log (one line per request) and server errors; default: none (the commands pass one). */
    logger: z
      .custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function' && typeof (v as Logger).child === 'function', {
        message: 'must be a pino logger',
      })
      .optional(),
    /** Called for every 5xx (default: the logger's error level, else one line on stderr). */
    onServerError: z
      .custom<(error: Error, context: { requestId: string; route: string }) => void>((v) => typeof v === 'function', {
        message: 'must be a function',
      })
      .optional(),
  })
  .strict();

export type GatewayOptions = z.input<typeof gatewayOptionsSchema>;
export type ResolvedGatewayOptions = Readonly<z.output<typeof gatewayOptionsSchema>>;

export class GatewayOptionsError extends Error {
  override readonly name = 'GatewayOptionsError';
  constructor(readonly problems: string[]) {
    super(`invalid gateway options:\n  ${problems.join('\n  ')}`);
  }
}

export function resolveGatewayOptions(input: GatewayOptions): ResolvedGatewayOptions {
  const parsed = gatewayOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new GatewayOptionsError(parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`));
  }
  const options = parsed.data;
  if (options.allowedHosts) Object.freeze(options.allowedHosts);
  Object.freeze(options.corsOrigins);
  Object.freeze(options.modelAliases);
  return Object.freeze(options);
}
