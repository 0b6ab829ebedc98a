/**
 * The part both generation routes share once a request is validated and planned: readiness,
 * admission (429; counted in sessions, one per choice), running the choices (concurrently, one backend session each), and
 * answering as one JSON object or as an SSE stream. Client disconnects abort the backend
 * sessions in every phase: while queued, before the first token, mid-stream, and while a
 * non-streaming response is being computed.
 */
import type { Context } from 'hono';
import { toGatewayError } from '../errors/index.js';
import { sseResponse } from '../http/sse-writer.js';
import type { ProtocolStats } from '../pipeline/generation-backend.js';
import { RequestAbortedError, runChoice, type ChoiceUpdate } from './choice-runner.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import type { ChoiceJob } from './generation-plan.js';
import { mergeAsyncIterables } from './merge-async-iterables.js';
import { CLIENT_CLOSED_REQUEST, openBackendRequest } from './request-gate.js';
import { sumProtocolStats } from './protocol-stats.js';
import type { CollectedChoice, ResponseFormatter } from './response-formatter.js';
import type { CompletionUsage, PermllmStats } from './wire-types.js';

export interface GenerationPlan<TFinal, TChunk> {
  jobs: readonly ChoiceJob[];
  stops: readonly string[];
  stream: boolean;
  includeUsage: boolean;
  /** Prompt tokens counted once per prompt (not per choice). */
  promptTokenCount: number;
  formatter: ResponseFormatter<TFinal, TChunk>;
}

/** Status recorded for requests whose client went away before the answer (nginx's convention). */

