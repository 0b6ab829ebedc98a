/**
 * One party's forward passes for a session, whatever the profile: float shares
 * (forward-program.ts) or ring64 shares (ring-forward-program.ts). The sessions of the three
 * parties run passes through this, so that the profile is decided in one place.
 */
import { encodeFixed, ringAddInto } from '../../compute/ring64.js';
import type { Permutation } from '../permutations/permutation.js';
import { addInto, type PartyContext, type Shared } from '../session/party-context.js';
import type { RoleModel } from '../session/role-model.js';
import { permOpen } from '../subprotocols/perm-elem.js';
import { ringPermOpen } from '../subprotocols/ring/ring-elem.js';
import type { RingShared } from '../subprotocols/ring/ring-shared.js';
import type { KvMemory } from '../subprotocols/kv-memory.js';
import type { RingKvMemory } from '../subprotocols/ring/ring-mul-kv.js';
import { createForwardState, privateForward } from './forward-program.js';
import { createRingForwardState, ringPrivateForward } from './ring-forward-program.js';
import { capLogits } from '../../plaintext/fixed-point/ring-layer-variant.js';

export interface ForwardPasses {
  /** Runs one pass and opens the logits under a fresh π_out: P1 gets the permuted view, P0 the permutation. */
  pass(tokens: readonly number[] | undefined, rows: number, start: number, logitDelta?: Float64Array): Promise<{ view?: Float64Array; permutation?: Permutation }>;
  /** This party's attention memories as they stand (what conversation reuse keeps). */
  kept(): KeptAttention;
}

/**
 * One party's attention memories of a session, per layer (conversation reuse: the K/V state a
 * follow-up session continues). Self-contained: the opened rows E and this party's part of their
 * masks U, so a session with fresh keys continues them (every new row gets fresh masks).
 */
export type KeptAttention = { ring: true; memories: RingKvMemory[] } | { ring: false; memories: KvMemory[] };

/** Bytes a kept state holds. */
export function keptBytes(kept: KeptAttention): number {
  let n = 0;
  for (const m of kept.memories) n += m.bytes;
  return n;
}

/** Positions every layer of a kept state holds at least (the dealer may have run ahead in some layers). */
export function keptLength(kept: KeptAttention): number {
  return kept.memories.reduce((n, m) => Math.min(n, m.length), Number.POSITIVE_INFINITY);
}

/** Cuts `kept` to its first `length` positions in place, checking it fits `model`; throws if it does not. */
function resumeInto(model: RoleModel, kept: KeptAttention, length: number): void {
  const kvDim = model.config.nKvHeads * model.config.headDim;
  if (kept.ring !== (model.ring !== undefined)) throw new Error('kept attention state is of another profile');
  if (kept.memories.length !== model.config.nLayers || kept.memories.some((m) => m.kvDim !== kvDim)) throw new Error('kept attention state does not fit the model');
  if (keptLength(kept) < length) throw new RangeError(`kept attention state holds ${keptLength(kept)} positions, ${length} asked`);
  for (const m of kept.memories) m.truncate(length);
}

/**
 * `resume`: continue the memories of a kept state cut to `length` positions (the session's first
 * pass then starts at `length`); they are this session's from now on.
 */
export function forwardPasses(ctx: PartyContext, model: RoleModel, capacity: number, resume?: { kept: KeptAttention; length: number }): ForwardPasses {
  if (resume) resumeInto(model, resume.kept, resume.length);
  if (model.ring) {
    const ring = model.ring;
    const state = createRingForwardState(model.config, ring.plan, ring.weights, resume ? 1 : capacity, ctx.attention);
    if (resume?.kept.ring) state.memories = resume.kept.memories;
    return {
      kept: () => ({ ring: true, memories: state.memories }),
      async pass(tokens, rows, start, logitDelta) {
        const logits: RingShared = await ringPrivateForward(ctx, state, tokens, rows, start);
        // P1's logit adjustments (logit_bias, penalties) join its own share at the logits' exponent.
        if (logitDelta && logits.share) ringAddInto(logits.share, encodeFixed(logitDelta, ring.plan.logits));
        const opened = await ringPermOpen(ctx, logits, ring.plan.logits);
        // Final logit soft-capping (Gemma 2): element-wise on P1's permuted view.
        if (opened.view) capLogits(model.config, opened.view);
        return opened;
      },
    };
  }
  if (ctx.attention !== undefined && ctx.attention !== 'beaver') throw new Error(`attention mode ${ctx.attention} needs the ring64 profile`);
  const state = createForwardState(model.config, model.weights, model.rope, resume ? 1 : capacity);
  if (resume && !resume.kept.ring) state.memories = resume.kept.memories;
  return {
    kept: () => ({ ring: false, memories: state.memories }),
    async pass(tokens, rows, start, logitDelta) {
      const logits: Shared = await privateForward(ctx, state, tokens, rows, start);
      if (logitDelta && logits.share) addInto(logits.share, logitDelta);
      const opened = await permOpen(ctx, logits);
      if (opened.view) capLogits(model.config, opened.view);
      return opened;
    },
  };
}
