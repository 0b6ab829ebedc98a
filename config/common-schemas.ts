/** zod pieces the server commands' configs share (ports, URLs, tokens, TLS files, link timing). */
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from '../observability/logger.js';
import type { CrossCheck, FlagDefinitions } from './parse-flags.js';
import { readPemFile } from './pem-file.mjs';

/** A flag's string as a number, so zod says "expected number" for "abc" instead of NaN. */
export const numeric = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);

export const portSchema = numeric(z.number().int().min(0).max(65535));

export const hostSchema = z.string().min(1);

export const httpUrlSchema = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'expected an http:// or https:// URL')
  .transform((u) => u.replace(/\/+$/, ''));

export const tokenSchema = z
  .string()
  .min(16, 'use at least 16 characters (e.g. the output of `openssl rand -hex 32`)')
  .regex(/^\S+$/, 'must not contain whitespace');

/** A PEM file path, read at start-up (a missing or unreadable file is a config error; config/pem-file.mjs). */
export const pemFileSchema = z.string().transform((file, ctx) => {
  const pem = readPemFile(file);
  if ('text' in pem) return pem.text;
  ctx.addIssue({ code: 'custom', message: pem.problem });
  return z.NEVER;
});

export const positiveIntSchema = numeric(z.number().int().positive());

/** Heartbeat timing of the protocol links. */
export const linkTimingShape = {
  'heartbeat-ms': positiveIntSchema.default(1000),
  'dead-peer-ms': positiveIntSchema.default(6000),
};

/** Exactly one of --tls-cert / --tls-key is a problem (checked across flags, see parse-flags.ts). */
export const tlsPairCheck: CrossCheck = (raw) => {
  if ((raw['tls-cert'] === undefined) === (raw['tls-key'] === undefined)) return undefined;
  return { flag: raw['tls-cert'] === undefined ? 'tls-cert' : 'tls-key', message: 'TLS needs both --tls-cert and --tls-key' };
};

/** ~/.cache/permllm (or $XDG_CACHE_HOME/permllm); $PERMLLM_CACHE_DIR is read by the gateway's flags. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env['XDG_CACHE_HOME'] || path.join(homedir(), '.cache'), 'permllm');
}

/** ~/.local/state/permllm/<role> (or $XDG_STATE_HOME/permllm/<role>). */
export function defaultStateDir(role: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env['XDG_STATE_HOME'] || path.join(homedir(), '.local', 'state'), 'permllm', role);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** How every server command logs (observability/logger.ts): format and level, by flag or environment. */
export const loggingFlags: FlagDefinitions = {
  'log-format': { type: 'string', env: 'PERMLLM_LOG_FORMAT', value: 'FORMAT', help: `log lines as ${LOG_FORMATS.join(' or ')} (default json: one JSON object per line on stderr)` },
  'log-level': { type: 'string', env: 'PERMLLM_LOG_LEVEL', value: 'LEVEL', help: `least severe level logged: ${LOG_LEVELS.join(', ')} (default info)` },
};

export const loggingShape = {
  'log-format': z.enum(LOG_FORMATS).default('json'),
  'log-level': z.enum(LOG_LEVELS).default('info'),
};

/** The logger a command builds from its config's logging fields. */
export function loggerFor(role: string, config: { 'log-format': LogFormat; 'log-level': LogLevel }): Logger {
  return createLogger({ role, format: config['log-format'], level: config['log-level'] });
}

/**
 * Gives every flag without one an environment variable, PERMLLM_ + the flag in upper snake case
 * (`--max-queue` -> PERMLLM_MAX_QUEUE), so that every deployment setting can be set either way.
 */
export function withEnvironment(flags: FlagDefinitions): FlagDefinitions {
  return Object.fromEntries(
    Object.entries(flags).map(([name, d]) => [name, d.env === undefined ? { ...d, env: `PERMLLM_${name.toUpperCase().replace(/-/g, '_')}` } : d]),
  );
}

/** Shutdown: how long in-flight work may finish after SIGTERM before it is ended with an error. */
export const shutdownFlags: FlagDefinitions = {
  'shutdown-grace-ms': { type: 'string', env: 'PERMLLM_SHUTDOWN_GRACE_MS', value: 'MS', help: 'after SIGTERM, time in-flight requests get to finish before they are ended with an error (default 10000)' },
};

export const shutdownShape = {
  'shutdown-grace-ms': numeric(z.number().int().min(0)).default(10_000),
};

/** Engine and gateway: the memory they may plan for (protocol/session/memory-fit.ts). */
export const memoryFlags: FlagDefinitions = {
  'memory-limit': { type: 'string', env: 'PERMLLM_MEMORY_LIMIT', value: 'BYTES', help: 'memory this process may use; a model needing more at its peak is refused at start (default: the machine\'s or the container\'s limit)' },
};

export const memoryShape = {
  'memory-limit': numeric(z.number().int().min(1)).optional(),
};
