/**
 * Prometheus metrics of one gateway app, in its own prom-client Registry (two apps in one
 * process, as in tests, never share counters). Request metrics are named and labelled like
 * vLLM's where they mean the same thing (`vllm:time_to_first_token_seconds` ->
 * `permllm_time_to_first_token_seconds`, ..., each with `model_name`), plus the process
 * metrics of prom-client's `collectDefaultMetrics` (`permllm_gateway_process_*`,
 * `permllm_gateway_nodejs_*`, event-loop lag included).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerEventLoopStallMetrics } from '../../observability/event-loop-stalls.js';
import { registerProcessMemoryMetrics } from '../../observability/process-memory.js';
import type { ProtocolStats } from '../pipeline/generation-backend.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const REQUEST_LATENCY_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200];
const TOKEN_COUNT_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

/** How a choice ended, as vLLM's `finished_reason`: stop (EOS or stop string), length, abort (client gone). */
export type FinishedReason = 'stop' | 'length' | 'abort';

/** Labels shared by the request metrics. */
type ModelLabel = 'model_name';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly timeToFirstToken: Histogram<ModelLabel>;
  readonly interTokenLatency: Histogram<ModelLabel>;
  readonly e2eLatency: Histogram<ModelLabel>;
  readonly queueTime: Histogram<ModelLabel>;
  readonly requestSuccess: Counter<ModelLabel | 'finished_reason'>;
  readonly requestErrors: Counter<ModelLabel | 'code'>;
  readonly promptTokens: Counter<ModelLabel>;
  readonly generationTokens: Counter<ModelLabel>;
  readonly requestPromptTokens: Histogram<ModelLabel>;
  readonly requestGenerationTokens: Histogram<ModelLabel>;
  readonly protocolBytes: Counter<'direction'>;
  readonly flightsPerToken: Histogram;
  readonly phaseSeconds: Histogram<'phase'>;

  /**
   * @param load what the queue gauges read
   * @param modelName the served model id (the `model_name` label)
   */
  constructor(
    load: { readonly inFlight: number; readonly queued: number },
    readonly modelName = 'unknown',
  ) {
    const registers = [this.registry];
    const labelNames = ['model_name'] as const;
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
      labelNames,
      registers,
    });
    this.interTokenLatency = new Histogram({
      name: 'permllm_inter_token_latency_seconds',
      help: 'Time between consecutive tokens of a choice',
      buckets: LATENCY_BUCKETS,
      labelNames,
      registers,
    });
    this.e2eLatency = new Histogram({
      name: 'permllm_e2e_request_latency_seconds',
      help: 'Time from the arrival of a generation request to the end of its response (queue time included)',
      buckets: REQUEST_LATENCY_BUCKETS,
      labelNames,
      registers,
    });
    this.queueTime = new Histogram({
      name: 'permllm_request_queue_time_seconds',
      help: 'Time a generation request waited for a slot',
      buckets: REQUEST_LATENCY_BUCKETS,
      labelNames,
      registers,
    });
    this.requestSuccess = new Counter({
      name: 'permllm_request_success_total',
      help: 'Choices ended, by finished_reason (stop, length, abort)',
      labelNames: ['model_name', 'finished_reason'],
      registers,
    });
    this.requestErrors = new Counter({
      name: 'permllm_request_errors_total',
      help: 'Generation requests that failed, by error code (engine_error, timeout, rate_limit_exceeded, ...)',
      labelNames: ['model_name', 'code'],
      registers,
    });
    this.promptTokens = new Counter({ name: 'permllm_prompt_tokens_total', help: 'Prompt tokens processed', labelNames, registers });
    this.generationTokens = new Counter({ name: 'permllm_generation_tokens_total', help: 'Tokens generated', labelNames, registers });
    this.requestPromptTokens = new Histogram({
      name: 'permllm_request_prompt_tokens',
      help: 'Prompt tokens per request',
      buckets: TOKEN_COUNT_BUCKETS,
      labelNames,
      registers,
    });
    this.requestGenerationTokens = new Histogram({
      name: 'permllm_request_generation_tokens',
      help: 'Generated tokens per request',
      buckets: TOKEN_COUNT_BUCKETS,
      labelNames,
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
      help: 'Backend sessions holding the session budget (each choice of each prompt is one)',
      registers,
      collect() {
        this.set(load.inFlight);
      },
    });
    new Gauge({
      name: 'permllm_requests_queued',
      help: 'Backend sessions waiting for the session budget',
      registers,
      collect() {
        this.set(load.queued);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'permllm_gateway_' });
    registerEventLoopStallMetrics(this.registry, 'permllm_gateway_');
    registerProcessMemoryMetrics(this.registry, 'permllm_gateway_');
  }

  /** The `model_name` label of this gateway's request metrics. */
  get labels(): { model_name: string } {
    return { model_name: this.modelName };
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
