/**
 * The dealer's control API (hono). Everything but /healthz needs the bearer token.
 *
 *   GET /healthz              liveness
 *   GET /readyz               {ready, pairings, activeSessions}
 *   GET /metrics              Prometheus text
 *   GET /v1/pairings/:id      200 {id, modelHash, profile} when held, else 404
 *   PUT /v1/pairings/:id      the engine hands over its pairing (protocol/transport/pairing-request.ts)
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireBearer } from '../../protocol/transport/control-server.js';
import { pairingRequestSchema, PAIRINGS_PATH } from '../../protocol/transport/pairing-request.js';
import { HEX_ID } from '../../protocol/transport/session-endpoints.js';
import type { DealerMetrics } from './dealer-metrics.js';
import type { PairingRegistry } from './pairing-registry.js';

export interface DealerControlDeps {
  token: string | undefined;
  pairings: PairingRegistry;
  activeSessions: () => number;
  metrics: DealerMetrics;
  log: (line: string) => void;
}

const error = (message: string, code: string) => ({ error: { message, type: 'invalid_request_error', code, param: null } });

export function dealerControlApp(deps: DealerControlDeps): Hono {
  const { pairings, metrics, log } = deps;
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.use('*', requireBearer(deps.token));
  app.get('/readyz', (c) => c.json({ ready: true, reasons: [], pairings: pairings.size, activeSessions: deps.activeSessions() }));
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  app.get(`${PAIRINGS_PATH}/:id`, (c) => {
    const pairing = pairings.get(c.req.param('id'));
    if (!pairing) return c.json(error('no such pairing', 'not_found'), 404);
    return c.json({ id: pairing.id, modelHash: pairing.modelHash, profile: pairing.model.profile.name });
  });
  app.put(
    `${PAIRINGS_PATH}/:id`,
    bodyLimit({ maxSize: 4 << 20, onError: (c) => c.json(error('pairing request too large', 'request_too_large'), 413) }),
    async (c) => {
      const id = c.req.param('id');
      if (!HEX_ID.test(id)) return c.json(error('pairing id must be 32 lowercase hex characters', 'invalid_value'), 400);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json(error('body is not JSON', 'invalid_json'), 400);
      }
      const parsed = pairingRequestSchema.safeParse(body);
      if (!parsed.success) {
        return c.json(error(parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '), 'invalid_value'), 400);
      }
      const result = await pairings.put(id, parsed.data);
      metrics.pairings.set(pairings.size);
      if ('message' in result) return c.json(error(result.message, 'pairing_refused'), result.status);
      if (result.status === 201) log(`holding pairing ${id.slice(0, 8)}… (model ${parsed.data.modelHash.slice(0, 8)}…, ${parsed.data.weights.length} weight masks)`);
      return c.json({ id, modelHash: result.pairing.modelHash }, result.status);
    },
  );
  app.notFound((c) => c.json(error(`no route ${c.req.method} ${c.req.path}`, 'not_found'), 404));
  return app;
}
