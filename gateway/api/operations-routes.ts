/** `/healthz` (liveness), `/readyz` (readiness, 503 with reasons) and `/metrics` (Prometheus). */
import type { Context } from 'hono';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import type { Health, Readiness } from './wire-types.js';

export function healthHandler() {
  return (c: Context<GatewayEnv>): Response => c.json({ status: 'ok' } satisfies Health);
}

export function readinessHandler(ctx: GatewayContext) {
  return (c: Context<GatewayEnv>): Response => {
    const { ready, reason, protection } = ctx.shutdown.draining
      ? { ready: false, reason: 'shutting down', protection: undefined }
      : ctx.admission.full
        ? { ready: false, reason: `at capacity: ${ctx.admission.inFlight} of ${ctx.admission.capacity} backend sessions generating and ${ctx.admission.queued} queued`, protection: undefined }
        : ctx.backend.readiness();
    const body: Readiness = { ready, reasons: ready ? [] : [reason ?? 'backend not ready'], ...(protection ? { protection: { mask_profile: protection.maskProfile, min_profile: protection.minProfile } } : {}) };
    const retryAfter = ctx.admission.full ? ctx.admission.retryAfterSeconds() : 5;
    return ready ? c.json(body) : c.json(body, 503, { 'retry-after': String(retryAfter) });
  };
}

export function metricsHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> =>
    c.body(await ctx.metrics.registry.metrics(), 200, { 'content-type': ctx.metrics.registry.contentType });
}
