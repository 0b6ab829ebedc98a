/**
 * The gateway's shutdown sequence (SIGTERM): stop accepting connections, answer /readyz "not
 * ready: shutting down" and refuse new generations with 503 on connections still open, let
 * in-flight requests finish for a grace period, then end the rest: streams get the single
 * error frame (`server_shutting_down`), non-streamed requests a 503, queued ones a 503.
 */
import { ServerShuttingDownError } from '../errors/index.js';

export class ShutdownState {
  private readonly controller = new AbortController();
  private beganAt: number | undefined;

  /** Aborts (with a ServerShuttingDownError) when the grace period is over. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get draining(): boolean {
    return this.beganAt !== undefined;
  }

  begin(): void {
    this.beganAt ??= Date.now();
  }

  /** Ends every generation still running. */
  endInFlight(): void {
    this.begin();
    if (!this.controller.signal.aborted) this.controller.abort(new ServerShuttingDownError());
  }
}

/** Resolves once `idle()` holds (checked every 25 ms) or `ms` have passed; true when idle. */
export async function waitUntil(idle: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!idle()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, deadline - Date.now()))));
  }
  return true;
}
