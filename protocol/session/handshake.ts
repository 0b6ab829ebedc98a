/**
 * Session start (authenticated key agreement). The gateway (P1) announces the session's public
 * parameters; the engine (P0) and the dealer (P2) answer with statements signed by their
 * long-term identities (crypto/identity.ts), and each data party agrees a fresh X25519 key with
 * the dealer: k02 for engine–dealer, k12 for gateway–dealer. Keys never outlive the session.
 *
 *   P1 → P0  Hello    [hello]
 *   P1 → P2  Hello    [hello, g]                         g: P1's ephemeral X25519 share
 *   P0 → P1  KeyShare [sig_P0("engine-to-gateway", H)]
 *   P0 → P2  Hello    [hello, e, sig_P0("engine-to-dealer", H, e)]
 *   P2 → P1  KeyShare [d1, sig_P2("dealer-to-gateway", H, g, d1)]
 *   P2 → P0  KeyShare [d2, sig_P2("dealer-to-engine", H, e, d2)]
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

/** Throws a ProtocolViolation by `peer` unless `signature` verifies for the statement under `key`. */
function requireSigned(peer: PartyName, key: { verifies(m: Uint8Array, s: Uint8Array): boolean; fingerprint: string }, statement: Uint8Array, signature: Uint8Array, label: StatementLabel): void {
  if (!key.verifies(statement, signature)) throw new ProtocolViolation(peer, `the ${label} statement is not signed by the ${peer}'s pinned identity ${key.fingerprint}`);
}

export async function gatewayHandshake(net: PartyNetwork, params: SessionParams, trust: GatewayTrust): Promise<SharedKey> {
  const exchange = new KeyExchange();
  const hello = encodeSessionParams(params);
  const h = digestOf(hello);
  const { sessionId } = params;
  net.send('engine', MessageKind.Hello, HANDSHAKE_STEP, [hello], true);
  net.send('dealer', MessageKind.Hello, HANDSHAKE_STEP, [hello, exchange.publicKey], true);
  // Each answer is checked as it arrives: a bad engine signature ends the session without waiting for the dealer.
  const engineChecked = net.receive('engine', MessageKind.KeyShare, HANDSHAKE_STEP).then((fromEngine) =>
    requireSigned('engine', trust.engine, sessionStatement('engine-to-gateway', sessionId, trust.pairingId, [h]), bytesAt(fromEngine, 0, 'engine', 'engine signature'), 'engine-to-gateway'),
  );
  const [, fromDealer] = await Promise.all([engineChecked, net.receive('dealer', MessageKind.KeyShare, HANDSHAKE_STEP)]);
  const dealerShare = bytesAt(fromDealer, 0, 'dealer', 'dealer key share');
  const statement = sessionStatement('dealer-to-gateway', sessionId, trust.pairingId, [h, exchange.publicKey, dealerShare]);
  requireSigned('dealer', trust.dealer, statement, bytesAt(fromDealer, 1, 'dealer', 'dealer signature'), 'dealer-to-gateway');
  return exchange.agree(dealerShare, `${sessionId}/k12`, digestOf(statement));
}

export async function engineHandshake(net: PartyNetwork, limits: { maxContext: number }, trust: EngineTrust): Promise<{ params: SessionParams; k02: SharedKey }> {
  const hello = bytesAt(await net.receive('gateway', MessageKind.Hello, HANDSHAKE_STEP), 0, 'gateway', 'hello');
  const params = decodeSessionParams(hello, limits);
  const h = digestOf(hello);
  const { sessionId } = params;
  net.send('gateway', MessageKind.KeyShare, HANDSHAKE_STEP, [trust.identity.sign(sessionStatement('engine-to-gateway', sessionId, trust.pairingId, [h]))], true);
  const exchange = new KeyExchange();
  const signed = trust.identity.sign(sessionStatement('engine-to-dealer', sessionId, trust.pairingId, [h, exchange.publicKey]));
  net.send('dealer', MessageKind.Hello, HANDSHAKE_STEP, [hello, exchange.publicKey, signed], true);
  const reply = await net.receive('dealer', MessageKind.KeyShare, HANDSHAKE_STEP);
  const dealerShare = bytesAt(reply, 0, 'dealer', 'dealer key share');
  const statement = sessionStatement('dealer-to-engine', sessionId, trust.pairingId, [h, exchange.publicKey, dealerShare]);
  requireSigned('dealer', trust.dealer, statement, bytesAt(reply, 1, 'dealer', 'dealer signature'), 'dealer-to-engine');
  return { params, k02: exchange.agree(dealerShare, `${sessionId}/k02`, digestOf(statement)) };
}

export async function dealerHandshake(net: PartyNetwork, limits: { maxContext: number }, trust: DealerTrust): Promise<{ params: SessionParams; k02: SharedKey; k12: SharedKey }> {
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
  const toGateway = new KeyExchange();
  const toEngine = new KeyExchange();
  const forGateway = sessionStatement('dealer-to-gateway', sessionId, trust.pairingId, [h, gatewayShare, toGateway.publicKey]);
  const forEngine = sessionStatement('dealer-to-engine', sessionId, trust.pairingId, [h, engineShare, toEngine.publicKey]);
  net.send('gateway', MessageKind.KeyShare, HANDSHAKE_STEP, [toGateway.publicKey, trust.identity.sign(forGateway)], true);
  net.send('engine', MessageKind.KeyShare, HANDSHAKE_STEP, [toEngine.publicKey, trust.identity.sign(forEngine)], true);
  await net.flush();
  return {
    params,
    k12: toGateway.agree(gatewayShare, `${sessionId}/k12`, digestOf(forGateway)),
    k02: toEngine.agree(engineShare, `${sessionId}/k02`, digestOf(forEngine)),
  };
}
