/**
 * Turns what can go wrong in a networked session into the gateway's error hierarchy, with
 * messages that say which party and what happened (never a token or key):
 * - a party unreachable, busy, shutting down, or unable to reach the dealer → 503 EngineUnavailable
 * - credentials refused → 502 EngineError, not retryable
 * - a party lost or ending the session mid-way, a protocol violation → 502 EngineError
 */
import { EngineError, EngineUnavailableError, GatewayError } from '../errors/index.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { isTlsErrorCode } from '../../protocol/transport/control-client.js';
import { LinkClosedError } from '../../protocol/transport/message-link.js';
import { ProtocolViolation } from '../../protocol/transport/party-network.js';
import { PeerEndedError } from '../../protocol/transport/peer-ended-error.js';
import { LinkConnectError } from '../../protocol/transport/ws-connect.js';

export interface ClassifiedError {
  error: GatewayError;
  /** The party this says is down (for readiness), if any. */
  down?: { peer: 'engine' | 'dealer'; reason: string };
  /** The engine refused a stale pairing: the masked model must be fetched again. */
  stalePairing?: boolean;
}

export function classifySessionError(error: unknown): ClassifiedError {
  if (error instanceof GatewayError) return { error };
  if (error instanceof LinkConnectError) {
    const peer = error.peer === 'dealer' ? 'dealer' : 'engine';
    if (error.status === undefined && error.errno !== undefined && isTlsErrorCode(error.errno)) {
      return { error: new EngineError(`Cannot verify the ${peer}'s TLS certificate (${error.errno}); start the gateway with --ca FILE.`, { retryable: false }) };
    }
    if (error.status === undefined) {
      const reason = `${peer} unreachable at ${error.origin} (${error.errno ?? 'connection failed'})`;
      return { error: new EngineUnavailableError(`The ${reason}.`), down: { peer, reason } };
    }
    if (error.status === 401 || error.status === 403) {
      return { error: new EngineError(`The ${peer} refused this gateway's credential (HTTP ${error.status}); check PERMLLM_CREDENTIAL (the user credential from the engine's operator).`, { retryable: false }) };
    }
    if (error.status === 409 && peer === 'engine' && error.message.includes('stale pairing')) {
      return { error: new EngineUnavailableError('The engine has a new pairing; the gateway is downloading the new masked model.'), stalePairing: true };
    }
    if (error.status === 503 || error.status === 409 || error.status === 429) return { error: new EngineUnavailableError(`The ${peer} cannot take this session now: ${error.message}`) };
    return { error: new EngineError(error.message) };
  }
  if (error instanceof PeerEndedError) {
    const peer = error.peer === 'dealer' ? 'dealer' : 'engine';
    const words = error.ended.reasonText || error.message;
    switch (error.ended.code) {
      case CloseCode.Unavailable:
        return { error: new EngineUnavailableError(`The ${peer} could not run the session: ${words}`) };
      case CloseCode.GoingAway:
        return { error: new EngineUnavailableError(`The ${peer} is shutting down.`), down: { peer, reason: `${peer} shutting down` } };
      case CloseCode.Abnormal:
        return { error: new EngineError(`Lost the connection to the ${peer} mid-session: ${error.message}.`), down: { peer, reason: `lost the connection to the ${peer}` } };
      case CloseCode.RendezvousTimeout:
        return { error: new EngineError(`The session did not start: ${words}.`) };
      default:
        return { error: new EngineError(`The ${peer} ended the session: ${words}`) };
    }
  }
  if (error instanceof ProtocolViolation) return { error: new EngineError(`Private protocol error: ${error.message}`) };
  if (error instanceof LinkClosedError) return { error: new EngineError(`The session's connection closed early: ${error.message}`) };
  return { error: new EngineError(`The private session failed: ${error instanceof Error ? error.message : String(error)}`) };
}
