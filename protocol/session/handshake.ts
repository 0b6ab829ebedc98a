/**
 * Session start (authenticated key agreement). The gateway (P1) announces the session's public
 * parameters; the engine (P0) and the dealer (P2) answer with statements signed by their
 * long-term identities (crypto/identity.ts), and each data party agrees a fresh X25519 key with
 * the dealer: k02 for engine–dealer, k12 for gateway–dealer. Keys never outlive the session.
 *
 *   P1 → P0  Hello    [hello]
 *   P1 → P2  Hello    [hello, g]                         g: P1's ephemeral X25519 share
 *   P0 → P1  KeyShare [sig_P0("engine-to-gateway", H, r0), r0]
 *   P0 → P2  Hello    [hello, e, sig_P0("engine-to-dealer", H, e)]
 *   P2 → P1  KeyShare [d1, sig_P2("dealer-to-gateway", H, g, d1, r2), r2]
 *   P2 → P0  KeyShare [d2, sig_P2("dealer-to-engine", H, e, d2)]
 *
 * r0, r2 (one byte, signed): 1 when the hello asks to resume a kept conversation state
 * (SessionParams.resume) and this party holds it, else 0. The gateway continues the state only
 * when both say 1, and otherwise ends this session before sending anything and starts afresh.
 *
 * H = SHA-256(hello). Every statement also carries the handshake version, the session id and the
 * pairing id (session-statement.ts), so a signature made for one role, session or pairing
 * verifies for no other, and the dealer's statements cover the peer's own fresh share, so an old
 * one cannot be replayed. k12 and k02 are HKDF'd with the digest of the dealer's statement as
 * salt. The dealer accepts the engine's share only under the identity of the engine that made
 * the pairing; the gateway accepts nothing it has not verified against its pinned identities,
 * and sends nothing that depends on the prompt before both signatures verified.
 */
import { KeyExchange, type SharedKey } from '../../crypto/key-agreement.js';
import { ProtocolViolation, type PartyName, type PartyNetwork } from '../transport/party-network.js';
import { MessageKind } from '../wire/frame.js';
import { decodeSessionParams, encodeSessionParams, type SessionParams } from './session-params.js';
import { digestOf, sessionStatement, type StatementLabel } from './session-statement.js';
import type { DealerTrust, EngineTrust, GatewayTrust } from './session-trust.js';

const HANDSHAKE_STEP = 0;

