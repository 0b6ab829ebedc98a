/**
 * P2's side of one session: agree keys with both parties, then run the same schedule as they
 * do, producing every step's correlated randomness ahead of use. The links' back-pressure
 * bounds how far ahead it runs; material is never reused, and a session that ends early simply
 * drops what was not consumed.
 */
import { embeddingPass } from '../protocol/schedule/embedding-pass.js';
import { forwardPasses, keptBytes, keptLength, type KeptAttention } from '../protocol/schedule/forward-pass.js';
import { passControl } from '../protocol/schedule/pass-control.js';
import { dealerHandshake } from '../protocol/session/handshake.js';
import type { DealerTrust } from '../protocol/session/session-trust.js';
import { firstPass } from '../protocol/session/session-params.js';
import type { SessionStateCache } from '../protocol/session/session-state-cache.js';
import { nextStep, type PartyContext } from '../protocol/session/party-context.js';
import { maxFrameBytes, type RoleModel } from '../protocol/session/role-model.js';
import type { MessageLink } from '../protocol/transport/message-link.js';
import { LinkClosedError } from '../protocol/transport/message-link.js';
import { PartyNetwork } from '../protocol/transport/party-network.js';

export interface DealerSessionSummary {
  sessionId: string;
  passesPrepared: number;
  network: PartyNetwork;
  /** Positions continued from a kept conversation state (0 = a fresh session). */
  resumedLength: number;
}

/**
 * `cache`: conversation reuse. A session whose hello says `keep` leaves its masks of the K/V rows
 * there when it ends (possibly more positions than the others consumed: every party cuts to the
 * length a follow-up names); a hello with `resume` continues one. Entries are filed under the
 * pairing (the dealer has no users: only that pairing's sessions may continue them).
 */
export async function runDealerSession(links: { gateway: MessageLink; engine: MessageLink }, model: RoleModel, trust: DealerTrust, signal?: AbortSignal, cache?: SessionStateCache<KeptAttention>): Promise<DealerSessionSummary> {
  const net = new PartyNetwork('dealer', { floatType: model.profile.dtype, maxFrameBytes: 1 << 16, ...(signal ? { signal } : {}) });
  net.connect('gateway', links.gateway);
  net.connect('engine', links.engine);
  let sessionId = '';
  let passesPrepared = 0;
  let resumedState: KeptAttention | undefined;
  let keep: ((state: KeptAttention | undefined, bytes: number) => void) | undefined;
  let forward: ReturnType<typeof forwardPasses> | undefined;
  let resumedLength = 0;
  const keepNow = () => {
    if (!keep) return;
    const kept = forward?.kept();
    keep(kept, kept ? keptBytes(kept) : 0);
  };
  try {
    const { params, k02, k12 } = await dealerHandshake(net, {
      maxContext: model.config.maxSeqLen,
      resume: async (p) => {
        resumedState = cache && p.resume ? await cache.take(p.resume.sessionId, trust.pairingId) : undefined;
        if (resumedState && keptLength(resumedState) < p.resume!.length) resumedState = undefined;
        return resumedState !== undefined;
      },
    }, trust);
    sessionId = params.sessionId;
    if (params.keep && cache) keep = cache.reserve(sessionId, trust.pairingId);
    if (params.profile !== model.profile.name) throw new Error(`session asks for mask profile ${params.profile}, dealer runs ${model.profile.name}`);
    const ctx: PartyContext = { role: 'dealer', net, profile: model.profile, backend: model.backend, k02, k12, step: 0, reuseElemMask: params.optimized, ...(params.attention ? { attention: params.attention } : {}) };
    net.configureSchedule(params.optimized);
    if (params.kind === 'embed') {
      await embeddingPass(ctx, model, undefined, params.promptLength);
      await net.flush();
      return { sessionId, passesPrepared: 1, network: net, resumedLength: 0 };
    }
    nextStep(ctx); // lookup setup (gateway → engine)
    const resume = resumedState && params.resume ? { kept: resumedState, length: params.resume.length } : undefined;
    resumedLength = resume?.length ?? 0;
    const passes = forwardPasses(ctx, model, params.promptLength + params.maxNewTokens, resume);
    forward = passes;
    const first = firstPass(resume ? params : { promptLength: params.promptLength });
    for (let pass = 0; pass < params.maxNewTokens; pass++) {
      const rows = pass === 0 ? first.rows : 1;
      const start = pass === 0 ? first.start : params.promptLength + pass - 1;
      await passControl(ctx, { kind: 'pass', rows, start });
      await passes.pass(undefined, rows, start);
      nextStep(ctx); // token lookup (engine ↔ gateway only)
      await net.flush();
      passesPrepared++;
    }
    keepNow();
    return { sessionId, passesPrepared, network: net, resumedLength };
  } catch (error) {
    // The gateway closing its link after the last token it wanted is the normal end.
    if (error instanceof LinkClosedError || (error instanceof Error && error.name === 'LinkClosedError')) {
      keepNow();
      return { sessionId, passesPrepared, network: net, resumedLength };
    }
    await net.abort(error instanceof Error ? error.message : 'dealer error');
    throw error;
  } finally {
    keep?.(undefined, 0);
    net.close();
  }
}
