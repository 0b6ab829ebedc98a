/**
 * The server and gateway options that give in-process servers (startEngineServer,
 * startDealerServer, RemoteBackend.connect) the same identities, pins and credentials that
 * `npm start` gives its processes (cli/local-trust.ts).
 */
import { knownPeersFile } from '../../crypto/known-peers.js';
import type { LocalTrust } from '../../cli/local-trust.js';

export const dealerTrustOptions = (t: LocalTrust) => ({ stateDir: t.dirs.dealer, engineFingerprint: t.fingerprints.engine });

export const engineTrustOptions = (t: LocalTrust) => ({ stateDir: t.dirs.engine, dealerFingerprint: t.fingerprints.dealer, dealerCredential: t.linkCredential });

export const gatewayTrustOptions = (t: LocalTrust) => ({
  credential: t.userCredential,
  pins: {
    engine: { pinned: t.fingerprints.engine, trustOnFirstUse: false, storeFile: knownPeersFile(t.dirs.gateway) },
    dealer: { pinned: t.fingerprints.dealer, trustOnFirstUse: false, storeFile: knownPeersFile(t.dirs.gateway) },
  },
});
