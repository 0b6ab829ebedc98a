/**
 * The private per-head q/k RMSNorm (Qwen3) under the float profiles (permllm-f64, paper-f32),
 * the same three steps as ring64's (ring-qk-norm-step.ts, plaintext/fixed-point/ring-qk-norm.ts):
 * one row-wise Elem over the q and k head rows of the qkv output together (the user sees the raw
 * heads shuffled, never γ), one MulW with the diagonal map diag(γ_q) over diag(γ_k) [2·headDim,
 * headDim] with V = B′ (γ stays the engine's, nothing online), and a local selection of each
 * row's half. RoPE is applied to q′, k′ afterwards by the caller, as for a Llama layer.
 */
import type { ModelConfig } from '../../model/model-description.js';
import type { PartyContext, Shared } from '../session/party-context.js';
import { mulW, type RoleWeight } from '../subprotocols/mul-w.js';
import { elem } from '../subprotocols/perm-elem.js';

/** The q|k columns of qkv [rows, (nHeads + 2·nKvHeads)·headDim] as head rows. */
function heads(qkv: Float64Array, c: ModelConfig, rows: number): Float64Array {
  const qk = (c.nHeads + c.nKvHeads) * c.headDim;
  const width = qk + c.nKvHeads * c.headDim;
  const out = new Float64Array(rows * qk);
  for (let r = 0; r < rows; r++) out.set(qkv.subarray(r * width, r * width + qk), r * qk);
  return out;
}

/** q heads keep the first headDim outputs of their row of the diagonal map, k heads the last. */
function select(scaled: Float64Array, c: ModelConfig, rows: number, which: 'q' | 'k'): Float64Array {
  const d = c.headDim;
  const all = c.nHeads + c.nKvHeads;
  const count = which === 'q' ? c.nHeads : c.nKvHeads;
  const first = which === 'q' ? 0 : c.nHeads;
  const offset = which === 'q' ? 0 : d;
  const out = new Float64Array(rows * count * d);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < count; h++) {
      const row = (r * all + first + h) * 2 * d + offset;
      out.set(scaled.subarray(row, row + d), (r * count + h) * d);
    }
  }
  return out;
}

/** Shares of q′ [rows, qDim] and k′ [rows, kvDim] (γ applied, RoPE not yet). */
export async function qkNormStep(ctx: PartyContext, c: ModelConfig, gamma: RoleWeight, qkv: Shared, rows: number): Promise<{ q: Shared; k: Shared }> {
  const headRows = rows * (c.nHeads + c.nKvHeads);
  const input: Shared = { meta: { family: 'query', offlineKnown: qkv.meta.offlineKnown }, share: qkv.share ? heads(qkv.share, c, rows) : undefined, size: headRows * c.headDim };
  const normed = await elem(ctx, input, { kind: 'rmsnorm', rows: headRows, cols: c.headDim, eps: c.normEps }, 'normed');
  const scaled = await mulW(ctx, gamma, normed, headRows, 'query');
  const part = (which: 'q' | 'k', family: 'query' | 'key'): Shared => {
    const out: Shared = { meta: { family, offlineKnown: scaled.meta.offlineKnown }, share: undefined, size: rows * (which === 'q' ? c.nHeads : c.nKvHeads) * c.headDim };
    if (scaled.share) out.share = select(scaled.share, c, rows, which);
    return out;
  };
  return { q: part('q', 'query'), k: part('k', 'key') };
}
