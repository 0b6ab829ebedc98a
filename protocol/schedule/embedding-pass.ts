/**
 * One party's embedding pass for a session ('embed' sessions, session-params.ts), whatever the
 * profile: the profile is decided here, as forward-pass.ts does for generation. ring64:
 * ring-embedding-program.ts (bit-exact with the fixed-point oracle); float profiles:
 * float-embedding-program.ts (statistical, close to the float plaintext).
 */
import type { PartyContext } from '../session/party-context.js';
import type { RoleModel } from '../session/role-model.js';
import { createForwardState } from './forward-program.js';
import { floatEmbeddingPass } from './float-embedding-program.js';
import { ringEmbeddingPass, type RingEmbeddingResult } from './ring-embedding-program.js';
import { createRingForwardState } from './ring-forward-program.js';

export class EmbeddingUnsupportedError extends Error {
  override readonly name = 'EmbeddingUnsupportedError';
}

/** What the pass gives P1: the mean-pooled vector, and under ring64 the opened ring vector too. */
export type EmbeddingPassResult = RingEmbeddingResult;

/** Whether `model`'s profile has a private embedding pass (every profile does today). */
export function supportsEmbedding(model: RoleModel): boolean {
  return model.ring !== undefined || model.profile.dtype !== 'ring64';
}

export async function embeddingPass(ctx: PartyContext, model: RoleModel, tokens: readonly number[] | undefined, rows: number): Promise<EmbeddingPassResult> {
  if (!supportsEmbedding(model)) throw new EmbeddingUnsupportedError(`the ${model.profile.name} profile has no embedding pass`);
  const gamma = ctx.role === 'engine' ? model.finalNormGamma : undefined;
  if (ctx.role === 'engine' && !gamma) throw new EmbeddingUnsupportedError('this engine holds no final norm weights for embeddings');
  if (model.ring) {
    const state = createRingForwardState(model.config, model.ring.plan, model.ring.weights, rows);
    return ringEmbeddingPass(ctx, state, tokens, rows, gamma);
  }
  const state = createForwardState(model.config, model.weights, model.rope, rows);
  const mean = await floatEmbeddingPass(ctx, state, tokens, rows, gamma);
  return mean ? { exponent: 0, mean } : { exponent: 0 };
}
