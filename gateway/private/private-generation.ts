/**
 * P1's side of one session: the user's generation loop under the private protocol.
 *
 * Per token: a forward pass on shares, then P1 adds its logit adjustments (logit_bias,
 * penalties) to its own share in vocabulary order, the logits are opened to P1 under a fresh
 * permutation π_out, P1 samples an index j in permuted order with its own randomness, and learns
 * the real token id π_out(j) through the BFV lookup (protocol.md, "Token output", "Sampling").
 */
import { randomBytes } from 'node:crypto';
import { forwardPasses, type KeptAttention } from '../../protocol/schedule/forward-pass.js';
import { passControl } from '../../protocol/schedule/pass-control.js';
import { DEFAULT_ATTENTION_MODES, fastestAttentionMode, type AttentionMode } from '../../protocol/schedule/attention-mode.js';
import { gatewaySessionStart } from '../../protocol/session/handshake.js';
import type { GatewayTrust } from '../../protocol/session/session-trust.js';
import { nextStep, type PartyContext } from '../../protocol/session/party-context.js';
import { maxFrameBytes, type RoleModel } from '../../protocol/session/role-model.js';
import type { SessionParams } from '../../protocol/session/session-params.js';
import { AheadPool } from '../../protocol/pool/ahead-pool.js';
import { ProductsAhead, type ProductsAheadStats } from '../../protocol/pool/products-ahead.js';
import { PREFILL_CHUNK_ROWS } from '../../protocol/schedule/forward-program.js';
import { type AheadQuery, TokenLookupClient } from '../../protocol/token-lookup/index.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { PartyNetwork } from '../../protocol/transport/party-network.js';
import { MessageKind } from '../../protocol/wire/frame.js';
import { paddedPasses, planPasses } from './length-buckets.js';
import { ResumeRefusedError } from './resume-refused-error.js';
import { logitAdjustmentDelta, logprobOf, sampleToken, samplingRng, topLogprobs } from '../../sampling/index.js';
import type { GenerationEvent, LogitAdjustments, SamplingParams } from '../pipeline/generation-backend.js';

export interface PrivateGenerationRequest {
  promptTokens: readonly number[];
  maxTokens: number;
  sampling: SamplingParams;
  adjustments: LogitAdjustments;
  topLogprobs?: number;
  /** Ids that end generation (not emitted as tokens). */
  stopIds: ReadonlySet<number>;
  signal?: AbortSignal;
  /**
   * Length buckets of this many tokens (0 or absent = off): the engine and the dealer learn
   * the prompt length and the number of passes only to the bucket (length-buckets.ts).
   */
  lengthBucket?: number;
  /** Observer of each step's logits as P1 sees them (permuted order; P1's own data). */
  onPermutedLogits?: (logits: Float64Array) => void;
  /** Run the unoptimised baseline schedule (benchmarks only). Default true. */
  optimized?: boolean;
  /**
   * Make each decode pass's MulW products f(X − U, V) ahead, while the gateway waits on its
   * links during the pass before (protocol/pool/products-ahead.ts). Default true; false makes
   * every product online (the comparison the benchmark and the tests draw); a pool: use that
   * one (tests that look into it; it is disposed at the session's end as an own one is).
   */
  productsAhead?: boolean | ProductsAhead;
  /**
   * Attention mode to ask for (protocol/schedule/attention-mode.ts); absent: the fastest the
   * engine's card allows (model.attentionModes), else 'beaver'.
   */
  attention?: AttentionMode;
  /** Called at every layer of every pass: the session is making progress (see GenerationRequest.onProgress). */
  onProgress?: () => void;
  /**
   * Conversation reuse: the engine and the dealer are asked to keep this session's attention
   * state, and at a clean end the gateway's half goes to `keep` with the token ids it holds.
   */
  keep?: (kept: { sessionId: string; tokens: readonly number[]; kept: KeptAttention }) => void;
  /**
   * Conversation reuse: continue the state session `sessionId` kept, cut to its first `length`
   * positions (which must be the first `length` prompt tokens); only the rest of the prompt is
   * prefilled. Throws ResumeRefusedError (before sending anything prompt-dependent) when the
   * engine or the dealer does not hold it. Not with length buckets.
   */
  resume?: { sessionId: string; length: number; kept: KeptAttention };
}

