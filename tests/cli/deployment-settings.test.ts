/**
 * Every deployment setting has a flag and an environment variable, both shown by --help and
 * both documented in docs/deploy.md; every gateway library option a deployment sets has a flag.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dealerConfigSchema, dealerFlags } from '../../config/dealer-config.js';
import { engineConfigSchema, engineFlags } from '../../config/engine-config.js';
import { gatewayConfigSchema, gatewayFlags } from '../../config/gateway-config.js';
import { parseCommandLine, usageText, type FlagDefinitions } from '../../config/parse-flags.js';
import { gatewayOptionsSchema } from '../../gateway/api/gateway-options.js';

const docs = readFileSync(path.resolve(import.meta.dirname, '../../docs/deploy.md'), 'utf8');
const roles: [string, FlagDefinitions][] = [
  ['engine', engineFlags],
  ['dealer', dealerFlags],
  ['gateway', gatewayFlags],
];
const derived = (flag: string) => `PERMLLM_${flag.toUpperCase().replace(/-/g, '_')}`;

describe('deployment settings', () => {
  it.each(roles)('every %s flag has an environment variable shown by --help and documented', (role, flags) => {
    const help = usageText(role, '', flags);
    for (const [flag, definition] of Object.entries(flags)) {
      expect(definition.env, `--${flag}`).toBeDefined();
      expect(help).toContain(`--${flag}`);
      expect(help).toContain(`[$${definition.env}]`);
      expect(docs, `docs/deploy.md mentions --${flag}`).toContain(`--${flag}`);
      // Named in the table, or the documented rule's name.
      if (!docs.includes(definition.env!)) expect(definition.env).toBe(derived(flag));
    }
  });

  it('every gateway option a deployment sets has a flag', () => {
    const programmatic = new Set(['backend', 'onServerError', 'logger']);
    const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    for (const key of Object.keys(gatewayOptionsSchema.shape)) {
      if (!programmatic.has(key)) expect(Object.keys(gatewayFlags), key).toContain(kebab(key));
    }
  });

  it('reads settings from the environment, the flag winning over the variable', () => {
    const base = ['--engine', 'http://e:1', '--dealer', 'http://d:2'];
    const env = { PERMLLM_MAX_QUEUE: '3', PERMLLM_CORS_ORIGINS: 'https://a.example, https://b.example', PERMLLM_LOG_FORMAT: 'pretty' };
    const parsed = parseCommandLine([...base, '--max-queue', '5'], gatewayFlags, gatewayConfigSchema, env);
    if (!('config' in parsed)) throw new Error(JSON.stringify(parsed));
    expect(parsed.config['max-queue']).toBe(5);
    expect(parsed.config['cors-origins']).toEqual(['https://a.example', 'https://b.example']);
    expect(parsed.config['log-format']).toBe('pretty');
    const engine = parseCommandLine(['--dealer', 'http://d:2'], engineFlags, engineConfigSchema, { PERMLLM_MAX_SESSIONS: '2', PERMLLM_SHUTDOWN_GRACE_MS: '0' });
    if (!('config' in engine)) throw new Error(JSON.stringify(engine));
    expect(engine.config['max-sessions']).toBe(2);
    expect(engine.config['shutdown-grace-ms']).toBe(0);
    const dealer = parseCommandLine([], dealerFlags, dealerConfigSchema, { PERMLLM_LOG_LEVEL: 'loud' });
    expect(dealer).toEqual({ errors: [expect.stringMatching(/^\$PERMLLM_LOG_LEVEL: /)] });
  });
});
