/**
 * PartyNetwork against a hostile peer: malformed, oversized, replayed, out-of-order, unexpected
 * and nested frames all end in a ProtocolViolation naming the peer (a rejected promise that
 * ends the session), never in another exception or a crash. Also: a sub-protocol run against a
 * peer that sends garbage fails the same way, while fusion and sequencing work for honest peers.
 */
import { describe, expect, it } from 'vitest';
import { defaultBackend } from '../../compute/onnx-backend.js';
import { SharedKey } from '../../crypto/key-agreement.js';
import { PERMLLM_PROFILE } from '../masks/mask-profile.js';
import { dealerRoleWeights, engineRoleWeights } from '../session/pairing.js';
import type { PartyContext } from '../session/party-context.js';
import { mulW } from '../subprotocols/mul-w.js';
import { encodeFrame, MessageKind, type Frame } from '../wire/frame.js';
import { inProcessLinkPair } from './in-process-link.js';
import type { MessageLink } from './message-link.js';
import { PartyNetwork, ProtocolViolation } from './party-network.js';

const MAX = 1 << 16;

/** An engine-side PartyNetwork whose gateway link the test drives by hand (raw bytes). */
function engineFacingRawGateway(): { net: PartyNetwork; raw: MessageLink } {
  const [engineEnd, gatewayEnd] = inProcessLinkPair();
  const net = new PartyNetwork('engine', { floatType: 'float64', maxFrameBytes: MAX });
  net.connect('gateway', engineEnd);
  return { net, raw: gatewayEnd };
}

function frame(over: Partial<Frame> = {}): Frame {
  return { kind: MessageKind.MulWInput, seq: 0, step: 1, depth: 1, offline: false, parts: [Float64Array.from([1, 2])], ...over };
}

async function expectViolation(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProtocolViolation);
  expect((error as ProtocolViolation).peer).toBe('gateway');
  expect((error as Error).message).toMatch(pattern);
}