/** Protocol figures for one session, as seen by the gateway. */
export interface PrivateSessionStats {
  sessionId: string;
  promptTokens: number;
  completionTokens: number;
  prefillMs: number;
  decodeMs: number;
  /** One-way flights on the critical path per decode step (mean over decode steps). */
  flightsPerToken: number;
  /** One-way flights per transformer layer in a decode step. */
  flightsPerLayer: number;
  bytesToEngine: number;
  bytesFromEngine: number;
  /** Bytes the gateway received from the dealer (the engine's dealer bytes are counted there). */
  dealerBytesToGateway: number;
  /** Bytes of the gateway's messages that were sent offline (off the critical path). */
  offlineBytesToEngine: number;
  /** Per decode step (prefill and session setup excluded): bytes each way and from the dealer. */
  perToken: { bytesToEngine: number; bytesFromEngine: number; dealerBytesToGateway: number };
  /** Bytes of the session setup (handshake, token-lookup keys) each way, before the first pass. */
  setup: { bytesToEngine: number; bytesFromEngine: number };
  /**
   * The first pass's forward part (the prefill, up to the permuted logits; the token lookup that
   * follows costs the same in every pass): rows it fed and its bytes each way and from the dealer.
   */
  prefill: { rows: number; bytesToEngine: number; bytesFromEngine: number; dealerBytesToGateway: number };
  /** Prompt positions continued from a kept conversation state instead of prefilled (0 = fresh). */
  reusedTokens: number;
  /** The MulW products made ahead (absent when off): hits, misses, and the most bytes they held at once. */
  productsAhead?: ProductsAheadStats & { peakBytes: number };
}

/**
 * Delay between the last token answer and the session's end (or its first padding pass):
 * long enough to cover the API layer's decoding and stop-string matching of a token, so that
 * the engine sees the same gap after an end-of-sequence token and after a stop string.
 */
export const END_DELAY_MS = 25;

/**
 * Token-lookup queries kept encrypted ahead (AheadPool capacity): two, so that the query the
 * next pass sends ahead is ready when this pass's offsets leave, and a third is made during the
 * pass. Bounded: at most three queries (3 × ceil(V / 8192) × 138 KB) exist per session.
 */
export const LOOKUP_QUERIES_AHEAD = 2;

export type PrivateGenerationEvent = GenerationEvent | { type: 'stats'; stats: PrivateSessionStats };

