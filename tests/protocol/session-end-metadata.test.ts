/**
 * Issue 11, "metadata the engine learns only what the README lists", on the wire:
 * - a stop-string end (the consumer returns the iterator without aborting, as the API layer
 *   does) and an end-of-sequence end give the engine and the dealer the same frames (kind,
 *   step, size, online/offline) and the same clean end;
 * - length buckets: two prompts of different lengths in one bucket, ending at different
 *   points, give the engine and the dealer the same frames, and the text is what it is
 *   without buckets (greedy and seeded sampling).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runDealerSession } from '../../dealer/dealer-session.js';
import { runEngineSession } from '../../engine/private/engine-session.js';
import { privateGenerate, type PrivateGenerationRequest } from '../../gateway/private/private-generation.js';
import { pairInProcess, type InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { decodeSessionParams } from '../../protocol/session/session-params.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { decodeFrame, MessageKind } from '../../protocol/wire/frame.js';
import { GREEDY } from '../helpers/private-vs-plaintext.js';

/** What a party can read off a frame without keys: kind, step, size, flags (fused frames opened). */
type FrameShape = string;

function shapesOf(bytes: Uint8Array): FrameShape[] {
  const frame = decodeFrame(bytes, Number.MAX_SAFE_INTEGER);
  const inner = frame.kind === MessageKind.Fused ? frame.parts.map((p) => decodeFrame(p as Uint8Array, Number.MAX_SAFE_INTEGER)) : [frame];
  const head = `${bytes.length}B${frame.offline ? ' offline' : ''}`;
  return [head, ...inner.map((f) => (f.kind === MessageKind.Hello ? 'Hello' : `${MessageKind[f.kind]}@${f.step}:${f.parts.map((p) => p.length).join(',')}`))];
}

/** Records every frame a party receives on `link`; `onHello` gets the session parameters. */
function recording(link: MessageLink, log: FrameShape[][], onHello?: (params: Uint8Array) => void): MessageLink {
  return {
    send: (frame) => link.send(frame),
    receive: async (signal) => {
      const bytes = await link.receive(signal);
      log.push(shapesOf(bytes));
      const frame = decodeFrame(bytes, Number.MAX_SAFE_INTEGER);
      if (frame.kind === MessageKind.Hello) onHello?.(frame.parts[0] as Uint8Array);
      return bytes;
    },
    close: (reason) => link.close(reason),
    get isClosed() {
      return link.isClosed;
    },
  };
}

interface Observed {
  tokens: number[];
  engineSaw: FrameShape[][];
  dealerSaw: FrameShape[][];
  declared: { promptLength: number; maxNewTokens: number };
  enginePasses: number;
}

/**
 * One in-process session with the engine's and the dealer's received frames recorded.
 * `stopAfter`: the consumer returns the iterator after that many tokens (a stop string).
 */
async function observe(parties: InProcessParties, request: PrivateGenerationRequest, stopAfter?: number): Promise<Observed> {
  const [gatewayToEngine, engineToGateway] = inProcessLinkPair();
  const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(256);
  const [engineToDealer, dealerToEngine] = inProcessLinkPair(256);
  const engineSaw: FrameShape[][] = [];
  const dealerSaw: FrameShape[][] = [];
  let hello: Uint8Array | undefined;
  const engine = runEngineSession({ gateway: recording(engineToGateway, engineSaw, (h) => (hello = h)), dealer: recording(engineToDealer, engineSaw) }, parties.engine, parties.trust.engine);
  const dealer = runDealerSession({ gateway: recording(dealerToGateway, dealerSaw), engine: recording(dealerToEngine, dealerSaw) }, parties.dealer, parties.trust.dealer);
  const tokens: number[] = [];
  for await (const event of privateGenerate({ engine: gatewayToEngine, dealer: gatewayToDealer }, parties.gateway, request, parties.trust.gateway)) {
    if (event.type !== 'token') continue;
    tokens.push(event.id);
    if (tokens.length === stopAfter) break; // for-await returns the iterator: no abort
  }
  const [e] = await Promise.all([engine, dealer]);
  if (!hello) throw new Error('the engine received no Hello');
  const params = decodeSessionParams(hello, { maxContext: parties.engine.config.maxSeqLen });
  // The session id is random: blank it out of the Hello's size-only shape (same length anyway).
  return { tokens, engineSaw, dealerSaw, declared: { promptLength: params.promptLength, maxNewTokens: params.maxNewTokens }, enginePasses: e.passes };
}

