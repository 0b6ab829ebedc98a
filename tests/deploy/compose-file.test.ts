/**
 * deploy/compose.yaml, checked without a Docker daemon (CI has none; scripts/docker-check.sh
 * runs it for real): the three roles on one network, each with the image's HEALTHCHECK, every
 * link over TLS to the service that serves it, every command line accepted by that role's own
 * flag parser and cross-checks, secrets only from files, and the model mounted read-only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { GLIBC_MALLOC_ENV, JEMALLOC_CONF } from '../../config/allocator.js';
import { dealerFlags } from '../../config/dealer-config.js';
import { engineFlags } from '../../config/engine-config.js';
import { gatewayFlags } from '../../config/gateway-config.js';
import { parseCommandLine, type CrossCheck, type FlagDefinitions } from '../../config/parse-flags.js';
import { tlsPairCheck } from '../../config/common-schemas.js';
import { plainLinkCheck, plainServerCheck } from '../../config/trust-schemas.js';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

const serviceSchema = z.object({
  image: z.string().optional(),
  entrypoint: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string()).optional(),
  volumes: z.array(z.string()).default([]),
  ports: z.array(z.string()).default([]),
  networks: z.array(z.string()).optional(),
  network_mode: z.string().optional(),
  healthcheck: z.object({ test: z.unknown().optional(), disable: z.boolean().optional() }).passthrough().optional(),
  depends_on: z.record(z.object({ condition: z.string() })).default({}),
  stop_grace_period: z.string().optional(),
});
const composeSchema = z.object({ services: z.record(serviceSchema), networks: z.record(z.unknown()), volumes: z.record(z.unknown()) });
type Service = z.infer<typeof serviceSchema>;

const compose = composeSchema.parse(load(read('deploy/compose.yaml')));
const roles = {
  dealer: { flags: dealerFlags, checks: [tlsPairCheck, plainServerCheck] },
  engine: { flags: engineFlags, checks: [tlsPairCheck, plainServerCheck, plainLinkCheck(['dealer'])] },
  gateway: { flags: gatewayFlags, checks: [plainLinkCheck(['engine', 'dealer'])] },
} satisfies Record<string, { flags: FlagDefinitions; checks: CrossCheck[] }>;
type Role = keyof typeof roles;
const roleNames = Object.keys(roles) as Role[];

const service = (name: string): Service => {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`deploy/compose.yaml has no service ${name}`);
  return s;
};
const flag = (s: Service, name: string): string | undefined => {
  const argv = s.command ?? [];
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
};

describe('deploy/compose.yaml', () => {
  it('runs the three roles, each on the shared network with the image', () => {
    for (const role of roleNames) {
      const s = service(role);
      expect(s.image, role).toBe('permllm');
      expect(s.command?.[0], role).toBe(role);
      expect(s.networks, role).toEqual(['permllm']);
      expect(s.stop_grace_period, `${role}: docker stop must outlast --shutdown-grace-ms`).toBeDefined();
    }
    expect(Object.keys(compose.networks)).toEqual(['permllm']);
  });

  it('runs every role of the image on jemalloc with config/allocator.ts\'s settings, and the glibc ones beside them', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends libjemalloc2/);
    expect(dockerfile).toMatch(/^\s+LD_PRELOAD=libjemalloc\.so\.2 \\$/m);
    expect(dockerfile).toContain(`MALLOC_CONF=${JEMALLOC_CONF} \\`);
    for (const [name, value] of Object.entries(GLIBC_MALLOC_ENV)) expect(dockerfile).toMatch(new RegExp(`^\\s+${name}=${value}( \\\\)?$`, 'm'));
    for (const role of roleNames) expect(service(role).environment?.['LD_PRELOAD'], `${role} keeps the image's allocator`).toBeUndefined();
  });

  it('gives every role a health check that is the image\'s own HEALTHCHECK (permllm healthcheck)', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "bin\/permllm\.mjs", "healthcheck"\]$/m);
    for (const role of roleNames) {
      const check = service(role).healthcheck;
      expect(check, role).toBeDefined();
      expect(check?.disable, role).not.toBe(true);
      expect(check?.test, `${role} must not replace the image's HEALTHCHECK`).toBeUndefined();
    }
    // the servers' probes go to their own https port, trusting their own certificate
    for (const role of ['dealer', 'engine'] as const) {
      const env = service(role).environment ?? {};
      expect(env['PERMLLM_HEALTHCHECK_URL'], role).toBe(`https://localhost:${flag(service(role), 'port')}/healthz`);
      expect(env['PERMLLM_CA_FILE'], role).toBe(`/exchange/${role}.pem`);
    }
    expect(flag(service('gateway'), 'port'), 'the gateway\'s probe uses the default PORT 8080').toBe('8080');
    // its Host check (on every route once a list is set) must let the probe's Host through
    const allowed = /^\$\{PERMLLM_ALLOWED_HOSTS:-([^}]*)\}$/.exec(service('gateway').environment?.['PERMLLM_ALLOWED_HOSTS'] ?? '')?.[1];
    expect(allowed?.split(',')).toContain('127.0.0.1');
  });

  it('has every role\'s command line accepted by that role\'s flag parser and its TLS and plain-link checks', () => {
    for (const role of roleNames) {
      const { flags, checks } = roles[role];
      const parsed = parseCommandLine(service(role).command!.slice(1), flags, z.object({}).passthrough(), {}, checks);
      expect('errors' in parsed ? parsed.errors : [], role).toEqual([]);
    }
  });

  it('serves the engine and the dealer over TLS and dials each by its service name and port', () => {
    for (const role of ['dealer', 'engine'] as const) {
      expect(flag(service(role), 'tls-cert'), role).toMatch(/\.pem$/);
      expect(flag(service(role), 'tls-key'), role).toMatch(/\.key$/);
    }
    const dials: [Role, string, 'engine' | 'dealer'][] = [['engine', 'dealer', 'dealer'], ['gateway', 'engine', 'engine'], ['gateway', 'dealer', 'dealer']];
    for (const [from, name, to] of dials) {
      expect(flag(service(from), name), `${from} --${name}`).toBe(`https://${to}:${flag(service(to), 'port')}`);
    }
    expect(flag(service('engine'), 'ca')).toBe('/exchange/dealer.pem');
    expect(flag(service('gateway'), 'ca')).toBe('/exchange/ca.pem');
  });

  it('keeps secrets out of the compose file: each role reads its own from its state volume', () => {
    const runRole = read('deploy/scripts/run-role.sh');
    const secrets: [Role, string][] = [['engine', 'PERMLLM_DEALER_CREDENTIAL'], ['gateway', 'PERMLLM_CREDENTIAL']];
    for (const [name, s] of Object.entries(compose.services)) {
      for (const key of Object.keys(s.environment ?? {})) expect(key, name).not.toMatch(/CREDENTIAL/);
    }
    for (const [role, variable] of secrets) {
      const branch = runRole.slice(runRole.indexOf(`  ${role})`), runRole.indexOf(';;', runRole.indexOf(`  ${role})`)));
      expect(branch, role).toMatch(new RegExp(`${variable}=\\$\\(cat /var/lib/permllm/${role}/`));
    }
    for (const role of roleNames) expect(service(role).entrypoint, role).toEqual(['sh', '/deploy/run-role.sh']);
    expect(service('init').entrypoint).toEqual(['sh', '/deploy/init.sh']);
  });

  it('starts the roles in order: init done, then the dealer, the engine, the gateway, each healthy', () => {
    expect(service('dealer').depends_on).toEqual({ init: { condition: 'service_completed_successfully' } });
    expect(service('engine').depends_on).toEqual({ init: { condition: 'service_completed_successfully' }, dealer: { condition: 'service_healthy' } });
    expect(service('gateway').depends_on).toEqual({ engine: { condition: 'service_healthy' }, dealer: { condition: 'service_healthy' } });
    expect(service('init').network_mode).toBe('none');
  });

  it('mounts the model read-only and publishes only the gateway, on the host\'s loopback', () => {
    const engine = service('engine');
    expect(engine.volumes.filter((v) => v.endsWith(':/models:ro'))).toHaveLength(1);
    expect(flag(engine, 'model')).toMatch(/^\/models\//);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes) if (v.includes('/models')) expect(v, name).toMatch(/:ro$/);
      if (name !== 'gateway') expect(s.ports, name).toEqual([]);
    }
    expect(service('gateway').ports).toEqual(['127.0.0.1:${PERMLLM_GATEWAY_PORT:-8080}:8080']);
  });
});
