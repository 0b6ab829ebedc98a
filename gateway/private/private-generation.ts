/**
 * P1's side of one session: the user's generation loop under the private protocol.
 *
 * Per token: a forward pass on shares, then P1 adds its logit adjustments (logit_bias,
 * penalties) to its own share in vocabulary order, the logits are opened to P1 under a fresh
 * permutation π_out, P1 samples an index j in permuted order with its own randomness, and learns
 * the real token id π_out(j) through the BFV lookup (protocol.md, "Token output", "Sampling").
 */
import { randomBytes } from 'node:crypto';
import { createForwardState, privateForward } from '../../protocol/schedule/forward-program.js';
import { passControl } from '../../protocol/schedule/pass-control.js';
import { gatewayHandshake } from '../../protocol/session/handshake.js';
import { addInto, nextStep, type PartyContext } from '../../protocol/session/party-context.js';
import { maxFrameBytes, type RoleModel } from '../../protocol/session/role-model.js';
import type { SessionParams } from '../../protocol/session/session-params.js';
import { permOpen } from '../../protocol/subprotocols/perm-elem.js';
import { TokenLookupClient } from '../../protocol/token-lookup/index.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { PartyNetwork } from '../../protocol/transport/party-network.js';
import { MessageKind } from '../../protocol/wire/frame.js';
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
  /** Observer of each step's logits as P1 sees them (permuted order; P1's own data). */
  onPermutedLogits?: (logits: Float64Array) => void;
  /** Run the unoptimised baseline schedule (benchmarks only). Default true. */
  optimized?: boolean;
  /** Called at every layer of every pass: the session is making progress (see GenerationRequest.onProgress). */
  onProgress?: () => void;
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
}

export type PrivateGenerationEvent = GenerationEvent | { type: 'stats'; stats: PrivateSessionStats };

export async function* privateGenerate(
  links: { engine: MessageLink; dealer: MessageLink },
  model: RoleModel,
  request: PrivateGenerationRequest,
): AsyncGenerator<PrivateGenerationEvent> {
  const { config } = model;
  const promptLength = request.promptTokens.length;
  if (promptLength < 1) throw new RangeError('prompt must hold at least one token');
  const maxTokens = Math.min(request.maxTokens, config.maxSeqLen - promptLength);
  if (maxTokens < 1) throw new RangeError(`prompt of ${promptLength} tokens leaves no room in a context of ${config.maxSeqLen}`);
  const lookups = 1 + (request.topLogprobs ?? 0);
  const params: SessionParams = { sessionId: randomBytes(16).toString('hex'), promptLength, maxNewTokens: maxTokens, profile: model.profile.name, lookupsPerToken: lookups, optimized: request.optimized ?? true };
  const net = new PartyNetwork('gateway', { floatType: model.profile.dtype, maxFrameBytes: maxFrameBytes(config), ...(request.signal ? { signal: request.signal } : {}) });
  net.connect('engine', links.engine);
  net.connect('dealer', links.dealer);
  const rng = samplingRng(request.sampling.seed);
  let client: TokenLookupClient | undefined;
  const generated: number[] = [];
  const began = performance.now();
  let prefillMs = 0;
  let decodeFlights = 0;
  let layerFlights = 0;
  let layerSamples = 0;
  let ended = false;
  let afterPrefill = { to: 0, from: 0, dealer: 0 };
  try {
    const k12 = await gatewayHandshake(net, params);
    net.configureSchedule(params.optimized);
    const layerDepths: number[] = [];
    const ctx: PartyContext = { role: 'gateway', net, profile: model.profile, backend: model.backend, k02: undefined, k12, step: 0, reuseElemMask: params.optimized, onLayerStart: () => {
        layerDepths.push(net.clock.depth);
        request.onProgress?.();
      } };
    client = await TokenLookupClient.create();
    net.send('engine', MessageKind.LookupSetup, nextStep(ctx), [client.setupMessage()], true);
    const state = createForwardState(config, model.weights, model.rope, promptLength + maxTokens);
    let input: readonly number[] = request.promptTokens;
    let start = 0;
    for (let i = 0; i < maxTokens; i++) {
      request.signal?.throwIfAborted();
      const depthBefore = net.clock.depth;
      layerDepths.length = 0;
      await passControl(ctx, { kind: 'pass', rows: input.length, start });
      const logits = await privateForward(ctx, state, input, input.length, start);
      const delta = logitAdjustmentDelta(config.vocabSize, { ...request.adjustments, generated });
      if (delta) addInto(logits.share!, delta);
      const { view } = await permOpen(ctx, logits);
      request.onPermutedLogits?.(view!);
      const index = sampleToken(view!, request.sampling, rng);
      const alternatives = request.topLogprobs ? topLogprobs(view!, request.topLogprobs) : [];
      const step = nextStep(ctx);
      net.send('engine', MessageKind.TokenQuery, step, [client.queryMany([index, ...alternatives.map((a) => a.index)], config.vocabSize)]);
      const [answer] = await net.receive('engine', MessageKind.TokenAnswer, step);
      if (!(answer instanceof Uint8Array)) throw new Error('token answer: expected bytes');
      const [id, ...altIds] = client.decodeAnswers(answer);
      if (id === undefined) throw new Error('token answer: empty');
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
      if (request.stopIds.has(id)) {
        yield { type: 'finish', reason: 'stop' };
        ended = true;
        break;
      }
      generated.push(id);
      const event: GenerationEvent = { type: 'token', id };
      if (request.topLogprobs !== undefined) {
        event.logprob = logprobOf(view!, index);
        event.topLogprobs = alternatives.map((a, k) => ({ id: altIds[k]!, logprob: a.logprob }));
      }
      yield event;
      input = [id];
      start = i === 0 ? promptLength : start + 1;
    }
    if (!ended) yield { type: 'finish', reason: 'length' };
    await passControl(ctx, { kind: 'end' });
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
      },
    };
  } catch (error) {
    await net.abort(error instanceof Error ? error.message : 'gateway error');
    throw error;
  } finally {
    client?.dispose();
    net.close();
  }
}
