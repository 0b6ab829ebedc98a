/**
 * Prometheus metrics of one gateway app, in its own prom-client Registry (two apps in one
 * process, as in tests, never share counters).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProtocolStats } from '../pipeline/generation-backend.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly timeToFirstToken: Histogram;
  readonly interTokenLatency: Histogram;
  readonly tokens: Counter<'kind'>;
  readonly protocolBytes: Counter<'direction'>;
  readonly flightsPerToken: Histogram;
  readonly phaseSeconds: Histogram<'phase'>;

  constructor(load: { readonly inFlight: number; readonly queued: number }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'permllm_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'permllm_time_to_first_token_seconds',
      help: 'Time from the start of a choice (after admission) to its first token',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.interTokenLatency = new Histogram({
      name: 'permllm_inter_token_latency_seconds',
      help: 'Time between consecutive tokens of a choice',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'permllm_tokens_total',
      help: 'Tokens processed, by kind (prompt, completion)',
      labelNames: ['kind'],
      registers,
    });
    this.protocolBytes = new Counter({
      name: 'permllm_protocol_bytes_total',
      help: 'Protocol bytes by direction (to_engine, from_engine, dealer)',
      labelNames: ['direction'],
      registers,
    });
    this.flightsPerToken = new Histogram({
      name: 'permllm_protocol_flights_per_token',
      help: 'One-way network flights per generated token on the decode critical path, per session',
      buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    });
    this.phaseSeconds = new Histogram({
      name: 'permllm_protocol_phase_seconds',
      help: 'Backend time per session by phase (prefill, decode)',
      labelNames: ['phase'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'permllm_requests_in_flight',
      help: 'Requests holding a generation slot',
      registers,
      collect() {
        this.set(load.inFlight);
      },
    });
    new Gauge({
      name: 'permllm_requests_queued',
      help: 'Requests waiting for a generation slot',
      registers,
      collect() {
        this.set(load.queued);
      },
    });
  }

  /** Records one finished session's protocol cost. */
  observeSession(stats: ProtocolStats): void {
    this.protocolBytes.inc({ direction: 'to_engine' }, stats.bytesToEngine);
    this.protocolBytes.inc({ direction: 'from_engine' }, stats.bytesFromEngine);
    this.protocolBytes.inc({ direction: 'dealer' }, stats.dealerBytes);
    if (stats.flightsPerToken !== undefined) this.flightsPerToken.observe(stats.flightsPerToken);
    this.phaseSeconds.observe({ phase: 'prefill' }, stats.prefillMs / 1000);
    this.phaseSeconds.observe({ phase: 'decode' }, stats.decodeMs / 1000);
  }
}
