/**
 * Issue 12: the token-lookup query leaves the online step. On the gateway–engine link of a real
 * session (stories260K, in process), every BFV query travels flagged offline, one per pass,
 * pass 0's beside its offsets and every later one right behind the previous pass's offsets;
 * online, each pass sends only its offsets (12 bytes + 4 per lookup). The tokens are those of
 * the fixed-point oracle (the answers decrypt to the same ids as a query for the index).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runDealerSession } from '../../dealer/dealer-session.js';
import { runEngineSession } from '../../engine/private/engine-session.js';
import { privateGenerate } from '../../gateway/private/private-generation.js';
import type { InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { decodeFrame, MessageKind, type Frame } from '../../protocol/wire/frame.js';
import { fixedPointGenerate, GREEDY, pairModel } from '../helpers/private-vs-plaintext.js';

interface Seen {
  /** Index of the physical frame the message came in. */
  physical: number;
  kind: string;
  offline: boolean;
  bytes: number;
}

/** Records every logical message the gateway sends to the engine. */
function recording(inner: MessageLink, seen: Seen[]): MessageLink {
  let physical = 0;
  return {
    send: (bytes) => {
      const frame = decodeFrame(bytes, Number.MAX_SAFE_INTEGER);
      const inner_: Frame[] = frame.kind === MessageKind.Fused ? frame.parts.map((p) => decodeFrame(p as Uint8Array, Number.MAX_SAFE_INTEGER)) : [frame];
      for (const f of inner_) seen.push({ physical, kind: MessageKind[f.kind] ?? String(f.kind), offline: f.offline, bytes: f.parts[0] instanceof Uint8Array ? f.parts[0].length : -1 });
      physical++;
      return inner.send(bytes);
    },
    receive: (signal) => inner.receive(signal),
    close: (reason) => inner.close(reason),
    get isClosed() {
      return inner.isClosed;
    },
  };
}

describe('lookup queries sent ahead (stories260K)', () => {
  let model: ModelDescription;
  let parties: InProcessParties;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    parties = await pairModel(model);
  });

  it('sends every query offline, one pass ahead, and only the offsets online', async () => {
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const maxTokens = 4;
    const seen: Seen[] = [];
    const [gatewayToEngine, engineToGateway] = inProcessLinkPair();
    const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(256);
    const [engineToDealer, dealerToEngine] = inProcessLinkPair(256);
    const engine = runEngineSession({ gateway: engineToGateway, dealer: engineToDealer }, parties.engine, parties.trust.engine);
    const dealer = runDealerSession({ gateway: dealerToGateway, engine: dealerToEngine }, parties.dealer, parties.trust.dealer);
    const tokens: number[] = [];
    for await (const e of privateGenerate({ engine: recording(gatewayToEngine, seen), dealer: gatewayToDealer }, parties.gateway, { promptTokens: prompt, maxTokens, sampling: GREEDY, adjustments: {}, stopIds: new Set() }, parties.trust.gateway)) {
      if (e.type === 'token') tokens.push(e.id);
    }
    const summary = await engine;
    await dealer;
    expect(tokens).toEqual((await fixedPointGenerate(parties, prompt, maxTokens)).tokens);

    const queries = seen.filter((m) => m.kind === 'TokenQuery');
    const offsets = seen.filter((m) => m.kind === 'TokenOffset');
    expect(offsets).toHaveLength(summary.passes);
    expect(queries).toHaveLength(summary.passes);
    expect(queries.every((q) => q.offline)).toBe(true);
    expect(offsets.every((o) => !o.offline && o.bytes === 12 + 4)).toBe(true);
    expect(queries.every((q) => q.bytes > 100_000)).toBe(true); // a BFV ciphertext, not something derived from the index
    // Pass 0: query and offsets in one frame. Pass p > 0: its query in the frame right after pass p − 1's offsets, alone.
    expect(queries[0]!.physical).toBe(offsets[0]!.physical);
    for (let p = 1; p < summary.passes; p++) {
      expect(queries[p]!.physical).toBe(offsets[p - 1]!.physical + 1);
      expect(seen.filter((m) => m.physical === queries[p]!.physical)).toHaveLength(1);
      expect(seen.indexOf(queries[p]!)).toBeLessThan(seen.indexOf(offsets[p]!));
    }
  });
});
