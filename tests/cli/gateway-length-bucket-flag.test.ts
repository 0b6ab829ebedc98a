/** `permllm gateway --length-bucket N` (issue 11): parsed, defaulted to off, range-checked. */
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema, gatewayFlags } from '../../config/gateway-config.js';
import { parseCommandLine } from '../../config/parse-flags.js';

const links = ['--engine', 'http://127.0.0.1:7001', '--dealer', 'http://127.0.0.1:7002'];
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCommandLine([...links, ...argv], gatewayFlags, gatewayConfigSchema, env);

describe('gateway --length-bucket', () => {
  it('is off by default, read from the flag or PERMLLM_LENGTH_BUCKET', () => {
    const off = parse([]);
    expect('config' in off && off.config['length-bucket']).toBe(0);
    const flag = parse(['--length-bucket', '16']);
    expect('config' in flag && flag.config['length-bucket']).toBe(16);
    const env = parse([], { PERMLLM_LENGTH_BUCKET: '32' });
    expect('config' in env && env.config['length-bucket']).toBe(32);
  });

  it('rejects negative, fractional and non-numeric sizes naming the flag', () => {
    for (const bad of ['-1', '2.5', 'big']) {
      const parsed = parse(['--length-bucket', bad]);
      expect('errors' in parsed, bad).toBe(true);
      if ('errors' in parsed) expect(parsed.errors.join('\n')).toMatch(/length-bucket/);
    }
  });
});
