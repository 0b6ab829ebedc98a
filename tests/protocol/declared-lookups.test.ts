/**
 * Issue 10, "the engine enforces the declared number of lookups per token". A deviating gateway
 * declares 1 lookup per token (no top_logprobs) and then, sitting on its own link to the engine,
 * swaps the BFV setup for its own keys and the token query for 64 lookups that each pack two
 * permuted indices (q = e_a + 512·e_b, so one answer holds π_out(a) + 512·π_out(b)): without the
 * check it reads 128 real ids of π_out from one query. The engine must refuse the query and end
 * the session; honest sessions, with and without top_logprobs, still complete.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runDealerSession } from '../../dealer/dealer-session.js';
import { runEngineSession } from '../../engine/private/engine-session.js';
import { privateGenerate } from '../../gateway/private/private-generation.js';
import { pairInProcess, runInProcess, type InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { TokenLookupClient } from '../../protocol/token-lookup/index.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { decodeFrame, encodeFrame, MessageKind, type Frame } from '../../protocol/wire/frame.js';
import { GREEDY, privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';

const LOOKUPS = 64;
const PACK = 512; // ids of stories260K are below 512: two fit in the 20-bit plain modulus

/** Rewrites every message inside a physical frame (fused frames hold encoded inner frames). */
function rewriteFrame(bytes: Uint8Array, edit: (frame: Frame) => Frame): Uint8Array {
  const frame = decodeFrame(bytes, Number.MAX_SAFE_INTEGER);
  if (frame.kind !== MessageKind.Fused) return encodeFrame(edit(frame));
  const parts = frame.parts.map((p) => encodeFrame(edit(decodeFrame(p as Uint8Array, Number.MAX_SAFE_INTEGER))));
  return encodeFrame({ ...frame, parts });
}

interface Deviation {
  link: MessageLink;
  /** Real ids the attacker decoded from the engine's answers. */
  stolen: number[];
}

/** The gateway's engine link as the deviating gateway uses it. */
function deviatingLink(inner: MessageLink, attacker: TokenLookupClient, vocab: number): Deviation {
  const stolen: number[] = [];
  const attackQuery = (): Uint8Array => {
    // Reach the private query builder: the attacker fills arbitrary slot vectors.
    const raw = attacker as unknown as { encryptQuery(v: number, l: number, fill: (l: number, i: number, s: Uint32Array) => void, per: number): Uint8Array };
    return raw.encryptQuery(vocab, LOOKUPS, (l, _i, slots) => {
      slots[2 * l] = 1;
      slots[2 * l + 1] = PACK;
    }, 1);
  };
  const link: MessageLink = {
    send: (frame) =>
      inner.send(
        rewriteFrame(frame, (f) => {
          if (f.kind === MessageKind.LookupSetup) return { ...f, parts: [attacker.setupMessage()] };
          if (f.kind === MessageKind.TokenQuery) return { ...f, parts: [attackQuery()] };
          return f;
        }),
      ),
    receive: async (signal) => {
      const bytes = await inner.receive(signal);
      rewriteFrame(bytes, (f) => {
        if (f.kind === MessageKind.TokenAnswer) {
          for (const packed of attacker.decodeAnswers(f.parts[0] as Uint8Array)) stolen.push(packed % PACK, Math.floor(packed / PACK));
        }
        return f;
      });
      return bytes;
    },
    close: (reason) => inner.close(reason),
    get isClosed() {
      return inner.isClosed;
    },
  };
  return { link, stolen };
}

describe('the engine enforces the declared lookups per token (stories260K)', () => {
  let model: ModelDescription;
  let parties: InProcessParties;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    parties = pairInProcess(model);
  });

  it('a gateway that declared 1 lookup and asks for 64 packed ones is refused and reads no id', async () => {
    const vocab = model.config.vocabSize;
    expect(vocab).toBeLessThanOrEqual(PACK);
    const attacker = await TokenLookupClient.create();
    try {
      const [gatewayToEngine, engineToGateway] = inProcessLinkPair();
      const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(256);
      const [engineToDealer, dealerToEngine] = inProcessLinkPair(256);
      const engine = runEngineSession({ gateway: engineToGateway, dealer: engineToDealer }, parties.engine, parties.trust.engine).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const dealer = runDealerSession({ gateway: dealerToGateway, engine: dealerToEngine }, parties.dealer, parties.trust.dealer).catch(() => undefined);
      const deviation = deviatingLink(gatewayToEngine, attacker, vocab);
      const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
      const events = privateGenerate({ engine: deviation.link, dealer: gatewayToDealer }, parties.gateway, {
        promptTokens: prompt,
        maxTokens: 2,
        sampling: GREEDY,
        adjustments: {},
        stopIds: new Set(),
      }, parties.trust.gateway);
      const gatewayEnd = (async () => {
        for await (const _ of events) void _;
      })().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const [engineError, gatewayError] = await Promise.all([engine, gatewayEnd, dealer]);
      console.log(`deviating gateway: ${deviation.stolen.length} ids read; engine: ${engineError?.message}`);
      expect(deviation.stolen).toEqual([]);
      expect(engineError).toBeInstanceOf(Error);
      expect(engineError!.message).toMatch(/64 lookups in one query, the session declared 1 per token/);
      expect(gatewayError).toBeInstanceOf(Error);
    } finally {
      attacker.dispose();
    }
  });

  it('honest sessions still complete: 1 lookup per token, and 1 + top_logprobs', async () => {
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const plain = await privateGenerateInProcess(parties, prompt, 3);
    expect(plain.tokens).toHaveLength(3);
    const r = runInProcess(parties, { promptTokens: prompt, maxTokens: 3, sampling: GREEDY, adjustments: {}, topLogprobs: 4, stopIds: new Set() });
    const tokens: { id: number; top: number }[] = [];
    for await (const e of r.events) if (e.type === 'token') tokens.push({ id: e.id, top: e.topLogprobs?.length ?? 0 });
    const done = await r.done;
    expect(done.engine).not.toBeInstanceOf(Error);
    expect(tokens.map((t) => t.id)).toEqual(plain.tokens);
    expect(tokens.every((t) => t.top === 4)).toBe(true);
  });
});