describe('what the engine and the dealer see of how a session ends (stories260K)', () => {
  let model: ModelDescription;
  let parties: InProcessParties;
  let prompt: number[];
  let greedy: number[];
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    parties = pairInProcess(model);
    prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    greedy = (await observe(parties, request(prompt, 8))).tokens;
  });

  function request(promptTokens: number[], maxTokens: number, extra: Partial<PrivateGenerationRequest> = {}): PrivateGenerationRequest {
    return { promptTokens, maxTokens, sampling: GREEDY, adjustments: {}, stopIds: new Set(), ...extra };
  }

  it('a stop string and an end-of-sequence token at the same token look the same', async () => {
    const at = 4; // the 4th token ends the completion
    const eos = await observe(parties, request(prompt, 8, { stopIds: new Set([greedy[at - 1]!]) }));
    const stop = await observe(parties, request(prompt, 8), at);
    expect(eos.tokens).toEqual(greedy.slice(0, at - 1));
    expect(stop.tokens).toEqual(greedy.slice(0, at));
    expect(stop.enginePasses).toBe(at);
    expect(eos.enginePasses).toBe(at);
    // Frame by frame, sizes included; the Hello differs only by the random session id.
    expect(stop.engineSaw).toEqual(eos.engineSaw);
    expect(stop.dealerSaw).toEqual(eos.dealerSaw);
  });

  it('length buckets: prompts of 5 and 6 tokens ending at different points look the same; the text does not change', async () => {
    const bucket = 8;
    const long = model.tokenizer.encode('Once upon a time there was a girl', { addBos: true });
    const five = long.slice(0, 5);
    const six = long.slice(0, 6);
    expect(long.length).toBeGreaterThanOrEqual(6);
    const plainFive = await observe(parties, request(five, 3));
    const plainSix = await observe(parties, request(six, 3));
    // Without buckets the engine learns the exact lengths.
    expect(plainFive.declared.promptLength).toBe(5);
    expect(plainSix.declared.promptLength).toBe(6);
    // With buckets: the 5-token prompt ends after 2 tokens (EOS), the 6-token one runs to max_tokens.
    const early = await observe(parties, request(five, 3, { lengthBucket: bucket, stopIds: new Set([plainFive.tokens[1]!]) }));
    const full = await observe(parties, request(six, 3, { lengthBucket: bucket }));
    expect(early.tokens).toEqual(plainFive.tokens.slice(0, 1));
    expect(full.tokens).toEqual(plainSix.tokens);
    expect(early.declared).toEqual({ promptLength: 1, maxNewTokens: bucket });
    expect(full.declared).toEqual(early.declared);
    expect(early.enginePasses).toBe(bucket);
    expect(full.enginePasses).toBe(bucket);
    expect(full.engineSaw).toEqual(early.engineSaw);
    expect(full.dealerSaw).toEqual(early.dealerSaw);
  });

  it('length buckets keep seeded sampling and stop strings unchanged', async () => {
    const sampling = { temperature: 0.8, topP: 0.9, topK: 0, minP: 0, seed: 7 };
    const plain = await observe(parties, request(prompt, 6, { sampling }));
    const bucketed = await observe(parties, request(prompt, 6, { sampling, lengthBucket: 4 }));
    expect(bucketed.tokens).toEqual(plain.tokens);
    expect(bucketed.enginePasses % 4).toBe(0);
    // A stop string in bucket mode: the session is padded, then ends cleanly.
    const stopped = await observe(parties, request(prompt, 6, { sampling, lengthBucket: 4 }), 2);
    expect(stopped.tokens).toEqual(plain.tokens.slice(0, 2));
    expect(stopped.enginePasses % 4).toBe(0);
  });
});
