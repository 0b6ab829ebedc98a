/**
 * Polls every party's /healthz while a load runs (every 50 ms after each answer) and keeps the
 * slowest answer per party: the liveness figure of the load test, the soak and the stall profile.
 */
export type PolledParty = 'gateway' | 'engine' | 'dealer';

export interface HealthzPoller {
  /** Slowest /healthz answer so far, ms, per party (an error counts with the time it took). */
  readonly slowest: Record<PolledParty, number>;
  /** Probes that failed, as `party: cause`. */
  readonly errors: string[];
  /** Stops polling and waits for the probes in flight. */
  stop(): Promise<void>;
}

export function pollHealthz(urls: Record<PolledParty, { url: string }>, intervalMs = 50): HealthzPoller {
  const slowest: Record<PolledParty, number> = { gateway: 0, engine: 0, dealer: 0 };
  const errors: string[] = [];
  let polling = true;
  const loops = Promise.all(
    (['gateway', 'engine', 'dealer'] as const).map(async (party) => {
      while (polling) {
        const t = performance.now();
        try {
          await fetch(`${urls[party].url}/healthz`).then((r) => r.arrayBuffer());
        } catch (error) {
          errors.push(`${party}: ${String((error as Error).cause ?? error)}`);
        }
        slowest[party] = Math.max(slowest[party], performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    }),
  );
  return {
    slowest,
    errors,
    async stop() {
      polling = false;
      await loops;
    },
  };
}
