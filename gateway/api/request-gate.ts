/**
 * What every request that will run backend sessions passes before it may queue for them (the
 * generation routes and /v1/embeddings): its access-log fields, then 503 while the gateway
 * drains or the backend is not ready. `failed` counts a refusal or an error by its code in the
 * metrics and the access log, the one place that does.
 */
import type { Context } from 'hono';
import { EngineUnavailableError, ServerShuttingDownError, toGatewayError } from '../errors/index.js';
import type { AccessFields } from '../http/access-log.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';

/** nginx's status for a request whose client went away before the answer (logged, never sent). */
export const CLIENT_CLOSED_REQUEST = 499;

export interface OpenedRequest {
  failed(error: unknown): void;
  /**
   * What an error that ended the request before its answer becomes: a bodiless 499 logged as
   * `client_gone` when the client has gone, else the error, counted, rethrown.
   */
  endedBy(error: unknown, clientSignal: AbortSignal): Response;
}

/** Records `fields` (with the model label) and throws, already counted, unless the backend can take work. */
export function openBackendRequest(c: Context<GatewayEnv>, ctx: GatewayContext, fields: AccessFields): OpenedRequest {
  const { metrics } = ctx;
  const labels = metrics.labels;
  const access = c.get('access');
  access.set({ model: labels.model_name, ...fields });
  const failed = (error: unknown) => {
    const code = toGatewayError(error).code ?? 'unknown';
    metrics.requestErrors.inc({ ...labels, code });
    access.set({ outcome: 'error', error: code });
  };
  if (ctx.shutdown.draining) {
    const error = new ServerShuttingDownError();
    failed(error);
    throw error;
  }
  const readiness = ctx.backend.readiness();
  if (!readiness.ready) {
    const error = new EngineUnavailableError(`The backend is not ready: ${readiness.reason ?? 'unknown reason'}.`);
    failed(error);
    throw error;
  }
  const endedBy = (error: unknown, clientSignal: AbortSignal): Response => {
    if (clientSignal.aborted) {
      access.set({ outcome: 'client_gone' });
      return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    }
    failed(error);
    throw error;
  };
  return { failed, endedBy };
}