describe('PartyNetwork against a hostile peer', () => {
  it('accepts an honest frame and checks kind and step', async () => {
    const { net, raw } = engineFacingRawGateway();
    await raw.send(encodeFrame(frame()));
    expect(await net.receive('gateway', MessageKind.MulWInput, 1)).toEqual([Float64Array.from([1, 2])]);
    await raw.send(encodeFrame(frame({ seq: 1, step: 2 })));
    await expectViolation(net.receive('gateway', MessageKind.MulWInput, 3), /expected MulWInput for step 3, got MulWInput for step 2/);
    await raw.send(encodeFrame(frame({ seq: 2, kind: MessageKind.ElemReturn, step: 4 })));
    await expectViolation(net.receive('gateway', MessageKind.MulWInput, 4), /expected MulWInput for step 4, got ElemReturn/);
  });

  it('rejects malformed bytes: bad magic, truncated, trailing bytes, unknown kind', async () => {
    const good = encodeFrame(frame());
    const badMagic = good.slice();
    badMagic[0] = 0;
    const unknownKind = good.slice();
    unknownKind[3] = 200;
    const trailing = new Uint8Array(good.length + 8);
    trailing.set(good);
    for (const [bytes, pattern] of [
      [badMagic, /bad magic/],
      [good.slice(0, 10), /shorter than the header/],
      [good.slice(0, good.length - 8), /runs past the end/],
      [trailing, /trailing bytes/],
      [unknownKind, /unknown kind 200/],
    ] as const) {
      const { net, raw } = engineFacingRawGateway();
      await raw.send(bytes);
      await expectViolation(net.receive('gateway', MessageKind.MulWInput, 1), pattern);
    }
  });

  it('rejects an oversized frame', async () => {
    const { net, raw } = engineFacingRawGateway();
    await raw.send(encodeFrame(frame({ parts: [new Float64Array(MAX / 8)] })));
    await expectViolation(net.receive('gateway', MessageKind.MulWInput, 1), /exceeds the limit/);
  });

  it('rejects a replayed frame and an out-of-order frame by their sequence numbers', async () => {
    const replay = engineFacingRawGateway();
    const first = encodeFrame(frame());
    await replay.raw.send(first);
    await replay.net.receive('gateway', MessageKind.MulWInput, 1);
    await replay.raw.send(first);
    await expectViolation(replay.net.receive('gateway', MessageKind.MulWInput, 1), /frame seq 0, expected 1 \(replayed or out of order\)/);

    const reorder = engineFacingRawGateway();
    await reorder.raw.send(encodeFrame(frame({ seq: 1, step: 2 })));
    await reorder.raw.send(encodeFrame(frame({ seq: 0, step: 1 })));
    await expectViolation(reorder.net.receive('gateway', MessageKind.MulWInput, 1), /frame seq 1, expected 0/);
  });

  it('turns a peer’s error frame into a violation carrying its text', async () => {
    const { net, raw } = engineFacingRawGateway();
    await raw.send(encodeFrame(frame({ kind: MessageKind.Error, parts: [new TextEncoder().encode('out of memory')] })));
    await expectViolation(net.receive('gateway', MessageKind.MulWInput, 1), /peer reported an error: out of memory/);
  });

  it('rejects bad fused frames: a non-byte part, a nested fused frame, a malformed inner frame, no parts at all', async () => {
    const inner = encodeFrame(frame({ seq: 0 }));
    const nested = encodeFrame(frame({ kind: MessageKind.Fused, parts: [inner] }));
    const badInner = inner.slice();
    badInner[0] = 0;
    for (const [parts, pattern] of [
      [[Float64Array.from([1])], /non-byte part/],
      [[nested], /nested fused frame/],
      [[badInner], /bad magic/],
      [[], /empty fused frame/],
    ] as const) {
      const { net, raw } = engineFacingRawGateway();
      await raw.send(encodeFrame(frame({ kind: MessageKind.Fused, parts: [...parts] })));
      await expectViolation(net.receive('gateway', MessageKind.MulWInput, 1), pattern);
    }
  });

  it('unpacks an honest fused frame into its messages, in order', async () => {
    const { net, raw } = engineFacingRawGateway();
    const a = encodeFrame(frame({ seq: 0, step: 1 }));
    const b = encodeFrame(frame({ seq: 1, step: 2, kind: MessageKind.PermInput, parts: [Float64Array.from([3])] }));
    await raw.send(encodeFrame({ kind: MessageKind.Fused, seq: 0, step: 1, depth: 1, offline: false, parts: [a, b] }));
    expect(await net.receive('gateway', MessageKind.MulWInput, 1)).toEqual([Float64Array.from([1, 2])]);
    expect(await net.receive('gateway', MessageKind.PermInput, 2)).toEqual([Float64Array.from([3])]);
  });

  it('fuses same-direction messages into one physical frame, and sends each alone when fusion is off', async () => {
    for (const fuse of [true, false]) {
      const [a, b] = inProcessLinkPair();
      const sender = new PartyNetwork('gateway', { floatType: 'float64', maxFrameBytes: MAX, fuse });
      const receiver = new PartyNetwork('engine', { floatType: 'float64', maxFrameBytes: MAX });
      sender.connect('engine', a);
      receiver.connect('gateway', b);
      sender.send('engine', MessageKind.PermInput, 1, [Float64Array.from([1])], true);
      sender.send('engine', MessageKind.MulWInput, 2, [Float64Array.from([2])]);
      await sender.flush();
      expect(await receiver.receive('gateway', MessageKind.PermInput, 1)).toEqual([Float64Array.from([1])]);
      expect(await receiver.receive('gateway', MessageKind.MulWInput, 2)).toEqual([Float64Array.from([2])]);
      expect(sender.meter.sent.get('engine')!.frames).toBe(fuse ? 1 : 2);
      expect(receiver.meter.received.get('gateway')!.frames).toBe(fuse ? 1 : 2);
    }
  });

  it('a sub-protocol facing a gateway that sends garbage ends with a ProtocolViolation (engine and dealer)', async () => {
    const [engineToGateway, gatewayRaw] = inProcessLinkPair();
    const [engineToDealer, dealerToEngine] = inProcessLinkPair();
    const [dealerToGateway, gatewayFromDealer] = inProcessLinkPair();
    const engineNet = new PartyNetwork('engine', { floatType: 'float64', maxFrameBytes: MAX });
    engineNet.connect('gateway', engineToGateway);
    engineNet.connect('dealer', engineToDealer);
    const dealerNet = new PartyNetwork('dealer', { floatType: 'float64', maxFrameBytes: MAX });
    dealerNet.connect('engine', dealerToEngine);
    dealerNet.connect('gateway', dealerToGateway);
    const k02 = SharedKey.random();
    const pairing = SharedKey.random();
    const weight = { name: 'w', op: 'linear' as const, outDim: 2, inDim: 2, scale: 1, hasBias: false, data: Float64Array.from([1, 0, 0, 1]) };
    const base = { profile: PERMLLM_PROFILE, backend: defaultBackend(), step: 0 };
    const engine: PartyContext = { ...base, role: 'engine', net: engineNet, k02, k12: undefined };
    const dealer: PartyContext = { ...base, role: 'dealer', net: dealerNet, k02, k12: SharedKey.random() };
    const input = { meta: { family: 'normed' as const, offlineKnown: false }, size: 2 };
    const engineRun = mulW(engine, engineRoleWeights(new Map([['w', weight]])).get('w')!, { ...input, share: new Float64Array(2) }, 1, 'query');
    const dealerRun = mulW(dealer, dealerRoleWeights(pairing, PERMLLM_PROFILE, [weight]).get('w')!, { ...input, share: undefined }, 1, 'query');
    await gatewayRaw.send(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: engine\r\n\r\n'));
    await expectViolation(engineRun, /bad magic/);
    await dealerRun; // the dealer's material was sent; it never waits on the gateway
    expect(gatewayFromDealer.isClosed).toBe(false);
    engineNet.close();
    dealerNet.close();
  });
});