export async function* privateGenerate(
  links: { engine: MessageLink; dealer: MessageLink },
  model: RoleModel,
  request: PrivateGenerationRequest,
  trust: GatewayTrust,
): AsyncGenerator<PrivateGenerationEvent> {
  const { config } = model;
  const promptLength = request.promptTokens.length;
  if (promptLength < 1) throw new RangeError('prompt must hold at least one token');
  const maxTokens = Math.min(request.maxTokens, config.maxSeqLen - promptLength);
  if (maxTokens < 1) throw new RangeError(`prompt of ${promptLength} tokens leaves no room in a context of ${config.maxSeqLen}`);
  const lookups = 1 + (request.topLogprobs ?? 0);
  const plan = planPasses(promptLength, maxTokens, config.maxSeqLen, request.lengthBucket ?? 0);
  const attention = request.attention ?? fastestAttentionMode(model.attentionModes ?? DEFAULT_ATTENTION_MODES) ?? 'beaver';
  // Conversation reuse keeps the Beaver K/V memories only (session-params.ts): other modes prefill afresh.
  const reusable = attention === 'beaver';
  const resume = reusable ? request.resume : undefined;
  if (resume && (plan.bucket !== 0 || !Number.isInteger(resume.length) || resume.length < 1 || resume.length >= promptLength)) throw new RangeError('resume: needs 1 <= length < prompt length and no length buckets');
  const reused = resume?.length ?? 0;
  const params: SessionParams = { sessionId: randomBytes(16).toString('hex'), promptLength: plan.prefillRows, maxNewTokens: plan.maxPasses, profile: model.profile.name, lookupsPerToken: lookups, optimized: request.optimized ?? true, ...(attention === 'beaver' ? {} : { attention }) };
  if (request.keep && reusable) params.keep = true;
  if (resume) params.resume = { sessionId: resume.sessionId, length: resume.length };
  const net = new PartyNetwork('gateway', { floatType: model.profile.dtype, maxFrameBytes: maxFrameBytes(config), ...(request.signal ? { signal: request.signal } : {}) });
  net.connect('engine', links.engine);
  net.connect('dealer', links.dealer);
  const rng = samplingRng(request.sampling.seed);
  // Teacher-forced and padding passes sample too (same work), from a stream of their own.
  const throwaway = samplingRng();
  let client: TokenLookupClient | undefined;
  let queries: AheadPool<AheadQuery> | undefined;
  const products = request.productsAhead === false ? undefined : request.productsAhead instanceof ProductsAhead ? request.productsAhead : new ProductsAhead();
  let ctx: PartyContext | undefined;
  let runPassRef: ((c: PartyContext, real: boolean) => Promise<unknown>) | undefined;
  const generated: number[] = [];
  const began = performance.now();
  let prefillMs = 0;
  let decodeFlights = 0;
  let layerFlights = 0;
  let layerSamples = 0;
  let ended = false;
  let passes = 0;
  let sessionClosed = false;
  let failed = false;
  let afterPrefill = { to: 0, from: 0, dealer: 0 };
  let beforePrefill = { to: 0, from: 0, dealer: 0 };
  let prefillRowsFed = 0;
  let prefillForward = { to: 0, from: 0, dealer: 0 };
  const prompt = request.promptTokens;
  /** Token ids fed so far, one per position of the attention memories. */
  const fed: number[] = resume ? prompt.slice(0, reused) : [];
  let forwardRef: ReturnType<typeof forwardPasses> | undefined;
  /** A clean end: hand the gateway's half of the state to the conversation cache. */
  const keepState = () => {
    if (request.keep && forwardRef) request.keep({ sessionId: params.sessionId, tokens: fed, kept: forwardRef.kept() });
  };
  let lastId = prompt[promptLength - 1]!;
  let lastAnswerAt = 0;
  /**
   * Ends the session on the wire. Every end looks the same to the engine and the dealer: an
   * end-of-sequence token, a stop string (the consumer returns the iterator without aborting),
   * max_tokens. Bucket mode first pads the number of passes (length-buckets.ts).
   */
  const endSession = async (c: PartyContext, run: (c: PartyContext, real: boolean) => Promise<unknown>): Promise<void> => {
    // The first message after the last answer leaves at a fixed delay, whoever noticed the end
    // (the gateway itself at EOS, the API layer after decoding a stop string).
    const wait = lastAnswerAt + END_DELAY_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const total = paddedPasses(plan, passes);
    while (passes < total) await run(c, false);
    await passControl(c, { kind: 'end' });
    sessionClosed = true;
  };
  try {
    const { k12, resumed } = await gatewaySessionStart(net, params, trust);
    if (resume && !(resumed.engine && resumed.dealer)) throw new ResumeRefusedError(resumed);
    net.configureSchedule(params.optimized);
    const layerDepths: number[] = [];
    const context: PartyContext = { role: 'gateway', net, profile: model.profile, backend: model.backend, k02: undefined, k12, step: 0, reuseElemMask: params.optimized, ...(params.attention ? { attention: params.attention } : {}), ...(model.ringViewTap ? { ringViewTap: model.ringViewTap } : {}), ...(products ? { productsAhead: products } : {}), onLayerStart: () => {
        layerDepths.push(net.clock.depth);
        request.onProgress?.();
      } };
    ctx = context;
    // The next pass's products are made while this party waits on a link.
    if (products) net.whileWaiting = (arrival) => products.runWhile(arrival);
    const lookupClient = await TokenLookupClient.create();
    client = lookupClient;
    net.send('engine', MessageKind.LookupSetup, nextStep(context), [lookupClient.setupMessage()], true);
    // Each pass's lookup query is encrypted ahead (one-hots of random offsets, token-lookup-client.ts)
    // while the session waits on its links; online, only the offsets to the sampled indices leave.
    const pool = new AheadPool<AheadQuery>({ capacity: LOOKUP_QUERIES_AHEAD, total: plan.maxPasses, produce: () => lookupClient.queryAhead(lookups, config.vocabSize), release: (q) => q.dispose() });
    queries = pool;
    let nextQuery: AheadQuery | undefined;
    const forward = forwardPasses(context, model, plan.prefillRows + plan.maxPasses, resume ? { kept: resume.kept, length: reused } : undefined);
    forwardRef = forward;
    /** One pass; the gateway's work is the same whether the pass is real, teacher-forced or padding. */
    const runPass = async (c: PartyContext, real: boolean) => {
      request.signal?.throwIfAborted();
      const p = passes;
      const position = plan.prefillRows + p - 1;
      const input: readonly number[] = p === 0 ? prompt.slice(reused, plan.prefillRows) : [position < promptLength ? prompt[position]! : lastId];
      const start = p === 0 ? reused : position;
      if (p === 0) {
        // The set-up messages (token-lookup keys) leave now, so the meter tells them from the prefill.
        await net.flush();
        beforePrefill = { to: net.meter.bytesTo('engine'), from: net.meter.bytesFrom('engine'), dealer: net.meter.bytesFrom('dealer') };
        prefillRowsFed = input.length;
      }
      fed.push(...input);
      layerDepths.length = 0;
      const passStart = c.step + 1;
      products?.beginPass();
      await passControl(c, { kind: 'pass', rows: input.length, start });
      // Always a full-vocabulary add, neutral adjustments included (fixed work).
      const delta = logitAdjustmentDelta(config.vocabSize, { ...request.adjustments, generated }) ?? new Float64Array(config.vocabSize);
      const { view } = await forward.pass(input, input.length, start, delta);
      // The next pass (one row) makes this pass's MulW calls again, each shifted by this pass's
      // length in steps: the token lookup's step follows, then the next pass's control step.
      // A chunked prefill makes other calls: no prediction from it (take() checks every one anyway).
      products?.predictNextPass(p + 1 < plan.maxPasses && input.length <= PREFILL_CHUNK_ROWS ? c.step + 2 - passStart : undefined);
      if (real) request.onPermutedLogits?.(view!);
      const index = sampleToken(view!, request.sampling, real ? rng : throwaway);
      const alternatives = request.topLogprobs ? topLogprobs(view!, request.topLogprobs) : [];
      if (p === 0) prefillForward = { to: net.meter.bytesTo('engine') - beforePrefill.to, from: net.meter.bytesFrom('engine') - beforePrefill.from, dealer: net.meter.bytesFrom('dealer') - beforePrefill.dealer };
      const step = nextStep(c);
      // Pass 0's query goes with its offsets; every later one left, offline, during the pass before.
      const query = nextQuery ?? (await pool.take());
      nextQuery = undefined;
      if (p === 0) net.send('engine', MessageKind.TokenQuery, step, [query.bytes], true);
      net.send('engine', MessageKind.TokenOffset, step, [lookupClient.offsetMessage(query, [index, ...alternatives.map((a) => a.index)])]);
      if (p + 1 < plan.maxPasses) {
        // The offsets leave in a frame of their own; the next pass's query follows behind them
        // while the engine answers (the engine expects it before the next pass).
        await net.flush();
        nextQuery = await pool.take();
        net.send('engine', MessageKind.TokenQuery, step, [nextQuery.bytes], true);
      }
      const [answer] = await net.receive('engine', MessageKind.TokenAnswer, step);
      if (!(answer instanceof Uint8Array)) throw new Error('token answer: expected bytes');
      const [id, ...altIds] = await lookupClient.decodeAnswersSliced(answer);
      if (id === undefined) throw new Error('token answer: empty');
      passes++;
      lastAnswerAt = performance.now();
      return { view: view!, index, alternatives, id, altIds };
    };
    runPassRef = runPass;
    for (let f = 0; f < plan.forcedPromptTokens; f++) await runPass(context, false);
    for (let i = 0; i < maxTokens; i++) {
      const depthBefore = net.clock.depth;
      const { view, index, alternatives, id, altIds } = await runPass(context, true);
      if (i === 0) {
        prefillMs = performance.now() - began;
        afterPrefill = { to: net.meter.bytesTo('engine'), from: net.meter.bytesFrom('engine'), dealer: net.meter.bytesFrom('dealer') };
      } else {
        decodeFlights += net.clock.depth - depthBefore;
        if (layerDepths.length > 1) {
          layerFlights += (layerDepths[layerDepths.length - 1]! - layerDepths[0]!) / (layerDepths.length - 1);
          layerSamples++;
        }
      }
      lastId = id;
      if (request.stopIds.has(id)) {
        yield { type: 'finish', reason: 'stop' };
        ended = true;
        break;
      }
      generated.push(id);
      const event: GenerationEvent = { type: 'token', id };
      if (request.topLogprobs !== undefined) {
        event.logprob = logprobOf(view, index);
        event.topLogprobs = alternatives.map((a, k) => ({ id: altIds[k]!, logprob: a.logprob }));
      }
      yield event;
    }
    if (!ended) yield { type: 'finish', reason: 'length' };
    await endSession(context, runPass);
    keepState();
    const decodeSteps = Math.max(1, generated.length + (ended ? 1 : 0) - 1);
    const engineSent = net.meter.sent.get('engine');
    yield {
      type: 'stats',
      stats: {
        sessionId: params.sessionId,
        promptTokens: promptLength,
        completionTokens: generated.length,
        prefillMs,
        decodeMs: performance.now() - began - prefillMs,
        flightsPerToken: decodeFlights / decodeSteps,
        flightsPerLayer: layerSamples ? layerFlights / layerSamples : 0,
        bytesToEngine: net.meter.bytesTo('engine'),
        bytesFromEngine: net.meter.bytesFrom('engine'),
        dealerBytesToGateway: net.meter.bytesFrom('dealer'),
        offlineBytesToEngine: engineSent?.offlineBytes ?? 0,
        perToken: {
          bytesToEngine: (net.meter.bytesTo('engine') - afterPrefill.to) / decodeSteps,
          bytesFromEngine: (net.meter.bytesFrom('engine') - afterPrefill.from) / decodeSteps,
          dealerBytesToGateway: (net.meter.bytesFrom('dealer') - afterPrefill.dealer) / decodeSteps,
        },
        setup: { bytesToEngine: beforePrefill.to, bytesFromEngine: beforePrefill.from },
        prefill: { rows: prefillRowsFed, bytesToEngine: prefillForward.to, bytesFromEngine: prefillForward.from, dealerBytesToGateway: prefillForward.dealer },
        reusedTokens: reused,
        ...(products ? { productsAhead: { ...products.stats, peakBytes: products.peakBytes } } : {}),
      },
    };
  } catch (error) {
    failed = true;
    await net.abort(error instanceof Error ? error.message : 'gateway error');
    throw error;
  } finally {
    // The consumer returned the iterator early without aborting (a stop string matched): end
    // the session exactly as an end-of-sequence token does.
    if (ctx && runPassRef && !sessionClosed && !failed && !request.signal?.aborted) {
      try {
        await endSession(ctx, runPassRef);
        keepState();
      } catch (error) {
        await net.abort(error instanceof Error ? error.message : 'gateway error');
      }
    }
    queries?.dispose();
    products?.dispose();
    client?.dispose();
    net.close();
  }
}
