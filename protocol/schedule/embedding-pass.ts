/**
 * One party's embedding pass for a session ('embed' sessions, session-params.ts), whatever the
 * profile: the profile is decided here, as forward-pass.ts does for generation. Only ring64 has
 * an embedding pass; the float profiles refuse (the gateway says so before opening a session).
 */
import type { PartyContext } from '../session/party-context.js';
import type { RoleModel } from '../session/role-model.js';
import { ringEmbeddingPass, type RingEmbeddingResult } from './ring-embedding-program.js';
import { createRingForwardState } from './ring-forward-program.js';

export class EmbeddingUnsupportedError extends Error {
  override readonly name = 'EmbeddingUnsupportedError';
}

/** Whether `model`'s profile has a private embedding pass. */
export function supportsEmbedding(model: RoleModel): boolean {
  return model.ring !== undefined;
}

export async function embeddingPass(ctx: PartyContext, model: RoleModel, tokens: readonly number[] | undefined, rows: number): Promise<RingEmbeddingResult> {
  if (!model.ring) throw new EmbeddingUnsupportedError(`embeddings need the ring64 profile; this session runs ${model.profile.name}`);
  const state = createRingForwardState(model.config, model.ring.plan, model.ring.weights, rows);
  return ringEmbeddingPass(ctx, state, tokens, rows, ctx.role === 'engine' ? model.finalNormGamma : undefined);
}
