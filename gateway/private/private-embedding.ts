/**
 * P1's side of one embedding session (`/v1/embeddings` on the private backend): handshake, then
 * one embedding pass over the input's tokens (protocol/schedule/ring-embedding-program.ts). The
 * engine never sees the tokens; only the pooled vector is opened, and only to this party.
 *
 * What each party learns: the user gets one mean-pooled vector of `dim` values per input (plus,
 * as in every pass, the permuted views of its own nonlinear steps); the engine and the dealer get
 * the input's token count (the session's prompt length) and that a session was an embedding
 * one, nothing else.
 */
import { randomBytes } from 'node:crypto';
import { embeddingPass } from '../../protocol/schedule/embedding-pass.js';
import { gatewayHandshake } from '../../protocol/session/handshake.js';
import type { GatewayTrust } from '../../protocol/session/session-trust.js';
import type { PartyContext } from '../../protocol/session/party-context.js';
import { maxFrameBytes, type RoleModel } from '../../protocol/session/role-model.js';
import type { SessionParams } from '../../protocol/session/session-params.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { PartyNetwork } from '../../protocol/transport/party-network.js';
import type { Ring } from '../../compute/ring64.js';

export interface PrivateEmbeddingRequest {
  tokens: readonly number[];
  signal?: AbortSignal;
  /** Called at every layer of the pass (progress, as GenerationRequest.onProgress). */
  onProgress?: () => void;
}

export interface PrivateEmbeddingResult {
  /** The mean-pooled final hidden state (γ applied), dim values. */
  embedding: Float64Array;
  /** ring64: what was opened, γ ⊙ Σ_t RMSNorm(h_t) as ring integers at `exponent` (the oracle's bit-exact comparison). */
  pooled?: Ring;
  exponent: number;
  stats: { sessionId: string; promptTokens: number; ms: number; bytesToEngine: number; bytesFromEngine: number; dealerBytesToGateway: number; flights: number };
}

export async function privateEmbed(links: { engine: MessageLink; dealer: MessageLink }, model: RoleModel, request: PrivateEmbeddingRequest, trust: GatewayTrust): Promise<PrivateEmbeddingResult> {
  const { config } = model;
  const rows = request.tokens.length;
  if (rows < 1) throw new RangeError('an embedding input must hold at least one token');
  if (rows > config.maxSeqLen) throw new RangeError(`an input of ${rows} tokens exceeds the context of ${config.maxSeqLen}`);
  const params: SessionParams = { sessionId: randomBytes(16).toString('hex'), promptLength: rows, maxNewTokens: 1, profile: model.profile.name, lookupsPerToken: 1, optimized: true, kind: 'embed' };
  const net = new PartyNetwork('gateway', { floatType: model.profile.dtype, maxFrameBytes: maxFrameBytes(config), ...(request.signal ? { signal: request.signal } : {}) });
  net.connect('engine', links.engine);
  net.connect('dealer', links.dealer);
  const began = performance.now();
  try {
    const k12 = await gatewayHandshake(net, params, trust);
    net.configureSchedule(params.optimized);
    const ctx: PartyContext = {
      role: 'gateway',
      net,
      profile: model.profile,
      backend: model.backend,
      k02: undefined,
      k12,
      step: 0,
      reuseElemMask: params.optimized,
      ...(model.ringViewTap ? { ringViewTap: model.ringViewTap } : {}),
      onLayerStart: () => request.onProgress?.(),
    };
    const result = await embeddingPass(ctx, model, request.tokens, rows);
    await net.flush();
    if (!result.mean) throw new Error('embedding pass: nothing was opened to the gateway');
    return {
      embedding: result.mean,
      ...(result.pooled ? { pooled: result.pooled } : {}),
      exponent: result.exponent,
      stats: {
        sessionId: params.sessionId,
        promptTokens: rows,
        ms: performance.now() - began,
        bytesToEngine: net.meter.bytesTo('engine'),
        bytesFromEngine: net.meter.bytesFrom('engine'),
        dealerBytesToGateway: net.meter.bytesFrom('dealer'),
        flights: net.clock.depth,
      },
    };
  } catch (error) {
    await net.abort(error instanceof Error ? error.message : 'gateway error');
    throw error;
  } finally {
    net.close();
  }
}
