/**
 * The authenticated handshake between the three parties in one process: honest parties agree the
 * same k12 and k02; a dealer or engine signing with any other key than the one pinned is a
 * protocol violation, and a signature cannot be moved from one statement (role) to another.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SigningIdentity } from '../../crypto/identity.js';
import { inProcessLinkPair } from '../transport/in-process-link.js';
import type { MessageLink } from '../transport/message-link.js';
import { decodeFrame, encodeFrame, MessageKind } from '../wire/frame.js';
import { PartyNetwork, ProtocolViolation, type PartyName } from '../transport/party-network.js';
import { dealerHandshake, engineHandshake, gatewayHandshake, gatewaySessionStart } from './handshake.js';
import type { SessionParams } from './session-params.js';
import { sessionStatement } from './session-statement.js';
import { localTrust } from './session-trust.js';

const limits = { maxContext: 64 };
const params = (): SessionParams => ({ sessionId: randomBytes(16).toString('hex'), promptLength: 3, maxNewTokens: 2, profile: 'permllm-f64', lookupsPerToken: 1, optimized: true });

/** `tamper` rewrites frames arriving at the gateway (from engine or dealer). */
function wire(tamper?: (from: PartyName, frame: Uint8Array) => Uint8Array) {
  const nets = Object.fromEntries((['gateway', 'engine', 'dealer'] as const).map((p) => [p, new PartyNetwork(p, { floatType: 'float64', maxFrameBytes: 1 << 20 })])) as Record<PartyName, PartyNetwork>;
  for (const [a, b] of [['gateway', 'engine'], ['gateway', 'dealer'], ['engine', 'dealer']] as const) {
    const [ab, ba] = inProcessLinkPair();
    const intercepted: MessageLink = a === 'gateway' && tamper ? { send: (f) => ab.send(f), receive: async (signal) => tamper(b, await ab.receive(signal)), close: (r) => ab.close(r), get isClosed() { return ab.isClosed; } } : ab;
    nets[a].connect(b, intercepted);
    nets[b].connect(a, ba);
  }
  return nets;
}

/** The frame with its resume flag (the last part of a KeyShare) set to 1. */
function claimResumed(frame: Uint8Array): Uint8Array {
  const decoded = decodeFrame(frame, 1 << 20);
  if (decoded.kind !== MessageKind.KeyShare) return frame;
  return encodeFrame({ ...decoded, parts: [...decoded.parts.slice(0, -1), Uint8Array.of(1)] });
}

const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));

describe('authenticated handshake', () => {
  it('honest parties agree the same keys', async () => {
    const trust = localTrust(randomBytes(16).toString('hex'));
    const nets = wire();
    const [k12, engine, dealer] = await Promise.all([gatewayHandshake(nets.gateway, params(), trust.gateway), engineHandshake(nets.engine, limits, trust.engine), dealerHandshake(nets.dealer, limits, trust.dealer)]);
    expect(Buffer.from(k12.exportBytes()).equals(Buffer.from(dealer.k12.exportBytes()))).toBe(true);
    expect(Buffer.from(engine.k02.exportBytes()).equals(Buffer.from(dealer.k02.exportBytes()))).toBe(true);
  });

  it('answers a resume request with signed flags; a flag changed on the wire does not verify', async () => {
    const trust = localTrust(randomBytes(16).toString('hex'));
    const resume = { ...params(), promptLength: 5, resume: { sessionId: randomBytes(16).toString('hex'), length: 3 } };
    const holds = (answer: boolean) => ({ ...limits, resume: async () => answer });
    let nets = wire();
    const [gateway] = await Promise.all([gatewaySessionStart(nets.gateway, resume, trust.gateway), engineHandshake(nets.engine, holds(true), trust.engine), dealerHandshake(nets.dealer, holds(false), trust.dealer)]);
    expect(gateway.resumed).toEqual({ engine: true, dealer: false });
    for (const liar of ['engine', 'dealer'] as const) {
      nets = wire((from, frame) => (from === liar ? claimResumed(frame) : frame));
      const [result] = await Promise.all([settle(gatewaySessionStart(nets.gateway, resume, trust.gateway)), settle(engineHandshake(nets.engine, holds(false), trust.engine)), settle(dealerHandshake(nets.dealer, holds(false), trust.dealer))]);
      expect(String('error' in result && result.error)).toMatch(new RegExp(`the ${liar}-to-gateway statement is not signed`));
    }
  });

  it('a dealer that is not the pinned one is refused by the gateway and the engine', async () => {
    const trust = localTrust(randomBytes(16).toString('hex'));
    const impostor = { ...trust.dealer, identity: SigningIdentity.generate() };
    const nets = wire();
    const [gateway, engine] = await Promise.all([settle(gatewayHandshake(nets.gateway, params(), trust.gateway)), settle(engineHandshake(nets.engine, limits, trust.engine)), settle(dealerHandshake(nets.dealer, limits, impostor))]);
    for (const side of [gateway, engine]) {
      expect('error' in side && side.error).toBeInstanceOf(ProtocolViolation);
      expect(String('error' in side && side.error)).toMatch(/not signed by the dealer's pinned identity/);
    }
  });

  it('an engine that is not the paired one is refused by the dealer', async () => {
    const trust = localTrust(randomBytes(16).toString('hex'));
    const nets = wire();
    const engine = settle(engineHandshake(nets.engine, limits, { ...trust.engine, identity: SigningIdentity.generate() }));
    const [gateway, dealer] = await Promise.all([settle(gatewayHandshake(nets.gateway, params(), trust.gateway)), settle(dealerHandshake(nets.dealer, limits, trust.dealer))]);
    expect(String('error' in dealer && dealer.error)).toMatch(/protocol violation by engine: the engine-to-dealer statement is not signed/);
    expect(String('error' in gateway && gateway.error)).toMatch(/protocol violation by engine: the engine-to-gateway statement is not signed/);
    nets.engine.close(); // its dealer never answers (a session host closes the links)
    expect('error' in (await engine)).toBe(true);
  });

  it('statements differ by role, session and pairing, so a signature verifies for no other', () => {
    const id = SigningIdentity.generate();
    const share = randomBytes(32);
    const base = sessionStatement('dealer-to-engine', 'a'.repeat(32), 'b'.repeat(32), [share]);
    const signature = id.sign(base);
    expect(id.peer.verifies(base, signature)).toBe(true);
    for (const other of [
      sessionStatement('dealer-to-gateway', 'a'.repeat(32), 'b'.repeat(32), [share]),
      sessionStatement('dealer-to-engine', 'c'.repeat(32), 'b'.repeat(32), [share]),
      sessionStatement('dealer-to-engine', 'a'.repeat(32), 'c'.repeat(32), [share]),
      sessionStatement('dealer-to-engine', 'a'.repeat(32), 'b'.repeat(32), [share.subarray(0, 16), share.subarray(16)]),
    ]) {
      expect(id.peer.verifies(other, signature)).toBe(false);
    }
  });
});
