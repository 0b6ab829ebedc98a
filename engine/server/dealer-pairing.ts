/**
 * Keeps the dealer paired with this engine: checks every `intervalMs` that the dealer holds
 * the pairing (GET /v1/pairings/:id) and hands it over when it does not (PUT, e.g. after the
 * dealer restarted). Its state is the engine's readiness: "dealer unreachable", "dealer
 * refused the token", ... Only transitions are logged.
 */
import { ControlClient, ControlUnreachableError, errorMessageOf } from '../../protocol/transport/control-client.js';
import { PAIRINGS_PATH, type PairingRequest } from '../../protocol/transport/pairing-request.js';

export interface PairingState {
  ready: boolean;
  reason?: string;
}

export class DealerPairing {
  private current: PairingState = { ready: false, reason: 'pairing with the dealer has not been checked yet' };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly client: ControlClient,
    private readonly request: PairingRequest,
    private readonly pairingId: string,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    private readonly onChange: (state: PairingState) => void = () => undefined,
  ) {}

  get state(): PairingState {
    return this.current;
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
      const probe = await this.client.json('GET', path);
      if (probe.status === 200) next = { ready: true };
      else if (probe.status === 404) {
        // The dealer derives U from the key before it answers: allow for a large model.
        const put = await this.client.json('PUT', path, this.request, undefined, 300_000);
        next = put.status === 200 || put.status === 201 ? { ready: true } : { ready: false, reason: `the dealer refused the pairing (HTTP ${put.status}): ${errorMessageOf(put.body)}` };
        if (next.ready) this.log(`paired with the dealer at ${this.client.origin} (pairing ${this.pairingId.slice(0, 8)}…)`);
      } else if (probe.status === 401) next = { ready: false, reason: `the dealer at ${this.client.origin} refused the engine's token` };
      else next = { ready: false, reason: `the dealer at ${this.client.origin} answered HTTP ${probe.status}: ${errorMessageOf(probe.body)}` };
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

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
