/**
 * A small three-party harness for sub-protocol tests: three PartyContexts (engine P0,
 * gateway P1, dealer P2) over in-process links, pairwise keys from a real X25519 KeyExchange
 * (or, for statistical tests that must be reproducible, derived from a fixed seed), and a
 * `run` that executes one party function on all three concurrently (Promise.all), exactly as
 * the sub-protocols are meant to be run.
 *
 * Every physical frame sent on every link is recorded (a tap on the sender's end), so tests can
 * decode what each party received: that is the party's view.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { defaultBackend } from '../../compute/onnx-backend.js';
import { KeyExchange, SharedKey } from '../../crypto/key-agreement.js';
import type { Prg } from '../../crypto/prg.js';
import { PERMLLM_PROFILE, type MaskProfile, type TensorFamily } from '../../protocol/masks/mask-profile.js';
import { specOf, type PrivateWeight } from '../../protocol/model/private-weights.js';
import { dealerRoleWeights, engineRoleWeights, maskedModel } from '../../protocol/session/pairing.js';
import type { PartyContext, Shared, ShareMeta, SubprotocolReport } from '../../protocol/session/party-context.js';
import type { RoleWeight } from '../../protocol/subprotocols/mul-w.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { PartyNetwork, type PartyName } from '../../protocol/transport/party-network.js';
import { decodeFrame, MessageKind, type Frame } from '../../protocol/wire/frame.js';

export const PARTIES: readonly PartyName[] = ['engine', 'gateway', 'dealer'];

export type PerParty<T> = Record<PartyName, T>;

/** A SharedKey that logs every label it derives a PRG for (to check that no mask is used twice). */
export class RecordingKey extends SharedKey {
  constructor(
    bytes: Uint8Array,
    readonly labels: string[],
  ) {
    super(bytes);
  }

  override prg(label: string): Prg {
    this.labels.push(label);
    return super.prg(label);
  }
}

/** A link end that keeps a copy of every frame it sends. */
class TappedLink implements MessageLink {
  constructor(
    private readonly inner: MessageLink,
    private readonly sent: Uint8Array[],
  ) {}
  send(frame: Uint8Array): Promise<void> {
    this.sent.push(frame.slice());
    return this.inner.send(frame);
  }
  receive(signal?: AbortSignal): Promise<Uint8Array> {
    return this.inner.receive(signal);
  }
  close(reason?: Error): void {
    this.inner.close(reason);
  }
  get isClosed(): boolean {
    return this.inner.isClosed;
  }
}

export interface HarnessOptions {
  profile?: MaskProfile;
  backend?: ComputeBackend;
  /** Derive k02, k12 (and the pairing key) from this seed instead of a fresh key exchange. */
  seed?: string;
  /** The schedule's optimisations (V = B′ reuse, fusion, offline sends). Default true. */
  optimized?: boolean;
}

const LINK_PAIRS: readonly [PartyName, PartyName][] = [
  ['engine', 'gateway'],
  ['engine', 'dealer'],
  ['gateway', 'dealer'],
];

export class ThreeParties {
  readonly profile: MaskProfile;
  readonly backend: ComputeBackend;
  readonly ctx: PerParty<PartyContext>;
  /** Every PRG label each party derived, per key (`k02` at engine and dealer, `k12` at gateway and dealer). */
  readonly labels = { engine: { k02: [] as string[] }, gateway: { k12: [] as string[] }, dealer: { k02: [] as string[], k12: [] as string[] } };
  /** The pairing key P0 and P2 share (weight masks U). */
  readonly pairingKey: SharedKey;
  /** Reports from `PartyContext.observe`, per party, in call order. */
  readonly reports: PerParty<SubprotocolReport[]> = { engine: [], gateway: [], dealer: [] };
  private readonly sent = new Map<string, Uint8Array[]>();

  constructor(options: HarnessOptions = {}) {
    this.profile = options.profile ?? PERMLLM_PROFILE;
    this.backend = options.backend ?? defaultBackend();
    const optimized = options.optimized ?? true;
    const keyBytes = options.seed === undefined ? agreedKeys() : seededKeys(options.seed);
    this.pairingKey = options.seed === undefined ? SharedKey.random() : new SharedKey(seededBytes(options.seed, 'pairing'));
    const nets: PerParty<PartyNetwork> = {
      engine: new PartyNetwork('engine', { floatType: this.profile.dtype, maxFrameBytes: 1 << 30 }),
      gateway: new PartyNetwork('gateway', { floatType: this.profile.dtype, maxFrameBytes: 1 << 30 }),
      dealer: new PartyNetwork('dealer', { floatType: this.profile.dtype, maxFrameBytes: 1 << 30 }),
    };
    for (const [a, b] of LINK_PAIRS) {
      const [ab, ba] = inProcessLinkPair();
      nets[a].connect(b, new TappedLink(ab, this.sentList(a, b)));
      nets[b].connect(a, new TappedLink(ba, this.sentList(b, a)));
    }
    for (const net of Object.values(nets)) net.configureSchedule(optimized);
    const base = (role: PartyName): Omit<PartyContext, 'k02' | 'k12'> => ({
      role,
      net: nets[role],
      profile: this.profile,
      backend: this.backend,
      step: 0,
      reuseElemMask: optimized,
      observe: (r) => this.reports[role].push(r),
    });
    this.ctx = {
      engine: { ...base('engine'), k02: new RecordingKey(keyBytes.k02, this.labels.engine.k02), k12: undefined },
      gateway: { ...base('gateway'), k02: undefined, k12: new RecordingKey(keyBytes.k12, this.labels.gateway.k12) },
      dealer: { ...base('dealer'), k02: new RecordingKey(keyBytes.k02, this.labels.dealer.k02), k12: new RecordingKey(keyBytes.k12, this.labels.dealer.k12) },
    };
  }

