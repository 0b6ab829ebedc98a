/**
 * A private post-norm (Gemma 2/3: γ ⊙ RMSNorm(o) added to the residual) under the float
 * profiles, the float counterpart of ring-post-norm-step.ts: a row-wise Elem over dim (the user
 * sees the projection's output permuted), then the engine's γ in a diagonal MulW with V = B′
 * (nothing online, γ never revealed). Also the float program's other Gemma hooks: the window
 * mask the engine adds and each layer's RoPE table.
 */
import type { ModelConfig } from '../../model/model-description.js';
import { RopeTable } from '../../plaintext/ops/rope.js';
import type { PartyContext, Shared } from '../session/party-context.js';
import { mulDiag } from '../subprotocols/mul-diag.js';
import type { RoleWeight } from '../subprotocols/mul-w.js';
import { elem } from '../subprotocols/perm-elem.js';

export async function postNormStep(ctx: PartyContext, c: ModelConfig, gamma: RoleWeight, x: Shared, rows: number): Promise<Shared> {
  const normed = await elem(ctx, x, { kind: 'rmsnorm', rows, cols: c.dim, eps: c.normEps }, 'normed');
  return mulDiag(ctx, gamma, normed, rows, 'residual');
}

/** Each layer's RoPE table: the model's, or Gemma 3's local one on its windowed layers. */
export function floatLayerRopes(c: ModelConfig, global: RopeTable): RopeTable[] {
  const local = c.variant?.localRope;
  const localRope = local ? new RopeTable(c.headDim, c.maxSeqLen, local.theta, local.scaling) : undefined;
  return Array.from({ length: c.nLayers }, (_, l) => (localRope && c.variant?.layerWindows?.[l] != null ? localRope : global));
}

/** P0 adds `value` (the profile's causal-mask constant) to scores [heads, rows, keys] of keys before each query's window. */
export function addFloatWindowMask(z0: Float64Array, heads: number, rows: number, keys: number, start: number, window: number, value: number): void {
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < rows; r++) {
      const base = (h * rows + r) * keys;
      const first = Math.min(keys, Math.max(0, start + r + 1 - window));
      for (let k = 0; k < first; k++) z0[base + k]! += value;
    }
  }
}
