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
