/**
 * What one party brings to a session, and the shared-value type the protocol program passes
 * around. The program (protocol/schedule) is executed identically by all three parties; each
 * sub-protocol branches on `ctx.role` and touches only that party's own values.
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import type { SharedKey } from '../../crypto/key-agreement.js';
import type { MaskProfile, TensorFamily } from '../masks/mask-profile.js';
import type { AttentionMode } from '../schedule/attention-mode.js';
import type { Permutation } from '../permutations/permutation.js';
import type { ProductsAhead } from '../pool/products-ahead.js';
import type { AttentionShape } from '../subprotocols/bilinear.js';
import type { ElemFunction } from '../subprotocols/elem-function.js';
import type { KvMemory } from '../subprotocols/kv-memory.js';
import type { PartyName, PartyNetwork } from '../transport/party-network.js';

/** Public facts about a shared tensor, computed identically by every party. */
export interface ShareMeta {
  family: TensorFamily;
  /** True when P1's share depends only on offline data (so P1 may send functions of it offline). */
  offlineKnown: boolean;
  /** Set when P1's share *is* a mask derived from k12 (the B′ of an Elem): label and half-width. */
  p1Mask?: { label: string; width: number };
}

/**
 * A secret-shared tensor x = x0 + x1. `share` is this party's share: x0 at the engine, x1 at the
 * gateway, absent at the dealer (which never holds data).
 */
export interface Shared {
  meta: ShareMeta;
  share: Float64Array | undefined;
  /** Number of elements. */
  size: number;
}

export interface PartyContext {
  readonly role: PartyName;
  readonly net: PartyNetwork;
  readonly profile: MaskProfile;
  readonly backend: ComputeBackend;
  /** Engine and dealer. */
  readonly k02: SharedKey | undefined;
  /** Gateway and dealer. */
  readonly k12: SharedKey | undefined;
  /** Schedule position; every sub-protocol call takes the next step number on all parties. */
  step: number;
  /** False for the unoptimised baseline: MulW after an Elem draws a fresh V and sends D online. */
  reuseElemMask?: boolean;
  /**
   * Gateway only: MulW products made ahead of the online step (protocol/pool/products-ahead.ts);
   * MulW records its calls there and takes a product made ahead when one matches. Absent: every
   * product is made online.
   */
  productsAhead?: ProductsAhead;
  /** The session's attention mode (protocol/schedule/attention-mode.ts); absent = 'beaver'. */
  attention?: AttentionMode;
  /** Optional observer called at the start of every layer and once after the last (layer = nLayers): accounting of flights per layer. */
  onLayerStart?: (layer: number) => void;
  /**
   * Optional observer of every sub-protocol call, with this party's own shares (tests and
   * precision reports only: they join the engine's and the gateway's reports by `step` to
   * reconstruct x = x0 + x1). It must not modify what it is given.
   */
  observe?: (report: SubprotocolReport) => void;
  /**
   * ring64 only, tests only (the view distinguisher): the engine reports every value it holds
   * after a gateway message, combined with its own share (v = x − m, m a k12 mask it never
   * sees); the gateway reports the mask m under the same (step, what). It must not modify them.
   */
  ringViewTap?: RingViewTap;
}

export type RingViewTap = (step: number, what: string, values: BigUint64Array) => void;

/** What a sub-protocol tells `PartyContext.observe` when it ends, at the engine and the gateway (shares are that party's own). */
export type SubprotocolReport =
  | { op: 'mulW'; step: number; weight: string; rows: number; input: Shared; output: Shared }
  | { op: 'elem'; step: number; fn: ElemFunction; input: Shared; output: Shared }
  | { op: 'permOpen'; step: number; input: Shared; view: Float64Array | undefined; permutation: Permutation | undefined }
  | { op: 'kvScores'; step: number; shape: AttentionShape; memory: KvMemory; rows: number; start: number; q: Shared; k: Shared; v: Shared; output: Shared }
  | { op: 'kvValues'; step: number; shape: AttentionShape; memory: KvMemory; rows: number; p: Shared; output: Shared };

export function nextStep(ctx: PartyContext): number {
  return ++ctx.step;
}

export function requireKey(key: SharedKey | undefined, name: string, role: PartyName): SharedKey {
  if (!key) throw new Error(`${role} has no ${name}`);
  return key;
}

export function requireShare(x: Shared, role: PartyName): Float64Array {
  if (!x.share) throw new Error(`${role} holds no share here`);
  return x.share;
}

/** Element-wise a + b into a new array (sizes must match). */
export function addArrays(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new RangeError(`add: sizes ${a.length} and ${b.length} differ`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** Element-wise a − b into a new array. */
export function subArrays(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new RangeError(`sub: sizes ${a.length} and ${b.length} differ`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

/** a += b in place. */
export function addInto(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new RangeError(`addInto: sizes ${a.length} and ${b.length} differ`);
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
  return a;
}
