/**
 * P0's side of one session: handshake with the dealer, then forward passes on the gateway's
 * command, each ending with the permuted logits and the homomorphic token lookup, until the
 * gateway ends the session (or a peer misbehaves, which ends this session only).
 */
import { TokenLookupServer } from '../../protocol/token-lookup/index.js';
import { embeddingPass } from '../../protocol/schedule/embedding-pass.js';
import { forwardPasses } from '../../protocol/schedule/forward-pass.js';
import { assertAttentionAllowed, DEFAULT_ATTENTION_MODES } from '../../protocol/schedule/attention-mode.js';
import { passControl } from '../../protocol/schedule/pass-control.js';
import { engineHandshake } from '../../protocol/session/handshake.js';
import type { EngineTrust } from '../../protocol/session/session-trust.js';
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
}

export async function runEngineSession(links: { gateway: MessageLink; dealer: MessageLink }, model: RoleModel, trust: EngineTrust, signal?: AbortSignal): Promise<EngineSessionSummary> {
  const net = new PartyNetwork('engine', { floatType: model.profile.dtype, maxFrameBytes: maxFrameBytes(model.config), ...(signal ? { signal } : {}) });
  net.connect('gateway', links.gateway);
  net.connect('dealer', links.dealer);
  let lookup: TokenLookupServer | undefined;
  let sessionId = '';
  let passes = 0;
  let dealerBytesAfterPrefill = 0;
  try {
    const { params, k02 } = await engineHandshake(net, { maxContext: model.config.maxSeqLen }, trust);
    sessionId = params.sessionId;
    if (params.profile !== model.profile.name) throw new Error(`session asks for mask profile ${params.profile}, engine runs ${model.profile.name}`);
    assertAttentionAllowed(params.attention ?? 'beaver', model.attentionModes ?? DEFAULT_ATTENTION_MODES);
    const ctx: PartyContext = { role: 'engine', net, profile: model.profile, backend: model.backend, k02, k12: undefined, step: 0, reuseElemMask: params.optimized, ...(params.attention ? { attention: params.attention } : {}), ...(model.ringViewTap ? { ringViewTap: model.ringViewTap } : {}) };
    net.configureSchedule(params.optimized);
    if (params.kind === 'embed') {
      // One embedding pass over the prompt's tokens; no token lookup (ring-embedding-program.ts).
      await embeddingPass(ctx, model, undefined, params.promptLength);
      await net.flush();
      return { sessionId, passes: 1, network: net, dealerBytesAfterPrefill: net.meter.bytesFrom('dealer'), dealerBytesTotal: net.meter.bytesFrom('dealer') };
    }
    const [setup] = await net.receive('gateway', MessageKind.LookupSetup, nextStep(ctx));
    if (!(setup instanceof Uint8Array)) throw new Error('lookup setup: expected bytes');
    lookup = await TokenLookupServer.fromSetup(setup, { lookupsPerQuery: params.lookupsPerToken });
    const forward = forwardPasses(ctx, model, params.promptLength + params.maxNewTokens);
    for (;;) {
      const command = await passControl(ctx);
      if (command.kind === 'end') break;
      const expectedStart = passes === 0 ? 0 : params.promptLength + passes - 1;
      const expectedRows = passes === 0 ? params.promptLength : 1;
      if (command.start !== expectedStart || command.rows !== expectedRows || passes >= params.maxNewTokens) {
        throw new Error(`pass ${passes}: gateway asked for rows ${command.rows} at ${command.start}, schedule says ${expectedRows} at ${expectedStart}`);
      }
      const { permutation } = await forward.pass(undefined, command.rows, command.start);
      // table[j] = real id at permuted index j: π sends id i to position dest[i].
      const table = new Uint32Array(model.config.vocabSize);
      permutation!.dest.forEach((d, i) => (table[d] = i));
      const step = nextStep(ctx);
      const [query] = await net.receive('gateway', MessageKind.TokenQuery, step);
      if (!(query instanceof Uint8Array)) throw new Error('token query: expected bytes');
      net.send('gateway', MessageKind.TokenAnswer, step, [lookup.answer(query, table)]);
      passes++;
      if (passes === 1) dealerBytesAfterPrefill = net.meter.bytesFrom('dealer');
    }
    await net.flush();
    return { sessionId, passes, network: net, dealerBytesAfterPrefill, dealerBytesTotal: net.meter.bytesFrom('dealer') };
  } catch (error) {
    await net.abort(error instanceof Error ? error.message : 'engine error');
    throw error;
  } finally {
    lookup?.dispose();
    net.close();
  }
}
