/**
 * P0's side of one session: handshake with the dealer, then forward passes on the gateway's
 * command, each ending with the permuted logits and the homomorphic token lookup, until the
 * gateway ends the session (or a peer misbehaves, which ends this session only).
 */
import { TokenLookupServer } from '../../protocol/token-lookup/index.js';
import { embeddingPass } from '../../protocol/schedule/embedding-pass.js';
import { forwardPasses, keptBytes, type KeptAttention } from '../../protocol/schedule/forward-pass.js';
import { assertAttentionAllowed, DEFAULT_ATTENTION_MODES } from '../../protocol/schedule/attention-mode.js';
import { passControl } from '../../protocol/schedule/pass-control.js';
import { engineHandshake } from '../../protocol/session/handshake.js';
import type { EngineTrust } from '../../protocol/session/session-trust.js';
import { firstPass } from '../../protocol/session/session-params.js';
import type { SessionStateCache } from '../../protocol/session/session-state-cache.js';
import { nextStep, type PartyContext } from '../../protocol/session/party-context.js';
import { maxFrameBytes, type RoleModel } from '../../protocol/session/role-model.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { PartyNetwork } from '../../protocol/transport/party-network.js';
import { MessageKind } from '../../protocol/wire/frame.js';

export interface EngineSessionSummary {
  sessionId: string;
  passes: number;
  network: PartyNetwork;
  /** Bytes received from the dealer by the end of the first (prefill) pass, and in total. */
  dealerBytesAfterPrefill: number;
  dealerBytesTotal: number;
  /** Positions continued from a kept conversation state (0 = a fresh session). */
  resumedLength: number;
}

/**
 * Conversation reuse at the engine: where kept attention states live, and whose they are (the
 * user credential that opened the session: only it may continue them).
 */
export interface EngineReuse {
  cache: SessionStateCache<KeptAttention>;
  owner: string;
}

export async function runEngineSession(links: { gateway: MessageLink; dealer: MessageLink }, model: RoleModel, trust: EngineTrust, signal?: AbortSignal, reuse?: EngineReuse): Promise<EngineSessionSummary> {
  const net = new PartyNetwork('engine', { floatType: model.profile.dtype, maxFrameBytes: maxFrameBytes(model.config), ...(signal ? { signal } : {}) });
  net.connect('gateway', links.gateway);
  net.connect('dealer', links.dealer);
  let lookup: TokenLookupServer | undefined;
  let sessionId = '';
  let passes = 0;
  let dealerBytesAfterPrefill = 0;
  let resumedState: KeptAttention | undefined;
  let keep: ((state: KeptAttention | undefined, bytes: number) => void) | undefined;
  try {
    const { params, k02 } = await engineHandshake(net, {
      maxContext: model.config.maxSeqLen,
      resume: async (p) => {
        resumedState = reuse && p.resume ? await reuse.cache.take(p.resume.sessionId, reuse.owner) : undefined;
        if (resumedState && !fits(resumedState, p.resume!.length)) resumedState = undefined;
        return resumedState !== undefined;
      },
    }, trust);
    sessionId = params.sessionId;
    if (params.keep && reuse) keep = reuse.cache.reserve(sessionId, reuse.owner);
    if (params.profile !== model.profile.name) throw new Error(`session asks for mask profile ${params.profile}, engine runs ${model.profile.name}`);
    assertAttentionAllowed(params.attention ?? 'beaver', model.attentionModes ?? DEFAULT_ATTENTION_MODES);
    const ctx: PartyContext = { role: 'engine', net, profile: model.profile, backend: model.backend, k02, k12: undefined, step: 0, reuseElemMask: params.optimized, ...(params.attention ? { attention: params.attention } : {}), ...(model.ringViewTap ? { ringViewTap: model.ringViewTap } : {}) };
    net.configureSchedule(params.optimized);
    if (params.kind === 'embed') {
      // One embedding pass over the prompt's tokens; no token lookup (ring-embedding-program.ts).
      await embeddingPass(ctx, model, undefined, params.promptLength);
      await net.flush();
      return { sessionId, passes: 1, network: net, dealerBytesAfterPrefill: net.meter.bytesFrom('dealer'), dealerBytesTotal: net.meter.bytesFrom('dealer'), resumedLength: 0 };
    }
    const [setup] = await net.receive('gateway', MessageKind.LookupSetup, nextStep(ctx));
    if (!(setup instanceof Uint8Array)) throw new Error('lookup setup: expected bytes');
    lookup = await TokenLookupServer.fromSetup(setup, { lookupsPerQuery: params.lookupsPerToken });
    const resume = resumedState && params.resume ? { kept: resumedState, length: params.resume.length } : undefined;
    const forward = forwardPasses(ctx, model, params.promptLength + params.maxNewTokens, resume);
    const first = firstPass(resume ? params : { promptLength: params.promptLength });
    let aheadQuery: Uint8Array | undefined;
    const receiveQuery = async (step: number): Promise<Uint8Array> => {
      const [query] = await net.receive('gateway', MessageKind.TokenQuery, step);
      if (!(query instanceof Uint8Array)) throw new Error('token query: expected bytes');
      return query;
    };
    for (;;) {
      const command = await passControl(ctx);
      if (command.kind === 'end') break;
      const expectedStart = passes === 0 ? first.start : params.promptLength + passes - 1;
      const expectedRows = passes === 0 ? first.rows : 1;
      if (command.start !== expectedStart || command.rows !== expectedRows || passes >= params.maxNewTokens) {
        throw new Error(`pass ${passes}: gateway asked for rows ${command.rows} at ${command.start}, schedule says ${expectedRows} at ${expectedStart}`);
      }
      const { permutation } = await forward.pass(undefined, command.rows, command.start);
      // table[j] = real id at permuted index j: π sends id i to position dest[i].
      const table = new Uint32Array(model.config.vocabSize);
      permutation!.dest.forEach((d, i) => (table[d] = i));
      const step = nextStep(ctx);
      // The answer's blinding does not depend on the query: done while the gateway samples. The
      // query itself came ahead (offline); the table is encoded rotated by the offsets.
      const prepared = await lookup.prepareShifted(table);
      try {
        if (aheadQuery === undefined) aheadQuery = await receiveQuery(step);
        const [offsets] = await net.receive('gateway', MessageKind.TokenOffset, step);
        if (!(offsets instanceof Uint8Array)) throw new Error('token offsets: expected bytes');
        net.send('gateway', MessageKind.TokenAnswer, step, [await lookup.answerShifted(aheadQuery, offsets, prepared)]);
      } finally {
        prepared.dispose();
      }
      aheadQuery = undefined;
      // The next pass's query follows (the gateway sends it behind these offsets).
      if (passes + 1 < params.maxNewTokens) aheadQuery = await receiveQuery(step);
      passes++;
      if (passes === 1) dealerBytesAfterPrefill = net.meter.bytesFrom('dealer');
    }
    await net.flush();
    if (keep) {
      const kept = forward.kept();
      keep(kept, keptBytes(kept));
    }
    return { sessionId, passes, network: net, dealerBytesAfterPrefill, dealerBytesTotal: net.meter.bytesFrom('dealer'), resumedLength: resume?.length ?? 0 };
  } catch (error) {
    keep?.(undefined, 0);
    await net.abort(error instanceof Error ? error.message : 'engine error');
    throw error;
  } finally {
    keep?.(undefined, 0);
    lookup?.dispose();
    net.close();
  }
}

/** Whether a kept state can continue at `length` positions under this model (checked again when it is used). */
function fits(kept: KeptAttention, length: number): boolean {
  return kept.memories.every((m) => m.length >= length);
}
