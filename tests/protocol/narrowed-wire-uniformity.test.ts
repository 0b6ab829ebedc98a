/**
 * The narrowed Perm flights on the wire (ring-narrowing.ts): every byte of every narrowed part
 * the engine receives from the gateway (x1 − A mod 2^(8w)) and the gateway receives from the
 * engine ((π(x) − B) mod 2^(8w)) must be uniform, whatever the data, because the masks are
 * uniform on the ring and the message is their residue. Tested on the real frames of a private
 * session (not on the parties' taps): a χ² test of each byte position against the uniform
 * distribution. Control: `ring64-weak-test` (masks uniform on ±2^19 only), whose upper bytes are
 * sign bytes, must fail it by far.
 */
import { describe, expect, it } from 'vitest';
import { runDealerSession } from '../../dealer/dealer-session.js';
import { runEngineSession } from '../../engine/private/engine-session.js';
import { privateGenerate } from '../../gateway/private/private-generation.js';
import { pairInProcessFor, type InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import { RING64_PROFILE, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { decodeFrame, MessageKind, NarrowedRing, type Frame } from '../../protocol/wire/frame.js';
import { GREEDY } from '../helpers/private-vs-plaintext.js';

const WEAK_PROFILE: MaskProfile = Object.freeze({ ...RING64_PROFILE, name: 'ring64-weak-test', hiding: 'statistical', ringMaskBits: 20 });

/** A link whose received frames are also handed to `record`. */
function recording(link: MessageLink, record: (frame: Uint8Array) => void): MessageLink {
  return {
    send: (f) => link.send(f),
    receive: async (signal) => {
      const f = await link.receive(signal);
      record(f);
      return f;
    },
    close: (r) => link.close(r),
    get isClosed() {
      return link.isClosed;
    },
  };
}

/** Per byte position of each width: a 256-bin histogram of the narrowed parts of `kind` messages. */
type Histograms = Map<number, number[][]>;

function collect(into: Histograms, kind: MessageKind): (data: Uint8Array) => void {
  const visit = (frame: Frame) => {
    if (frame.kind === MessageKind.Fused) {
      for (const p of frame.parts) visit(decodeFrame(p as Uint8Array, Number.MAX_SAFE_INTEGER));
      return;
    }
    if (frame.kind !== kind) return;
    for (const part of frame.parts) {
      if (!(part instanceof NarrowedRing)) continue;
      const w = part.width;
      if (!into.has(w)) into.set(w, Array.from({ length: w }, () => new Array<number>(256).fill(0)));
      const h = into.get(w)!;
      const bytes = new Uint8Array(part.values.buffer, part.values.byteOffset, part.values.byteLength);
      for (let i = 0; i < part.length; i++) for (let b = 0; b < w; b++) h[b]![bytes[8 * i + b]!]!++;
    }
  };
  return (data) => visit(decodeFrame(data, Number.MAX_SAFE_INTEGER));
}

/** χ² of a histogram against the uniform distribution (255 degrees of freedom). */
function chiSquare(bins: number[]): number {
  const n = bins.reduce((a, b) => a + b, 0);
  const e = n / bins.length;
  return bins.reduce((s, o) => s + ((o - e) * (o - e)) / e, 0);
}

async function session(parties: InProcessParties, prompt: number[]): Promise<{ toEngine: Histograms; toGateway: Histograms }> {
  const toEngine: Histograms = new Map();
  const toGateway: Histograms = new Map();
  const [gatewayToEngine, engineToGateway] = inProcessLinkPair();
  const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(256);
  const [engineToDealer, dealerToEngine] = inProcessLinkPair(256);
  const engine = runEngineSession({ gateway: recording(engineToGateway, collect(toEngine, MessageKind.PermInput)), dealer: engineToDealer }, parties.engine, parties.trust.engine);
  const dealer = runDealerSession({ gateway: dealerToGateway, engine: dealerToEngine }, parties.dealer, parties.trust.dealer);
  const events = privateGenerate({ engine: recording(gatewayToEngine, collect(toGateway, MessageKind.PermOutput)), dealer: gatewayToDealer }, parties.gateway, {
    promptTokens: prompt,
    maxTokens: 3,
    sampling: GREEDY,
    adjustments: {},
    stopIds: new Set(),
  }, parties.trust.gateway);
  for await (const _ of events) void _;
  await Promise.all([engine, dealer]);
  return { toEngine, toGateway };
}

/** The largest χ² over every byte position of every width, both directions, and how many bytes went into it. */
function worst(h: { toEngine: Histograms; toGateway: Histograms }): { chi: number; bytes: number } {
  let chi = 0;
  let bytes = 0;
  for (const side of [h.toEngine, h.toGateway]) {
    for (const positions of side.values()) {
      for (const bins of positions) {
        chi = Math.max(chi, chiSquare(bins));
        bytes += bins.reduce((a, b) => a + b, 0);
      }
    }
  }
  return { chi, bytes };
}

describe('narrowed Perm flights are uniform on the wire', () => {
  it('ring64: every byte position passes a χ² test against uniform; the weak control fails it by far', async () => {
    const model = await loadModel(defaultModelPath());
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const ring = worst(await session(await pairInProcessFor(model, RING64_PROFILE), prompt));
    const weak = worst(await session(await pairInProcessFor(model, WEAK_PROFILE), prompt));
    // 255 degrees of freedom: mean 255, sd √510 ≈ 22.6; 400 is 6.4 sd above the mean (p ≈ 1e-10 per position).
    const BOUND = 400;
    console.log(`narrowed Perm bytes on the wire: ring64 worst χ² ${ring.chi.toFixed(1)} over ${ring.bytes} bytes (bound ${BOUND}); weak control worst χ² ${weak.chi.toFixed(0)}`);
    expect(ring.bytes).toBeGreaterThan(50_000);
    expect(ring.chi).toBeLessThan(BOUND);
    expect(weak.chi).toBeGreaterThan(100 * BOUND);
  }, 300_000);
});
