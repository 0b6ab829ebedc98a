/**
 * The private forward pass of a whole model on the three-party harness: the same program the
 * sessions run (protocol/schedule/forward-program.ts), without the handshake, pass control and
 * token lookup, so tests can watch every sub-protocol through `PartyContext.observe` and every
 * frame through the harness's taps. P1's permuted logits are opened with permOpen, and the
 * test (which plays all parties) may use P0's permutation to read them in vocabulary order.
 */
import type { ModelDescription } from '../../model/model-description.js';
import { RopeTable } from '../../plaintext/ops/rope.js';
import { privateWeightsOf, specOf, type PrivateWeight } from '../../protocol/model/private-weights.js';
import type { Permutation } from '../../protocol/permutations/permutation.js';
import { createForwardState, privateForward, type ForwardState } from '../../protocol/schedule/forward-program.js';
import { dealerRoleWeights, engineRoleWeights, maskedModel } from '../../protocol/session/pairing.js';
import { permOpen } from '../../protocol/subprotocols/perm-elem.js';
import { ThreeParties, type HarnessOptions, type PerParty } from './three-party-harness.js';

export class PrivateModelHarness {
  readonly h: ThreeParties;
  readonly weights: Map<string, PrivateWeight>;
  readonly states: PerParty<ForwardState>;

  constructor(
    readonly model: ModelDescription,
    capacity: number,
    options: HarnessOptions = {},
  ) {
    this.h = new ThreeParties(options);
    this.weights = privateWeightsOf(model);
    const specs = [...this.weights.values()].map(specOf);
    const c = model.config;
    const rope = RopeTable.forConfig(c);
    this.states = {
      engine: createForwardState(c, engineRoleWeights(this.weights), rope, capacity),
      gateway: createForwardState(c, maskedModel(this.h.pairingKey, this.h.profile, this.weights), rope, capacity),
      dealer: createForwardState(c, dealerRoleWeights(this.h.pairingKey, this.h.profile, specs), rope, capacity),
    };
  }

  /**
   * One forward pass over `tokens` at positions start.. (all parties), then the logits opened to
   * P1 under a fresh permutation. Returns P1's permuted view and the logits in vocabulary order.
   */
  async pass(tokens: readonly number[], start: number): Promise<{ permuted: Float64Array; logits: Float64Array; permutation: Permutation }> {
    const out = await this.h.run(async (ctx) => {
      const logits = await privateForward(ctx, this.states[ctx.role], ctx.role === 'gateway' ? tokens : undefined, tokens.length, start);
      return permOpen(ctx, logits);
    });
    const permuted = out.gateway.view!;
    const permutation = out.engine.permutation!;
    return { permuted, logits: permutation.invert(permuted), permutation };
  }

  close(): void {
    this.h.close();
  }
}
