/** The dealer's Prometheus metrics (GET /metrics), in a registry of its own. */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { registerEventLoopStallMetrics } from '../../observability/event-loop-stalls.js';
import { registerProcessMemoryMetrics } from '../../observability/process-memory.js';

export type DealerSessionOutcome = 'completed' | 'cancelled' | 'peer_ended' | 'protocol_violation' | 'rendezvous_timeout' | 'failed' | 'shutdown';

export class DealerMetrics {
  readonly registry = new Registry();
  readonly sessionsActive = new Gauge({ name: 'permllm_dealer_sessions_active', help: 'Sessions running now', registers: [this.registry] });
  readonly sessionsWaiting = new Gauge({ name: 'permllm_dealer_sessions_waiting', help: 'Sessions with one party joined, waiting for the other', registers: [this.registry] });
  readonly sessions = new Counter({ name: 'permllm_dealer_sessions_total', help: 'Sessions ended, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly passes = new Counter({ name: 'permllm_dealer_passes_total', help: 'Forward passes whose material was produced', registers: [this.registry] });
  readonly bytes = new Counter({ name: 'permllm_dealer_bytes_total', help: 'Protocol bytes, by peer and direction', labelNames: ['peer', 'direction'] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: 'permllm_dealer_errors_total', help: 'Errors, by kind', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly refused = new Counter({ name: 'permllm_dealer_connections_refused_total', help: 'Session connections refused before any session started, by HTTP status', labelNames: ['status'] as const, registers: [this.registry] });
  readonly pairings = new Gauge({ name: 'permllm_dealer_pairings', help: 'Engine pairings held', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'permllm_dealer_' });
    registerEventLoopStallMetrics(this.registry, 'permllm_dealer_');
    registerProcessMemoryMetrics(this.registry, 'permllm_dealer_');
  }
}