export async function serveGeneration<TFinal extends object, TChunk extends object>(
  c: Context<GatewayEnv>,
  ctx: GatewayContext,
  plan: GenerationPlan<TFinal, TChunk>,
): Promise<Response> {
  const { metrics } = ctx;
  const labels = metrics.labels;
  const access = c.get('access');
  const { failed, endedBy } = openBackendRequest(c, ctx, { stream: plan.stream, choices: plan.jobs.length, promptTokens: plan.promptTokenCount });

  const clientSignal = c.get('clientSignal');
  let release: () => void;
  const queued = performance.now();
  try {
    // A queued request is ended by the shutdown too (its reason, a 503, is what the client gets).
    // Every choice is one backend session: the request holds jobs.length units of the budget.
    release = await ctx.admission.acquire(AbortSignal.any([clientSignal, ctx.shutdown.signal]), plan.jobs.length);
  } catch (error) {
    return endedBy(error, clientSignal);
  }
  const queueSeconds = (performance.now() - queued) / 1000;
  metrics.queueTime.observe(labels, queueSeconds);
  access.set({ queueMs: Math.round(queueSeconds * 1000) });

  // One signal for all choices: the client leaving, or the response being over, ends them all.
  const controller = new AbortController();
  const onClientGone = () => controller.abort(new RequestAbortedError('client disconnected'));
  clientSignal.addEventListener('abort', onClientGone, { once: true });
  if (clientSignal.aborted) onClientGone();
  // Past the shutdown's grace period: the choices end with its error (a stream's error frame).
  const onShutdown = () => controller.abort(ctx.shutdown.signal.reason);
  ctx.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
  if (ctx.shutdown.signal.aborted) onShutdown();
  let closed = false;
  const finishReasons: string[] = [];
  let firstTokenSeconds: number | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    clientSignal.removeEventListener('abort', onClientGone);
    ctx.shutdown.signal.removeEventListener('abort', onShutdown);
    controller.abort(new RequestAbortedError('response complete'));
    release();
    // Choices the client did not wait for end as vLLM's "abort".
    if (clientSignal.aborted) {
      for (let i = finishReasons.length; i < plan.jobs.length; i++) metrics.requestSuccess.inc({ ...labels, finished_reason: 'abort' });
      access.set({ outcome: 'client_gone' });
    }
    metrics.e2eLatency.observe(labels, (performance.now() - access.started) / 1000);
    metrics.requestGenerationTokens.observe(labels, completionTokens);
    access.set({
      completionTokens,
      finishReasons,
      ...(firstTokenSeconds === undefined ? {} : { ttftMs: Math.round(firstTokenSeconds * 1000) }),
    });
    access.end();
  };

  metrics.promptTokens.inc(labels, plan.promptTokenCount);
  metrics.requestPromptTokens.observe(labels, plan.promptTokenCount);
  const { options, backend } = ctx;
  const updates = mergeAsyncIterables<ChoiceUpdate>(
    plan.jobs.map((job) =>
      runChoice({
        backend,
        tokenizer: backend.modelInfo.tokenizer,
        index: job.index,
        request: job.request,
        stops: plan.stops,
        signal: controller.signal,
        firstTokenTimeoutMs: options.firstTokenTimeoutMs,
        idleTimeoutMs: options.idleTimeoutMs,
        observer: {
          firstToken: (s) => {
            firstTokenSeconds ??= s;
            metrics.timeToFirstToken.observe(labels, s);
          },
          interToken: (s) => metrics.interTokenLatency.observe(labels, s),
        },
      }),
    ),
  );

  const stats: ProtocolStats[] = [];
  let completionTokens = 0;
  const onFinish = (u: Extract<ChoiceUpdate, { type: 'finish' }>) => {
    completionTokens += u.completionTokens;
    finishReasons.push(u.reason);
    metrics.requestSuccess.inc({ ...labels, finished_reason: u.reason });
    metrics.generationTokens.inc(labels, u.completionTokens);
    if (u.stats) {
      stats.push(u.stats);
      metrics.observeSession(u.stats);
    }
  };
  const usage = (): CompletionUsage => ({
    prompt_tokens: plan.promptTokenCount,
    completion_tokens: completionTokens,
    total_tokens: plan.promptTokenCount + completionTokens,
  });
  const withStats = <T extends object>(chunk: T): T & { permllm?: PermllmStats } => {
    const summed = sumProtocolStats(stats);
    return summed === undefined ? chunk : { ...chunk, permllm: summed };
  };

  if (!plan.stream) {
    // The line is written by finish(), once the counts are in.
    access.defer();
    try {
      const collected = new Map<number, CollectedChoice>();
      for (const job of plan.jobs) collected.set(job.index, { index: job.index, text: '', tokens: [], finishReason: 'length' });
      for await (const u of updates) {
        const choice = collected.get(u.index)!;
        if (u.type === 'text') {
          choice.text += u.text;
          choice.tokens.push(...u.tokens);
        } else {
          choice.finishReason = u.reason;
          onFinish(u);
        }
      }
      const body = plan.formatter.complete([...collected.values()], usage());
      access.set({ status: 200, outcome: 'ok' });
      const summed = sumProtocolStats(stats);
      return c.json(body, 200, summed === undefined ? {} : { 'x-permllm-stats': JSON.stringify(summed) });
    } catch (error) {
      if (clientSignal.aborted) {
        access.set({ status: CLIENT_CLOSED_REQUEST });
        return new Response(null, { status: CLIENT_CLOSED_REQUEST });
      }
      failed(error);
      access.set({ status: toGatewayError(error).status });
      throw error;
    } finally {
      finish();
    }
  }

  access.defer();
  access.set({ status: 200, outcome: 'ok' });
  return sseResponse(
    c,
    {
      keepAliveMs: options.keepAliveMs,
      // The client's signal, not the choices' controller: a shutdown must still get its error frame out.
      signal: clientSignal,
      isClientGone: (error) => clientSignal.aborted || error instanceof RequestAbortedError,
      onClose: finish,
      onError: (error) => {
        failed(error);
        if (error.status >= 500) ctx.logServerError(error, { requestId: c.get('requestId'), route: c.req.path });
      },
    },
    async (channel) => {
      for (const chunk of plan.formatter.streamStart(plan.jobs.map((j) => j.index))) await channel.send(chunk);
      let finished = 0;
      for await (const u of updates) {
        if (u.type === 'text') {
          for (const chunk of plan.formatter.textChunks(u)) await channel.send(chunk);
          continue;
        }
        onFinish(u);
        finished++;
        const chunks = plan.formatter.finishChunks(u);
        const last = chunks.pop()!;
        for (const chunk of chunks) await channel.send(chunk);
        // The protocol cost rides on the last JSON frame of the stream.
        await channel.send(finished === plan.jobs.length && !plan.includeUsage ? withStats(last) : last);
      }
      if (plan.includeUsage) await channel.send(withStats(plan.formatter.usageChunk(usage())));
      await channel.done();
    },
  );
}
