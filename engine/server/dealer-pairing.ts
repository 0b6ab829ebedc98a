/**
 * Keeps the dealer paired with this engine: checks every `intervalMs` that the dealer holds
 * the pairing (GET /v1/pairings/:id) and hands it over when it does not (PUT, e.g. after the
 * dealer restarted). Its state is the engine's readiness: "dealer unreachable", "dealer
 * refused the link credential", "dealer identity refused", ... Only transitions are logged.
 *
 * Before anything else it learns the dealer's identity (GET /healthz) and accepts it only by the
 * pinning rules (crypto/known-peers.ts); sessions then require the dealer's signatures under that
 * key. A dealer presenting another key later is refused, never re-paired with. The pairing
 * request itself is signed by the engine's identity.
 */
import type { PeerKey, SigningIdentity } from '../../crypto/identity.js';
import { acceptPeerIdentity, IdentityRefusedError, type PinPolicy } from '../../crypto/known-peers.js';
import { ControlClient, ControlUnreachableError, errorMessageOf } from '../../protocol/transport/control-client.js';
import { PAIRING_IDENTITY_HEADER, PAIRING_SIGNATURE_HEADER, PAIRINGS_PATH, pairingStatement, type PairingRequest } from '../../protocol/transport/pairing-request.js';
import { fetchPeerIdentity } from '../../protocol/transport/peer-identity.js';

export interface DealerTrustOptions {
  identity: SigningIdentity;
  /** Pinning of the dealer's identity. */
  pin: PinPolicy;
  /** The name the dealer is pinned under (e.g. "dealer https://dealer.example:8082"). */
  name: string;
}

export interface PairingState {
  ready: boolean;
  reason?: string;
}

export class DealerPairing {
  private current: PairingState = { ready: false, reason: 'pairing with the dealer has not been checked yet' };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private dealer: PeerKey | undefined;

  constructor(
    private readonly client: ControlClient,
    private readonly request: PairingRequest,
    private readonly pairingId: string,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    private readonly trust: DealerTrustOptions,
    private readonly onChange: (state: PairingState) => void = () => undefined,
  ) {}

  get state(): PairingState {
    return this.current;
  }

  /** The dealer's accepted identity (undefined until accepted). */
  get dealerKey(): PeerKey | undefined {
    return this.dealer;
  }

  private async checkDealerIdentity(): Promise<PairingState | undefined> {
    let presented: PeerKey;
    try {
      presented = await fetchPeerIdentity(this.client);
    } catch (error) {
      if (error instanceof ControlUnreachableError) throw error;
      return { ready: false, reason: `the dealer's identity could not be read: ${(error as Error).message}` };
    }
    if (this.dealer && this.dealer.fingerprint === presented.fingerprint) return undefined;
    try {
      await acceptPeerIdentity(this.trust.name, presented, this.trust.pin, '--dealer-fingerprint', this.log);
    } catch (error) {
      if (error instanceof IdentityRefusedError) {
        this.dealer = undefined;
        return { ready: false, reason: error.message };
      }
      throw error;
    }
    if (!this.dealer) this.log(`dealer identity ${presented.fingerprint} accepted`);
    this.dealer = presented;
    return undefined;
  }

  /** Checks now, then every interval. Resolves after the first check. */
  async start(): Promise<void> {
    await this.check();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Checks at once (coalesced with a check already running). */
  check(): Promise<void> {
    this.running ??= this.checkOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const path = `${PAIRINGS_PATH}/${this.pairingId}`;
    let next: PairingState;
    try {
      const refused = await this.checkDealerIdentity();
      const probe = refused ? undefined : await this.client.json('GET', path);
      if (refused) next = refused;
      else if (probe!.status === 200) next = { ready: true };
      else if (probe!.status === 404) {
        // The dealer derives U from the key before it answers: allow for a large model.
        const put = await this.put(path);
        next = put.status === 200 || put.status === 201 ? { ready: true } : { ready: false, reason: `the dealer refused the pairing (HTTP ${put.status}): ${errorMessageOf(put.body)}` };
        if (next.ready) this.log(`paired with the dealer at ${this.client.origin} (pairing ${this.pairingId.slice(0, 8)}…)`);
      } else if (probe!.status === 401 || probe!.status === 403) next = { ready: false, reason: `the dealer at ${this.client.origin} refused the engine's link credential (HTTP ${probe!.status})` };
      else next = { ready: false, reason: `the dealer at ${this.client.origin} answered HTTP ${probe!.status}: ${errorMessageOf(probe!.body)}` };
    } catch (error) {
      next = { ready: false, reason: error instanceof ControlUnreachableError ? `dealer unreachable at ${error.origin} (${error.errno})` : `dealer check failed: ${(error as Error).message}` };
    }
    if (next.ready !== this.current.ready || next.reason !== this.current.reason) {
      if (!next.ready) this.log(`not ready: ${next.reason}`);
      else if (!this.current.ready && this.current.reason && !this.current.reason.startsWith('pairing with the dealer has not')) this.log('ready again: the dealer holds the pairing');
      this.current = next;
      this.onChange(next);
    }
  }

  /** PUT of the signed pairing request (the body is signed exactly as sent). */
  private async put(path: string): Promise<{ status: number; body: unknown }> {
    const body = JSON.stringify(this.request);
    const signature = this.trust.identity.sign(pairingStatement(this.pairingId, body));
    const response = await this.client.send('PUT', path, {
      rawJson: body,
      headers: { [PAIRING_IDENTITY_HEADER]: Buffer.from(this.trust.identity.publicKey).toString('base64'), [PAIRING_SIGNATURE_HEADER]: Buffer.from(signature).toString('base64') },
      headersTimeoutMs: 300_000,
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body: parsed };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
