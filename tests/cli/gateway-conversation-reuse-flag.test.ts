/** `permllm gateway --conversation-reuse` (issue 12): off unless given. */
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema, gatewayFlags } from '../../config/gateway-config.js';
import { parseCommandLine } from '../../config/parse-flags.js';

const links = ['--engine', 'http://127.0.0.1:7001', '--dealer', 'http://127.0.0.1:7002'];
const parse = (argv: string[]) => parseCommandLine([...links, ...argv], gatewayFlags, gatewayConfigSchema, {});

describe('gateway --conversation-reuse', () => {
  it('is off by default and on with the flag', () => {
    const off = parse([]);
    expect('config' in off && off.config['conversation-reuse']).toBe(false);
    const on = parse(['--conversation-reuse']);
    expect('config' in on && on.config['conversation-reuse']).toBe(true);
  });
});

describe('engine and dealer --kept-states / --kept-state-mib / --kept-state-ttl-ms', () => {
  it('default to the cache defaults and are read from the flags', async () => {
    const { engineConfigSchema, engineFlags } = await import('../../config/engine-config.js');
    const { dealerConfigSchema, dealerFlags } = await import('../../config/dealer-config.js');
    const { keptStateLimits } = await import('../../config/kept-state-flags.js');
    const { DEFAULT_STATE_CACHE_LIMITS } = await import('../../protocol/session/session-state-cache.js');
    const engine = parseCommandLine(['--dealer', 'http://127.0.0.1:7002'], engineFlags, engineConfigSchema, {});
    expect('config' in engine && keptStateLimits(engine.config)).toEqual(DEFAULT_STATE_CACHE_LIMITS);
    const dealer = parseCommandLine(['--kept-states', '0', '--kept-state-mib', '64', '--kept-state-ttl-ms', '1000'], dealerFlags, dealerConfigSchema, {});
    expect('config' in dealer && keptStateLimits(dealer.config)).toEqual({ maxEntries: 0, maxBytes: 64 * 2 ** 20, ttlMs: 1000 });
    const bad = parseCommandLine(['--kept-states', '-1'], dealerFlags, dealerConfigSchema, {});
    expect('errors' in bad && bad.errors.join('\n')).toMatch(/kept-states/);
  });
});
