/**
 * Session start: the gateway announces the session's public parameters to the engine and the
 * dealer, and each data party agrees a fresh key with the dealer (X25519 + HKDF bound to the
 * session id): k02 for engine–dealer, k12 for gateway–dealer. Keys never outlive the session.
 */
import { KeyExchange, type SharedKey } from '../../crypto/key-agreement.js';
import type { PartyNetwork } from '../transport/party-network.js';
import { MessageKind } from '../wire/frame.js';
import { decodeSessionParams, encodeSessionParams, type SessionParams } from './session-params.js';

const HANDSHAKE_STEP = 0;

function bytesPart(parts: unknown[], what: string): Uint8Array {
  const p = parts[0];
  if (!(p instanceof Uint8Array)) throw new Error(`${what}: expected bytes`);
  return p;
}

export async function gatewayHandshake(net: PartyNetwork, params: SessionParams): Promise<SharedKey> {
  const exchange = new KeyExchange();
  const hello = encodeSessionParams(params);
  net.send('engine', MessageKind.Hello, HANDSHAKE_STEP, [hello], true);
  net.send('dealer', MessageKind.Hello, HANDSHAKE_STEP, [hello, exchange.publicKey], true);
  const reply = await net.receive('dealer', MessageKind.KeyShare, HANDSHAKE_STEP);
  return exchange.agree(bytesPart(reply, 'dealer key share'), `${params.sessionId}/k12`);
}

export async function engineHandshake(net: PartyNetwork, limits: { maxContext: number }): Promise<{ params: SessionParams; k02: SharedKey }> {
  const params = decodeSessionParams(bytesPart(await net.receive('gateway', MessageKind.Hello, HANDSHAKE_STEP), 'hello'), limits);
  const exchange = new KeyExchange();
  net.send('dealer', MessageKind.Hello, HANDSHAKE_STEP, [encodeSessionParams(params), exchange.publicKey], true);
  const reply = await net.receive('dealer', MessageKind.KeyShare, HANDSHAKE_STEP);
  return { params, k02: exchange.agree(bytesPart(reply, 'dealer key share'), `${params.sessionId}/k02`) };
}

export async function dealerHandshake(net: PartyNetwork, limits: { maxContext: number }): Promise<{ params: SessionParams; k02: SharedKey; k12: SharedKey }> {
  const fromGateway = await net.receive('gateway', MessageKind.Hello, HANDSHAKE_STEP);
  const params = decodeSessionParams(bytesPart(fromGateway, 'gateway hello'), limits);
  const fromEngine = await net.receive('engine', MessageKind.Hello, HANDSHAKE_STEP);
  const engineParams = decodeSessionParams(bytesPart(fromEngine, 'engine hello'), limits);
  if (JSON.stringify(engineParams) !== JSON.stringify(params)) throw new Error('handshake: engine and gateway disagree on the session parameters');
  const gatewayKey = fromGateway[1];
  const engineKey = fromEngine[1];
  if (!(gatewayKey instanceof Uint8Array) || !(engineKey instanceof Uint8Array)) throw new Error('handshake: missing key share');
  const toGateway = new KeyExchange();
  const toEngine = new KeyExchange();
  net.send('gateway', MessageKind.KeyShare, HANDSHAKE_STEP, [toGateway.publicKey], true);
  net.send('engine', MessageKind.KeyShare, HANDSHAKE_STEP, [toEngine.publicKey], true);
  await net.flush();
  return {
    params,
    k12: toGateway.agree(gatewayKey, `${params.sessionId}/k12`),
    k02: toEngine.agree(engineKey, `${params.sessionId}/k02`),
  };
}