  private sentList(from: PartyName, to: PartyName): Uint8Array[] {
    const key = `${from}->${to}`;
    let list = this.sent.get(key);
    if (!list) this.sent.set(key, (list = []));
    return list;
  }

  /** The keys as the test (which plays all three parties) can use them. */
  get k02(): SharedKey {
    return this.ctx.dealer.k02!;
  }
  get k12(): SharedKey {
    return this.ctx.dealer.k12!;
  }

  /**
   * Runs `fn` as all three parties at once. Sends only queue until a party next waits, so each
   * party flushes when its function ends (as a session does). When one party fails, every link
   * is closed so the others stop waiting, and the first failure is rethrown.
   */
  async run<T>(fn: (ctx: PartyContext) => Promise<T>): Promise<PerParty<T>> {
    const wrap = async (role: PartyName): Promise<T> => {
      try {
        const result = await fn(this.ctx[role]);
        await this.ctx[role].net.flush();
        return result;
      } catch (e) {
        this.close();
        throw e;
      }
    };
    const [engine, gateway, dealer] = await Promise.all([wrap('engine'), wrap('gateway'), wrap('dealer')]);
    return { engine, gateway, dealer };
  }

  /** The physical frames `from` sent to `to` so far (raw bytes). */
  physicalFrames(from: PartyName, to: PartyName): Uint8Array[] {
    return this.sent.get(`${from}->${to}`) ?? [];
  }

  /** The logical messages `from` sent to `to` (fused frames unpacked), decoded as the receiver decodes them. */
  messages(from: PartyName, to: PartyName): Frame[] {
    const out: Frame[] = [];
    for (const bytes of this.physicalFrames(from, to)) {
      const frame = decodeFrame(bytes, 1 << 30);
      if (frame.kind !== MessageKind.Fused) out.push(frame);
      else for (const part of frame.parts) out.push(decodeFrame(part as Uint8Array, 1 << 30));
    }
    return out;
  }

  /** Bytes `from` sent to `to`, as the sender's meter counts them. */
  bytesSent(from: PartyName, to: PartyName): number {
    return this.ctx[from].net.meter.bytesTo(to);
  }

  /** The weight as each party holds it after pairing: X (engine), X − U (gateway), U (dealer). */
  roleWeights(w: PrivateWeight): PerParty<RoleWeight> {
    const map = new Map([[w.name, w]]);
    return {
      engine: engineRoleWeights(map).get(w.name)!,
      gateway: maskedModel(this.pairingKey, this.profile, map).get(w.name)!,
      dealer: dealerRoleWeights(this.pairingKey, this.profile, [specOf(w)]).get(w.name)!,
    };
  }

  close(): void {
    for (const r of PARTIES) this.ctx[r].net.close();
  }
}

function agreedKeys(): { k02: Uint8Array; k12: Uint8Array } {
  const sessionId = randomBytes(16).toString('hex');
  const engine = new KeyExchange();
  const gateway = new KeyExchange();
  const dealerForEngine = new KeyExchange();
  const dealerForGateway = new KeyExchange();
  const k02 = engine.agree(dealerForEngine.publicKey, `${sessionId}/k02`).exportBytes();
  const k12 = gateway.agree(dealerForGateway.publicKey, `${sessionId}/k12`).exportBytes();
  // Both ends of each exchange must agree (the dealer's side derives the same bytes).
  if (Buffer.compare(dealerForEngine.agree(engine.publicKey, `${sessionId}/k02`).exportBytes(), k02) !== 0) throw new Error('k02 disagreement');
  if (Buffer.compare(dealerForGateway.agree(gateway.publicKey, `${sessionId}/k12`).exportBytes(), k12) !== 0) throw new Error('k12 disagreement');
  return { k02, k12 };
}

function seededBytes(seed: string, what: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`permllm-test/${seed}/${what}`).digest());
}

function seededKeys(seed: string): { k02: Uint8Array; k12: Uint8Array } {
  return { k02: seededBytes(seed, 'k02'), k12: seededBytes(seed, 'k12') };
}

/** A Shared per party, the dealer holding no share. */
export function sharedOf(meta: ShareMeta, engineShare: Float64Array, gatewayShare: Float64Array): PerParty<Shared> {
  if (engineShare.length !== gatewayShare.length) throw new RangeError('sharedOf: share sizes differ');
  const size = engineShare.length;
  return {
    engine: { meta, share: engineShare, size },
    gateway: { meta, share: gatewayShare, size },
    dealer: { meta, share: undefined, size },
  };
}

/**
 * Splits a secret x into x0 + x1 with x1 uniform on ±width (from `prg`); the engine gets
 * x0 = x − x1. `offlineKnown` says whether P1's share counts as known offline.
 */
export function splitSecret(x: Float64Array, family: TensorFamily, prg: Prg, width: number, offlineKnown = true): PerParty<Shared> {
  const x1 = prg.uniformArray(x.length, width);
  const x0 = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) x0[i] = x[i]! - x1[i]!;
  return sharedOf({ family, offlineKnown }, x0, x1);
}

/** x0 + x1 from a run's per-party outputs. */
export function reconstruct(out: PerParty<Shared>): Float64Array {
  const a = out.engine.share;
  const b = out.gateway.share;
  if (!a || !b) throw new Error('reconstruct: a data party holds no share');
  if (a.length !== b.length) throw new RangeError('reconstruct: share sizes differ');
  const x = new Float64Array(a.length);
  for (let i = 0; i < x.length; i++) x[i] = a[i]! + b[i]!;
  return x;
}

/** max_i |a_i − b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
