/**
 * What each party must know about the others' identities to run a session (the trust model of
 * protocol.md, "Trust model"): the engine (P0) and the dealer (P2) sign their key shares with
 * their long-term identities; the gateway (P1) has none and instead verifies both against the
 * identities it pinned. `pairingId` names the engine–dealer pairing the session runs under and
 * is bound into every signed statement.
 */
import { SigningIdentity, type PeerKey } from '../../crypto/identity.js';

export interface GatewayTrust {
  pairingId: string;
  /** The pinned identities the engine's and the dealer's signatures must verify under. */
  engine: PeerKey;
  dealer: PeerKey;
}

export interface EngineTrust {
  pairingId: string;
  identity: SigningIdentity;
  /** The pinned dealer identity. */
  dealer: PeerKey;
}

export interface DealerTrust {
  pairingId: string;
  identity: SigningIdentity;
  /** The identity of the engine that made this pairing (checked against the dealer's pin). */
  engine: PeerKey;
}

/** Fresh identities for the three parties of one process (in-process wiring, benchmarks, tests). */
export function localTrust(pairingId: string): { gateway: GatewayTrust; engine: EngineTrust; dealer: DealerTrust } {
  const engine = SigningIdentity.generate();
  const dealer = SigningIdentity.generate();
  return {
    gateway: { pairingId, engine: engine.peer, dealer: dealer.peer },
    engine: { pairingId, identity: engine, dealer: dealer.peer },
    dealer: { pairingId, identity: dealer, engine: engine.peer },
  };
}
