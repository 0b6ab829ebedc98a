/**
 * The gateway's view of its engine and dealer: probes both every `intervalMs` (GET /readyz with
 * the user credential for the engine, none for the dealer) and keeps the first reason the gateway
 * cannot serve ("engine unreachable at ...", "engine not ready: dealer unreachable ...", ...). Sessions report
 * what they learn too (a failed connection marks a party down until the next good probe).
 * The engine's /readyz also names its pairing and model, so a changed pairing is noticed here.
 */
import { ControlClient, ControlTlsError, ControlUnreachableError, errorMessageOf } from '../../protocol/transport/control-client.js';

export type Peer = 'engine' | 'dealer';

export interface EngineIdentity {
  pairingId: string;
  modelHash: string;
}

interface PeerState {
  up: boolean;
  reason?: string;
}

export class RemoteHealth {
  private readonly state: Record<Peer, PeerState> = { engine: { up: true }, dealer: { up: true } };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly clients: Record<Peer, ControlClient>,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    private readonly onEngineIdentity: (identity: EngineIdentity) => void,
  ) {}

  /** The first reason the gateway cannot serve, or undefined. */
  get reason(): string | undefined {
    return this.state.engine.up ? (this.state.dealer.up ? undefined : this.state.dealer.reason) : this.state.engine.reason;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.check().finally(loop), this.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  check(): Promise<void> {
    this.running ??= Promise.all([this.probe('engine'), this.probe('dealer')])
      .then(() => undefined)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  markDown(peer: Peer, reason: string): void {
    this.set(peer, { up: false, reason });
  }

  markUp(peer: Peer): void {
    this.set(peer, { up: true });
  }

  private async probe(peer: Peer): Promise<void> {
    const client = this.clients[peer];
    let next: PeerState;
    try {
      const { status, body } = await client.json('GET', '/readyz');
      if (status === 200) next = { up: true };
      else if (status === 401) next = { up: false, reason: `the ${peer} at ${client.origin} refused this gateway's credential` };
      else next = { up: false, reason: `${peer} not ready: ${errorMessageOf(body) || `HTTP ${status}`}` };
      if (peer === 'engine' && typeof body === 'object' && body !== null) {
        const { pairingId, modelHash } = body as { pairingId?: unknown; modelHash?: unknown };
        if (typeof pairingId === 'string' && typeof modelHash === 'string') this.onEngineIdentity({ pairingId, modelHash });
      }
    } catch (error) {
      if (error instanceof ControlUnreachableError) next = { up: false, reason: `${peer} unreachable at ${error.origin} (${error.errno})` };
      else if (error instanceof ControlTlsError) next = { up: false, reason: `${peer}: ${error.message}` };
      else next = { up: false, reason: `${peer} check failed: ${(error as Error).message}` };
    }
    this.set(peer, next);
  }

  private set(peer: Peer, next: PeerState): void {
    const current = this.state[peer];
    if (current.up === next.up && current.reason === next.reason) return;
    this.state[peer] = next;
    this.log(next.up ? `${peer} is reachable and ready` : `not ready: ${next.reason}`);
  }
}
