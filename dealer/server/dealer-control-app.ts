/**
 * The dealer's control API (hono). What each credential opens (protocol/transport/credentials.ts):
 *
 *   GET /healthz              anyone: liveness and the dealer's identity {fingerprint, publicKey}
 *   GET /readyz               anyone: {ready}; pairing and session counts only for the operator
 *   GET /metrics              operator only: Prometheus text
 *   GET /v1/pairings/:id      link credential or operator: 200 {id, modelHash, profile} when held, else 404
 *   PUT /v1/pairings/:id      link credential AND a signature by the pinned engine identity:
 *                             the engine hands over its pairing (protocol/transport/pairing-request.ts)
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PeerKey, type SigningIdentity } from '../../crypto/identity.js';
import { acceptPeerIdentity, IdentityRefusedError, type PinPolicy } from '../../crypto/known-peers.js';
import { callerOf, requireCredential, type Authenticator, type Caller } from '../../protocol/transport/control-server.js';
import { PAIRING_IDENTITY_HEADER, PAIRING_SIGNATURE_HEADER, pairingRequestSchema, PAIRINGS_PATH, pairingStatement } from '../../protocol/transport/pairing-request.js';
import { identityBody } from '../../protocol/transport/peer-identity.js';
import { HEX_ID } from '../../protocol/transport/session-endpoints.js';
import type { DealerMetrics } from './dealer-metrics.js';
import type { PairingRegistry } from './pairing-registry.js';

export interface DealerControlDeps {
  authenticate: Authenticator;
  identity: SigningIdentity;
  /** Pinning of the engine identity allowed to pair. */
  enginePin: PinPolicy;
  pairings: PairingRegistry;
  activeSessions: () => number;
  metrics: DealerMetrics;
  log: (line: string) => void;
}

const error = (message: string, code: string) => ({ error: { message, type: 'invalid_request_error', code, param: null } });

export function dealerControlApp(deps: DealerControlDeps): Hono {
  const { pairings, metrics, log } = deps;
  const app = new Hono();
  const unknown = () => metrics.errors.inc({ kind: 'unknown_credential' });
  const health = JSON.stringify({ status: 'ok', identity: identityBody(deps.identity.peer) });
  app.get('/healthz', (c) => c.body(health, 200, { 'content-type': 'application/json' }));
  app.get('/readyz', (c) => {
    const caller: Caller = callerOf(deps.authenticate, c.req.header('authorization'));
    const counts = caller.kind === 'operator' ? { pairings: pairings.size, activeSessions: deps.activeSessions() } : {};
    return c.json({ ready: true, reasons: [], identity: deps.identity.fingerprint, ...counts });
  });
  app.use('/metrics', requireCredential(deps.authenticate, ['operator'], unknown));
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  app.get(`${PAIRINGS_PATH}/:id`, requireCredential(deps.authenticate, ['link', 'operator'], unknown), (c) => {
    const pairing = pairings.get(c.req.param('id'));
    if (!pairing) return c.json(error('no such pairing', 'not_found'), 404);
    return c.json({ id: pairing.id, modelHash: pairing.modelHash, profile: pairing.model.profile.name });
  });
  app.put(
    `${PAIRINGS_PATH}/:id`,
    requireCredential(deps.authenticate, ['link'], unknown),
    bodyLimit({ maxSize: 4 << 20, onError: (c) => c.json(error('pairing request too large', 'request_too_large'), 413) }),
    async (c) => {
      const id = c.req.param('id');
      if (!HEX_ID.test(id)) return c.json(error('pairing id must be 32 lowercase hex characters', 'invalid_value'), 400);
      const text = await c.req.text();
      let engine: PeerKey;
      try {
        engine = PeerKey.fromBase64(c.req.header(PAIRING_IDENTITY_HEADER) ?? '');
      } catch {
        return c.json(error(`a pairing request must carry the engine's identity key (${PAIRING_IDENTITY_HEADER})`, 'unsigned_pairing'), 401);
      }
      const signature = new Uint8Array(Buffer.from(c.req.header(PAIRING_SIGNATURE_HEADER) ?? '', 'base64'));
      if (!engine.verifies(pairingStatement(id, text), signature)) {
        metrics.errors.inc({ kind: 'bad_signature' });
        return c.json(error('the pairing request is not signed by the identity it names', 'bad_signature'), 401);
      }
      try {
        await acceptPeerIdentity('engine', engine, deps.enginePin, '--engine-fingerprint', log);
      } catch (refusal) {
        if (!(refusal instanceof IdentityRefusedError)) throw refusal;
        metrics.errors.inc({ kind: 'identity_refused' });
        log(`refused a pairing: ${refusal.message}`);
        return c.json(error(refusal.message, 'identity_refused'), 403);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return c.json(error('body is not JSON', 'invalid_json'), 400);
      }
      const parsed = pairingRequestSchema.safeParse(body);
      if (!parsed.success) {
        return c.json(error(parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '), 'invalid_value'), 400);
      }
      const result = await pairings.put(id, parsed.data, engine);
      metrics.pairings.set(pairings.size);
      if ('message' in result) return c.json(error(result.message, 'pairing_refused'), result.status);
      if (result.status === 201) log(`holding pairing ${id.slice(0, 8)}… for engine ${engine.fingerprint} (model ${parsed.data.modelHash.slice(0, 8)}…, ${parsed.data.weights.length} weight masks)`);
      return c.json({ id, modelHash: result.pairing.modelHash }, result.status);
    },
  );
  app.notFound((c) => c.json(error(`no route ${c.req.method} ${c.req.path}`, 'not_found'), 404));
  return app;
}
