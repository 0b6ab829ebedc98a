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
import { createForwardState, privateForward } from './forward-program.js';
import { createRingForwardState, ringPrivateForward } from './ring-forward-program.js';
import { capLogits } from '../../plaintext/fixed-point/ring-layer-variant.js';

export interface ForwardPasses {
  /** Runs one pass and opens the logits under a fresh π_out: P1 gets the permuted view, P0 the permutation. */
  pass(tokens: readonly number[] | undefined, rows: number, start: number, logitDelta?: Float64Array): Promise<{ view?: Float64Array; permutation?: Permutation }>;
}

export function forwardPasses(ctx: PartyContext, model: RoleModel, capacity: number): ForwardPasses {
  if (model.ring) {
    const ring = model.ring;
    const state = createRingForwardState(model.config, ring.plan, ring.weights, capacity, ctx.attention);
    return {
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
  const state = createForwardState(model.config, model.weights, model.rope, capacity);
  return {
    async pass(tokens, rows, start, logitDelta) {
      const logits: Shared = await privateForward(ctx, state, tokens, rows, start);
      if (logitDelta && logits.share) addInto(logits.share, logitDelta);
      const opened = await permOpen(ctx, logits);
      if (opened.view) capLogits(model.config, opened.view);
      return opened;
    },
  };
}
