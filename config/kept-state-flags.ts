/**
 * Conversation reuse limits of the engine and the dealer (protocol/session/session-state-cache.ts):
 * how many sessions' attention states they keep for follow-up requests, in how many bytes, and
 * for how long. One definition for both processes.
 */
import { z } from 'zod';
import { DEFAULT_STATE_CACHE_LIMITS, type SessionStateCacheLimits } from '../protocol/session/session-state-cache.js';
import { numeric, positiveIntSchema } from './common-schemas.js';
import type { FlagDefinitions } from './parse-flags.js';

const d = DEFAULT_STATE_CACHE_LIMITS;

export const keptStateFlags: FlagDefinitions = {
  'kept-states': { type: 'string', value: 'N', help: `conversation reuse: finished sessions whose key/value state is kept for a follow-up request (default ${d.maxEntries}; 0 = none)` },
  'kept-state-mib': { type: 'string', value: 'MIB', help: `conversation reuse: most MiB of kept states, oldest evicted first (default ${d.maxBytes / 2 ** 20})` },
  'kept-state-ttl-ms': { type: 'string', value: 'MS', help: `conversation reuse: a kept state is dropped after this long (default ${d.ttlMs})` },
};

export const keptStateShape = {
  'kept-states': numeric(z.number().int().min(0).max(4096)).default(d.maxEntries),
  'kept-state-mib': positiveIntSchema.default(d.maxBytes / 2 ** 20),
  'kept-state-ttl-ms': positiveIntSchema.default(d.ttlMs),
};

export function keptStateLimits(config: { 'kept-states': number; 'kept-state-mib': number; 'kept-state-ttl-ms': number }): SessionStateCacheLimits {
  return { maxEntries: config['kept-states'], maxBytes: config['kept-state-mib'] * 2 ** 20, ttlMs: config['kept-state-ttl-ms'] };
}
