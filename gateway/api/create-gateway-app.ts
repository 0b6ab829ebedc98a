/**
 * The gateway's HTTP application: OpenAI-compatible routes plus operations endpoints, with
 * the operational middleware in this order: request id -> access log -> metrics -> Host check -> CORS ->
 * API key -> body limit -> route. Errors from anywhere are rendered by `errorResponse` (one
 * place), 404/405 included.
 */
import { Hono } from 'hono';
import { silentLogger } from '../../observability/logger.js';
import { processMallocTrimmer } from '../../observability/malloc-trimmer.js';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import { ChatTemplate } from '../chat/index.js';
import {
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  errorResponse,
  toGatewayError,
} from '../errors/index.js';
import { accessLog } from '../http/access-log.js';
import { AdmissionControl } from '../http/admission-control.js';
import { ShutdownState } from '../http/graceful-shutdown.js';
import { apiKeyAuth } from '../http/api-key-auth.js';
import { corsPolicy } from '../http/cors-policy.js';
import { hostCheck } from '../http/host-check.js';
import { chatCompletionsHandler } from './chat-completions-route.js';
import { completionsHandler } from './completions-route.js';
import { embeddingsHandler } from './embeddings-route.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './gateway-options.js';
import { listModelsHandler, retrieveModelHandler } from './models-route.js';
import { responsesHandler } from './responses-route.js';
import { healthHandler, metricsHandler, readinessHandler } from './operations-routes.js';
import { detokenizeHandler, tokenizeHandler } from './tokenize-routes.js';

export interface GatewayApp {
  app: Hono<GatewayEnv>;
  options: ResolvedGatewayOptions;
  metrics: GatewayMetrics;
  admission: AdmissionControl;
  shutdown: ShutdownState;
}

const defaultServerErrorLog = (error: Error, context: { requestId: string; route: string }) => {
  process.stderr.write(`permllm gateway: ${context.route} [${context.requestId}] ${error.name}: ${error.message}\n`);
};

/** Builds the app and exposes its parts (metrics, admission) for the server and for tests. */
export function buildGateway(input: GatewayOptions): GatewayApp {
  const options = resolveGatewayOptions(input);
  const backend = options.backend;
  // When requests' sessions end, their BFV buffers, frames and shares are freed: give the pages back once idle (rate-limited).
  const trimmer = processMallocTrimmer();
  const admission = new AdmissionControl(options, { acquired: () => trimmer.sessionStarted(), released: () => trimmer.sessionEnded() });
  const metrics = new GatewayMetrics(admission, backend.modelInfo.id);
  const logger = options.logger ?? silentLogger();
  const logServerError =
    options.onServerError ??
    (options.logger === undefined
      ? defaultServerErrorLog
      : (error: Error, context: { requestId: string; route: string }) =>
          logger.error({ reqId: context.requestId, route: context.route, err: { type: error.name, message: error.message } }, 'server error'));
  const ctx: GatewayContext = {
    options,
    backend,
    template: new ChatTemplate(backend.modelInfo.tokenizer, backend.modelInfo.chatTemplate),
    admission,
    metrics,
    logServerError,
    shutdown: new ShutdownState(),
  };
  const app = new Hono<GatewayEnv>();

  app.use(async (c, next) => {
    // node-server creates the abort signal lazily; take it before anything replaces c.req.raw.
    c.set('clientSignal', c.req.raw.signal);
    await next();
  });
  app.use(requestId({ limitLength: 128 }));
  app.use(accessLog(logger));
  app.use(async (c, next) => {
    await next();
    // The route pattern of the handler that answered (middleware patterns are not routes).
    const handler = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
    metrics.requests.inc({ route: handler?.path ?? 'unmatched', method: c.req.method, status: String(c.res.status) });
  });
  if (options.allowedHosts) app.use(hostCheck(options.allowedHosts));
  app.use(corsPolicy(options.corsOrigins));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => errorResponse(new MethodNotAllowedError(c.req.method, c.req.path, methods)),
    }),
  );
  if (options.apiKey !== undefined) {
    app.use('/v1/*', apiKeyAuth(options.apiKey));
    app.use('/metrics', apiKeyAuth(options.apiKey));
    app.use('/tokenize', apiKeyAuth(options.apiKey));
    app.use('/detokenize', apiKeyAuth(options.apiKey));
  }
  for (const route of ['/v1/*', '/tokenize', '/detokenize']) {
    app.use(
      route,
      bodyLimit({
        maxSize: options.maxBodyBytes,
        onError: () => {
          throw new PayloadTooLargeError(options.maxBodyBytes);
        },
      }),
    );
  }

  app.post('/v1/chat/completions', chatCompletionsHandler(ctx));
  app.post('/v1/completions', completionsHandler(ctx));
  app.post('/v1/responses', responsesHandler(ctx));
  app.post('/v1/embeddings', embeddingsHandler(ctx));
  app.get('/v1/models', listModelsHandler(ctx));
  app.get('/v1/models/:model{.+}', retrieveModelHandler(ctx));
  app.post('/tokenize', tokenizeHandler(ctx));
  app.post('/detokenize', detokenizeHandler(ctx));
  app.get('/healthz', healthHandler());
  app.get('/readyz', readinessHandler(ctx));
  app.get('/metrics', metricsHandler(ctx));

  app.notFound((c) =>
    errorResponse(new NotFoundError(`Unknown request URL: ${c.req.method} ${c.req.path}.`, { code: 'unknown_url' })),
  );
  app.onError((error, c) => {
    const gatewayError = toGatewayError(error);
    if (gatewayError.status >= 500) {
      logServerError(gatewayError.cause instanceof Error ? gatewayError.cause : gatewayError, {
        requestId: c.get('requestId'),
        route: c.req.path,
      });
    }
    return errorResponse(gatewayError);
  });

  return { app, options, metrics, admission, shutdown: ctx.shutdown };
}

/** The OpenAI-compatible gateway as a hono app (see `buildGateway` for its parts). */
export function createGatewayApp(options: GatewayOptions): Hono<GatewayEnv> {
  return buildGateway(options).app;
}
