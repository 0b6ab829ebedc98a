/**
 * openapi.yaml describes every route the app serves (and nothing else), and the committed
 * generated types are up to date with it (the same check as `npm run check:types`).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildGateway } from '../../gateway/api/create-gateway-app.js';
import { GatewayOptionsError } from '../../gateway/api/gateway-options.js';
import { createTestBackend, repoRoot } from './helpers/test-backend.js';

describe('OpenAPI contract', () => {
  it('every served route (method and path) is in openapi.yaml, and every documented one is served', async () => {
    const { app } = buildGateway({ backend: await createTestBackend() });
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`);
    const spec = await readFile(path.join(repoRoot, 'openapi.yaml'), 'utf8');
    const documented: string[] = [];
    let current = '';
    for (const line of spec.split('\n')) {
      const pathMatch = /^ {2}(\/\S*):\s*$/.exec(line);
      if (pathMatch) current = pathMatch[1]!;
      const methodMatch = /^ {4}(get|post|put|delete|patch):\s*$/.exec(line);
      if (methodMatch && current) documented.push(`${methodMatch[1]} ${current}`);
      if (/^\S/.test(line) && !line.startsWith('paths:')) current = '';
    }
    expect(new Set(served)).toEqual(new Set(documented));
    expect(served).toHaveLength(11);
  });

  it('the committed generated types match openapi.yaml', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(repoRoot, 'scripts/generate-types.mjs'), '--check'], { cwd: repoRoot });
    expect(stdout).toContain('up to date');
  });

  it('gateway options are validated up front, every problem listed, and frozen', async () => {
    const backend = await createTestBackend();
    let error: unknown;
    try {
      buildGateway({ backend, maxConcurrent: 0, keepAliveMs: -1, apiKey: '' } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatewayOptionsError);
    expect((error as GatewayOptionsError).problems.map((p) => p.split(':')[0])).toEqual(['apiKey', 'maxConcurrent', 'keepAliveMs']);
    const { options } = buildGateway({ backend, corsOrigins: ['https://a.example'] });
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.corsOrigins)).toBe(true);
    expect(options.maxConcurrent).toBe(8);
    expect(options.maxPrompts).toBe(8);
  });
});
