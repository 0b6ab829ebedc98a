/**
 * A secret-shared ring64 tensor x = x0 + x1 mod 2^64 (x0 at the engine, x1 at the gateway,
 * nothing at the dealer), and the frame checks of the ring sub-protocols.
 */
import type { Ring } from '../../../compute/ring64.js';
import type { PartyName } from '../../transport/party-network.js';
import { NarrowedRing, type FramePart } from '../../wire/frame.js';

export interface RingShareMeta {
  /** True when P1's share depends only on offline data. */
  offlineKnown: boolean;
  /** Set when P1's share is the k12 mask of that label (an Elem's B′), so the next MulW can use V = B′. */
  p1Mask?: string;
}

export interface RingShared {
  meta: RingShareMeta;
  share: Ring | undefined;
  size: number;
}

export function requireRingShare(x: RingShared, role: PartyName): Ring {
  if (!x.share) throw new Error(`${role} holds no share here`);
  return x.share;
}

/**
 * Checks a received frame's parts: ring arrays of the expected sizes, each at the width both
 * sides derive from the public plan (`widths[i]`, default 8: a full word; fewer: a narrowed part
 * of exactly that width, ring-narrowing.ts). A hostile peer's frame ends the session.
 */
export function expectRings(parts: FramePart[], sizes: number[], what: string, widths?: readonly number[]): Ring[] {
  if (parts.length !== sizes.length) throw new Error(`${what}: expected ${sizes.length} parts, got ${parts.length}`);
  return parts.map((p, i) => {
    const width = widths?.[i] ?? 8;
    if (width < 8) {
      if (!(p instanceof NarrowedRing) || p.width !== width || p.length !== sizes[i]) throw new Error(`${what}: part ${i} has the wrong type, width or size`);
      return p.values;
    }
    if (!(p instanceof BigUint64Array) || p.length !== sizes[i]) throw new Error(`${what}: part ${i} has the wrong type or size`);
    return p;
  });
}

/** Applies a local public map to a share (both data parties; the dealer only tracks the size). */
export function ringLocal(x: RingShared, size: number, map: (s: Ring) => Ring, offlineKnown = x.meta.offlineKnown): RingShared {
  const out: RingShared = { meta: { offlineKnown }, share: undefined, size };
  if (x.share) out.share = map(x.share);
  return out;
}
