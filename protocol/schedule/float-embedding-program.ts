/**
 * The private embedding pass under the float profiles (permllm-f64, paper-f32): the same
 * schedule as ring-embedding-program.ts (see there) on real shares: per prefill chunk, the
 * layers with every row kept, Elem(RMSNorm without γ), the rows summed locally on each share;
 * then a diagonal MulW by γ opened to P1 (subprotocols/diagonal-open.ts); P1 divides by the
 * row count. Close to the float plaintext (statistical masks), not bit-exact.
 */
import { dataMaskWidth } from '../masks/mask-profile.js';
import type { PartyContext, Shared } from '../session/party-context.js';
import { diagonalOpen } from '../subprotocols/diagonal-open.js';
import { elem } from '../subprotocols/perm-elem.js';
import { embed, PREFILL_CHUNK_ROWS, runLayers, type ForwardState } from './forward-program.js';

/** The mean-pooled vector at P1 (undefined at P0 and P2). */
export async function floatEmbeddingPass(ctx: PartyContext, state: ForwardState, tokens: readonly number[] | undefined, rows: number, gamma?: ArrayLike<number>): Promise<Float64Array | undefined> {
  const c = state.config;
  if (ctx.role === 'gateway' && (!tokens || tokens.length !== rows)) throw new Error(`floatEmbeddingPass: gateway must supply ${rows} tokens`);
  let sum: Shared | undefined;
  for (let offset = 0; offset < rows; offset += PREFILL_CHUNK_ROWS) {
    const n = Math.min(PREFILL_CHUNK_ROWS, rows - offset);
    const embedded = await embed(ctx, state, tokens?.slice(offset, offset + n), n);
    const x = await runLayers(ctx, state, embedded, n, offset, true);
    const normed = await elem(ctx, x, { kind: 'rmsnorm', rows: n, cols: c.dim, eps: c.normEps }, 'normed');
    const acc: Shared = { meta: { family: 'normed', offlineKnown: normed.meta.offlineKnown && (sum?.meta.offlineKnown ?? true) }, share: undefined, size: c.dim };
    if (normed.share) {
      const out = sum?.share ? Float64Array.from(sum.share) : new Float64Array(c.dim);
      for (let r = 0; r < n; r++) for (let i = 0; i < c.dim; i++) out[i]! += normed.share[r * c.dim + i]!;
      acc.share = out;
    }
    sum = acc;
  }
  if (!sum) throw new RangeError('floatEmbeddingPass: no rows');
  // The pooled sum is at most rows times the normed family's bound: its mask is that much wider.
  const opened = await diagonalOpen(ctx, sum, rows * dataMaskWidth(ctx.profile, 'normed'), gamma);
  if (!opened) return undefined;
  for (let i = 0; i < opened.length; i++) opened[i] = opened[i]! / rows;
  return opened;
}
