/** What every route handler of one gateway app shares. */
import type { ChatTemplate } from '../chat/index.js';
import type { AccessRecord } from '../http/access-log.js';
import type { AdmissionControl } from '../http/admission-control.js';
import type { ShutdownState } from '../http/graceful-shutdown.js';
import type { GenerationBackend } from '../pipeline/generation-backend.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { ResolvedGatewayOptions } from './gateway-options.js';

export interface GatewayContext {
  options: ResolvedGatewayOptions;
  backend: GenerationBackend;
  template: ChatTemplate;
  admission: AdmissionControl;
  metrics: GatewayMetrics;
  /** SIGTERM: draining, then ending what is still running. */
  shutdown: ShutdownState;
  /** Where 5xx details go (options.onServerError, else the logger). */
  logServerError: (error: Error, context: { requestId: string; route: string }) => void;
}

/** Hono context variables set by the app's middleware. */
export interface GatewayVariables {
  requestId: string;
  /** Aborts when the client disconnects (captured before any middleware replaces the Request). */
  clientSignal: AbortSignal;
  /** This request's access-log line (gateway/http/access-log.ts). */
  access: AccessRecord;
}

export type GatewayEnv = { Variables: GatewayVariables };
