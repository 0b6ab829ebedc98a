/** The engine's Prometheus metrics (GET /metrics), in a registry of its own. */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { registerEventLoopStallMetrics } from '../../observability/event-loop-stalls.js';
import { registerProcessMemoryMetrics } from '../../observability/process-memory.js';

export type EngineSessionOutcome = 'completed' | 'cancelled' | 'peer_ended' | 'protocol_violation' | 'dealer_unavailable' | 'failed' | 'shutdown';

export class EngineMetrics {
  readonly registry = new Registry();
  readonly sessionsActive = new Gauge({ name: 'permllm_engine_sessions_active', help: 'Sessions running now', registers: [this.registry] });
  readonly sessions = new Counter({ name: 'permllm_engine_sessions_total', help: 'Sessions ended, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly tokens = new Counter({ name: 'permllm_engine_tokens_total', help: 'Forward passes completed (one per generated token)', registers: [this.registry] });
  readonly bytes = new Counter({ name: 'permllm_engine_bytes_total', help: 'Protocol bytes, by peer and direction', labelNames: ['peer', 'direction'] as const, registers: [this.registry] });
  readonly flights = new Counter({ name: 'permllm_engine_flights_total', help: 'One-way flights on the critical path of completed sessions', registers: [this.registry] });
  readonly errors = new Counter({ name: 'permllm_engine_errors_total', help: 'Errors, by kind', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly refused = new Counter({ name: 'permllm_engine_connections_refused_total', help: 'Session connections refused before any session started, by HTTP status', labelNames: ['status'] as const, registers: [this.registry] });
  readonly maskedModelBytes = new Counter({ name: 'permllm_engine_masked_model_bytes_total', help: 'Masked-model bytes served', registers: [this.registry] });
  readonly dealerReady = new Gauge({ name: 'permllm_engine_dealer_ready', help: '1 when the dealer holds this engine\'s pairing', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'permllm_engine_' });
    registerEventLoopStallMetrics(this.registry, 'permllm_engine_');
    registerProcessMemoryMetrics(this.registry, 'permllm_engine_');
  }
}
