/**
 * The engine's control API (hono). What each credential opens (protocol/transport/credentials.ts):
 *
 *   GET /healthz           anyone: {"status":"ok", identity:{fingerprint, publicKey}}
 *   GET /readyz            user or operator: 200 {ready:true,...} or 503 {ready:false, reasons:[...]};
 *                          both carry modelHash and pairingId so gateways notice a changed pairing
 *                          cheaply; the session count only for the operator
 *   GET /metrics           operator only: Prometheus text
 *   GET /v1/model-card     the model card (protocol/transport/model-card.ts)
 *   GET /v1/masked-model   X − U as one stream; Content-Length, ETag "<sha256>", x-permllm-sha256,
 *                          Accept-Ranges: bytes (Range: bytes=N- resumes; If-Range guards it)
 *                          (model card and masked model: user or operator)
 *
 * The dealer's link credential opens nothing here: the dealer holds U, and U plus X − U is X.
 */
import { Hono } from 'hono';
import type { ModelCard } from '../../protocol/transport/model-card.js';
import type { PeerKey } from '../../crypto/identity.js';
import { requireCredential, type Authenticator, type Caller } from '../../protocol/transport/control-server.js';
import { identityBody } from '../../protocol/transport/peer-identity.js';
import type { EngineMetrics } from './engine-metrics.js';
import type { MaskedModelSource } from './masked-model-source.js';

export interface EngineControlDeps {
  authenticate: Authenticator;
  /** Counts requests with an unknown or revoked credential. */
  onUnknownCredential: () => void;
  identity: PeerKey;
  card: ModelCard;
  source: MaskedModelSource;
  readiness: () => { ready: boolean; reason?: string | undefined };
  activeSessions: () => number;
  metrics: EngineMetrics;
}

export function engineControlApp(deps: EngineControlDeps): Hono {
  const { card, source, metrics } = deps;
  const cardJson = JSON.stringify(card);
  const etag = `"${card.maskedModel.sha256}"`;
  const app = new Hono();
  const health = JSON.stringify({ status: 'ok', identity: identityBody(deps.identity) });
  app.get('/healthz', (c) => c.body(health, 200, { 'content-type': 'application/json' }));
  const users = requireCredential(deps.authenticate, ['user', 'operator'], deps.onUnknownCredential);
  const operator = requireCredential(deps.authenticate, ['operator'], deps.onUnknownCredential);
  app.use('/readyz', users);
  app.use('/v1/*', users);
  app.use('/metrics', operator);
  app.get('/readyz', (c) => {
    const { ready, reason } = deps.readiness();
    const caller = c.get('caller' as never) as Caller;
    const body = {
      ready,
      reasons: ready ? [] : [reason ?? 'not ready'],
      modelHash: card.modelHash,
      pairingId: card.pairing.id,
      identity: deps.identity.fingerprint,
      ...(caller.kind === 'operator' ? { activeSessions: deps.activeSessions() } : {}),
    };
    return ready ? c.json(body) : c.json(body, 503, { 'retry-after': '1' });
  });
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  app.get('/v1/model-card', (c) => c.body(cardJson, 200, { 'content-type': 'application/json', 'cache-control': 'no-cache' }));
  app.get('/v1/masked-model', (c) => {
    const total = source.totalBytes;
    let start = 0;
    const range = c.req.header('range');
    const ifRange = c.req.header('if-range');
    if (range !== undefined && (ifRange === undefined || ifRange === etag)) {
      const match = /^bytes=(\d+)-$/.exec(range.trim());
      if (match) start = Number(match[1]);
      if (start >= total) return c.body(null, 416, { 'content-range': `bytes */${total}` });
    }
    const counted = source.stream(start).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          metrics.maskedModelBytes.inc(chunk.length);
          controller.enqueue(chunk);
        },
      }),
    );
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(total - start),
      etag,
      'x-permllm-sha256': card.maskedModel.sha256,
      'x-permllm-pairing': card.pairing.id,
      'accept-ranges': 'bytes',
      'cache-control': 'no-store',
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${total - 1}/${total}`;
    return c.body(counted, start > 0 ? 206 : 200, headers);
  });
  app.notFound((c) => c.json({ error: { message: `no route ${c.req.method} ${c.req.path}`, type: 'invalid_request_error', code: 'not_found', param: null } }, 404));
  return app;
}