function bytesAt(parts: unknown[], index: number, peer: PartyName, what: string): Uint8Array {
  const p = parts[index];
  if (!(p instanceof Uint8Array)) throw new ProtocolViolation(peer, `${what}: expected bytes`);
  return p;
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/** What the engine and the dealer are told about a session's request to resume kept state. */
export interface ResumeLimits {
  maxContext: number;
  /**
   * Called when the hello asks to resume (params.resume): whether this party holds that state
   * (and has taken it for this session). Absent = never.
   */
  resume?: (params: SessionParams) => Promise<boolean>;
}

/** Which of the engine and the dealer hold the state a resumed session asked for. */
export interface ResumeAnswers {
  engine: boolean;
  dealer: boolean;
}

const flagByte = (yes: boolean) => Uint8Array.of(yes ? 1 : 0);

function flagAt(parts: unknown[], index: number, peer: PartyName): Uint8Array {
  const p = bytesAt(parts, index, peer, 'resume flag');
  if (p.length !== 1 || p[0]! > 1) throw new ProtocolViolation(peer, 'resume flag: expected one byte, 0 or 1');
  return p;
}

async function resumeAnswer(params: SessionParams, limits: ResumeLimits): Promise<boolean> {
  return params.resume !== undefined && limits.resume !== undefined && (await limits.resume(params));
}

/** Throws a ProtocolViolation by `peer` unless `signature` verifies for the statement under `key`. */
function requireSigned(peer: PartyName, key: { verifies(m: Uint8Array, s: Uint8Array): boolean; fingerprint: string }, statement: Uint8Array, signature: Uint8Array, label: StatementLabel): void {
  if (!key.verifies(statement, signature)) throw new ProtocolViolation(peer, `the ${label} statement is not signed by the ${peer}'s pinned identity ${key.fingerprint}`);
}

export async function gatewayHandshake(net: PartyNetwork, params: SessionParams, trust: GatewayTrust): Promise<SharedKey> {
  return (await gatewaySessionStart(net, params, trust)).k12;
}

/** The gateway's handshake, with the engine's and the dealer's signed answers to params.resume. */
export async function gatewaySessionStart(net: PartyNetwork, params: SessionParams, trust: GatewayTrust): Promise<{ k12: SharedKey; resumed: ResumeAnswers }> {
  const exchange = new KeyExchange();
  const hello = encodeSessionParams(params);
  const h = digestOf(hello);
  const { sessionId } = params;
  net.send('engine', MessageKind.Hello, HANDSHAKE_STEP, [hello], true);
  net.send('dealer', MessageKind.Hello, HANDSHAKE_STEP, [hello, exchange.publicKey], true);
  // Each answer is checked as it arrives: a bad engine signature ends the session without waiting for the dealer.
  const engineChecked = net.receive('engine', MessageKind.KeyShare, HANDSHAKE_STEP).then((fromEngine) => {
    const flag = flagAt(fromEngine, 1, 'engine');
    requireSigned('engine', trust.engine, sessionStatement('engine-to-gateway', sessionId, trust.pairingId, [h, flag]), bytesAt(fromEngine, 0, 'engine', 'engine signature'), 'engine-to-gateway');
    return flag[0] === 1;
  });
  const [engineResumed, fromDealer] = await Promise.all([engineChecked, net.receive('dealer', MessageKind.KeyShare, HANDSHAKE_STEP)]);
  const dealerShare = bytesAt(fromDealer, 0, 'dealer', 'dealer key share');
  const flag = flagAt(fromDealer, 2, 'dealer');
  const statement = sessionStatement('dealer-to-gateway', sessionId, trust.pairingId, [h, exchange.publicKey, dealerShare, flag]);
  requireSigned('dealer', trust.dealer, statement, bytesAt(fromDealer, 1, 'dealer', 'dealer signature'), 'dealer-to-gateway');
  return { k12: exchange.agree(dealerShare, `${sessionId}/k12`, digestOf(statement)), resumed: { engine: engineResumed, dealer: flag[0] === 1 } };
}

export async function engineHandshake(net: PartyNetwork, limits: ResumeLimits, trust: EngineTrust): Promise<{ params: SessionParams; k02: SharedKey; resumed: boolean }> {
  const hello = bytesAt(await net.receive('gateway', MessageKind.Hello, HANDSHAKE_STEP), 0, 'gateway', 'hello');
  const params = decodeSessionParams(hello, limits);
  const h = digestOf(hello);
  const { sessionId } = params;
  const resumed = await resumeAnswer(params, limits);
  const flag = flagByte(resumed);
  net.send('gateway', MessageKind.KeyShare, HANDSHAKE_STEP, [trust.identity.sign(sessionStatement('engine-to-gateway', sessionId, trust.pairingId, [h, flag])), flag], true);
  const exchange = new KeyExchange();
  const signed = trust.identity.sign(sessionStatement('engine-to-dealer', sessionId, trust.pairingId, [h, exchange.publicKey]));
  net.send('dealer', MessageKind.Hello, HANDSHAKE_STEP, [hello, exchange.publicKey, signed], true);
  const reply = await net.receive('dealer', MessageKind.KeyShare, HANDSHAKE_STEP);
  const dealerShare = bytesAt(reply, 0, 'dealer', 'dealer key share');
  const statement = sessionStatement('dealer-to-engine', sessionId, trust.pairingId, [h, exchange.publicKey, dealerShare]);
  requireSigned('dealer', trust.dealer, statement, bytesAt(reply, 1, 'dealer', 'dealer signature'), 'dealer-to-engine');
  return { params, k02: exchange.agree(dealerShare, `${sessionId}/k02`, digestOf(statement)), resumed };
}

export async function dealerHandshake(net: PartyNetwork, limits: ResumeLimits, trust: DealerTrust): Promise<{ params: SessionParams; k02: SharedKey; k12: SharedKey; resumed: boolean }> {
  const fromGateway = await net.receive('gateway', MessageKind.Hello, HANDSHAKE_STEP);
  const hello = bytesAt(fromGateway, 0, 'gateway', 'gateway hello');
  const params = decodeSessionParams(hello, limits);
  const gatewayShare = bytesAt(fromGateway, 1, 'gateway', 'gateway key share');
  const fromEngine = await net.receive('engine', MessageKind.Hello, HANDSHAKE_STEP);
  const engineHello = bytesAt(fromEngine, 0, 'engine', 'engine hello');
  if (!equalBytes(engineHello, hello)) throw new ProtocolViolation('engine', 'handshake: engine and gateway disagree on the session parameters');
  const engineShare = bytesAt(fromEngine, 1, 'engine', 'engine key share');
  const h = digestOf(hello);
  const { sessionId } = params;
  requireSigned('engine', trust.engine, sessionStatement('engine-to-dealer', sessionId, trust.pairingId, [h, engineShare]), bytesAt(fromEngine, 2, 'engine', 'engine signature'), 'engine-to-dealer');
  const resumed = await resumeAnswer(params, limits);
  const flag = flagByte(resumed);
  const toGateway = new KeyExchange();
  const toEngine = new KeyExchange();
  const forGateway = sessionStatement('dealer-to-gateway', sessionId, trust.pairingId, [h, gatewayShare, toGateway.publicKey, flag]);
  const forEngine = sessionStatement('dealer-to-engine', sessionId, trust.pairingId, [h, engineShare, toEngine.publicKey]);
  net.send('gateway', MessageKind.KeyShare, HANDSHAKE_STEP, [toGateway.publicKey, trust.identity.sign(forGateway), flag], true);
  net.send('engine', MessageKind.KeyShare, HANDSHAKE_STEP, [toEngine.publicKey, trust.identity.sign(forEngine)], true);
  await net.flush();
  return {
    params,
    resumed,
    k12: toGateway.agree(gatewayShare, `${sessionId}/k12`, digestOf(forGateway)),
    k02: toEngine.agree(engineShare, `${sessionId}/k02`, digestOf(forEngine)),
  };
}
