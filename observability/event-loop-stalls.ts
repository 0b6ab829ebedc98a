/**
 * Event-loop stalls: how long the process's event loop was blocked (heartbeats, health checks
 * and every socket wait meanwhile). One process-wide perf_hooks histogram; each party's
 * Prometheus registry exposes its maximum since the process started, and the 99th percentile.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

let histogram: IntervalHistogram | undefined;

function processHistogram(): IntervalHistogram {
  if (!histogram) {
    histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
  }
  return histogram;
}

/** The longest stall so far, in ms (0 before any sample). */
export function maxEventLoopStallMs(): number {
  const h = processHistogram();
  return h.count === 0 ? 0 : h.max / 1e6;
}

/** Adds `<prefix>event_loop_stall_max_seconds` and `<prefix>event_loop_stall_p99_seconds` to `registry`. */
export function registerEventLoopStallMetrics(registry: Registry, prefix: string): void {
  const h = processHistogram();
  new Gauge({
    name: `${prefix}event_loop_stall_max_seconds`,
    help: 'Longest event-loop delay since the process started (a stall: nothing else ran meanwhile)',
    registers: [registry],
    collect() {
      this.set(h.count === 0 ? 0 : h.max / 1e9);
    },
  });
  new Gauge({
    name: `${prefix}event_loop_stall_p99_seconds`,
    help: '99th percentile of event-loop delay since the process started',
    registers: [registry],
    collect() {
      this.set(h.count === 0 ? 0 : h.percentile(99) / 1e9);
    },
  });
}
