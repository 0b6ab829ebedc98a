/**
 * P2's side of one session: agree keys with both parties, then run the same schedule as they
 * do, producing every step's correlated randomness ahead of use. The links' back-pressure
 * bounds how far ahead it runs; material is never reused, and a session that ends early simply
 * drops what was not consumed.
 */
import { embeddingPass } from '../protocol/schedule/embedding-pass.js';
import { forwardPasses } from '../protocol/schedule/forward-pass.js';
import { passControl } from '../protocol/schedule/pass-control.js';
import { dealerHandshake } from '../protocol/session/handshake.js';
import type { DealerTrust } from '../protocol/session/session-trust.js';
import { nextStep, type PartyContext } from '../protocol/session/party-context.js';
import { maxFrameBytes, type RoleModel } from '../protocol/session/role-model.js';
import type { MessageLink } from '../protocol/transport/message-link.js';
import { LinkClosedError } from '../protocol/transport/message-link.js';
import { PartyNetwork } from '../protocol/transport/party-network.js';

export interface DealerSessionSummary {
  sessionId: string;
  passesPrepared: number;
  network: PartyNetwork;
}

export async function runDealerSession(links: { gateway: MessageLink; engine: MessageLink }, model: RoleModel, trust: DealerTrust, signal?: AbortSignal): Promise<DealerSessionSummary> {
  const net = new PartyNetwork('dealer', { floatType: model.profile.dtype, maxFrameBytes: 1 << 16, ...(signal ? { signal } : {}) });
  net.connect('gateway', links.gateway);
  net.connect('engine', links.engine);
  let sessionId = '';
  let passesPrepared = 0;
  try {
    const { params, k02, k12 } = await dealerHandshake(net, { maxContext: model.config.maxSeqLen }, trust);
    sessionId = params.sessionId;
    if (params.profile !== model.profile.name) throw new Error(`session asks for mask profile ${params.profile}, dealer runs ${model.profile.name}`);
    const ctx: PartyContext = { role: 'dealer', net, profile: model.profile, backend: model.backend, k02, k12, step: 0, reuseElemMask: params.optimized, ...(params.attention ? { attention: params.attention } : {}) };
    net.configureSchedule(params.optimized);
    if (params.kind === 'embed') {
      await embeddingPass(ctx, model, undefined, params.promptLength);
      await net.flush();
      return { sessionId, passesPrepared: 1, network: net };
    }
    nextStep(ctx); // lookup setup (gateway → engine)
    const forward = forwardPasses(ctx, model, params.promptLength + params.maxNewTokens);
    for (let pass = 0; pass < params.maxNewTokens; pass++) {
      const rows = pass === 0 ? params.promptLength : 1;
      const start = pass === 0 ? 0 : params.promptLength + pass - 1;
      await passControl(ctx, { kind: 'pass', rows, start });
      await forward.pass(undefined, rows, start);
      nextStep(ctx); // token lookup (engine ↔ gateway only)
      await net.flush();
      passesPrepared++;
    }
    return { sessionId, passesPrepared, network: net };
  } catch (error) {
    // The gateway closing its link after the last token it wanted is the normal end.
    if (error instanceof LinkClosedError || (error instanceof Error && error.name === 'LinkClosedError')) return { sessionId, passesPrepared, network: net };
    await net.abort(error instanceof Error ? error.message : 'dealer error');
    throw error;
  } finally {
    net.close();
  }
}
