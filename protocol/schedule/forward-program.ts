/**
 * The private forward pass of a Llama-family model: one program that all three parties run
 * in lockstep, each executing its own side of every sub-protocol (protocol.md, "A Llama-family
 * layer"). Local steps (RoPE, residual adds, reshapes) are applied by P0 and P1 to their own
 * shares; the dealer only tracks shapes.
 *
 * Per layer: Elem(RMSNorm) → MulW(qkv, V = B′) → RoPE → MulKV(Q·Kᵀ, opens new K/V rows) →
 * causal mask (P0) → Elem(softmax) → MulKV(P·V) → MulW(o) → residual → Elem(RMSNorm) →
 * MulW(gate|up, V = B′) → Elem(SwiGLU, paired) → MulW(down, V = B′) → residual.
 */
import type { ModelConfig } from '../../model/model-description.js';
import type { RopeTable } from '../../plaintext/ops/rope.js';
import type { TensorFamily } from '../masks/mask-profile.js';
import { weightName } from '../model/private-weights.js';
import type { PartyContext, Shared, ShareMeta } from '../session/party-context.js';
import { attentionScoresKV, attentionValuesKV } from '../subprotocols/mul-kv.js';
import { KvMemory } from '../subprotocols/kv-memory.js';
import { mulW, type RoleWeight } from '../subprotocols/mul-w.js';
import { elem } from '../subprotocols/perm-elem.js';
import { qkNormStep } from './qk-norm-step.js';
import { addFloatWindowMask, floatLayerRopes, postNormStep } from './post-norm-step.js';

/** What a party holds for the whole session: its weights and its attention memories. */
export interface ForwardState {
  config: ModelConfig;
  weights: ReadonlyMap<string, RoleWeight>;
  rope: RopeTable;
  /** Each layer's RoPE (Gemma 3's windowed layers have their own). */
  layerRopes: RopeTable[];
  memories: KvMemory[];
}

export function createForwardState(config: ModelConfig, weights: ReadonlyMap<string, RoleWeight>, rope: RopeTable, capacity: number): ForwardState {
  const kvDim = config.nKvHeads * config.headDim;
  return { config, weights, rope, layerRopes: floatLayerRopes(config, rope), memories: Array.from({ length: config.nLayers }, () => new KvMemory(kvDim, capacity)) };
}

function weight(state: ForwardState, name: string): RoleWeight {
  const w = state.weights.get(name);
  if (!w) throw new Error(`no weight ${name}`);
  return w;
}

/** Applies a local (linear, public) map to a share: both data parties, same map; dealer: shape only. */
function local(x: Shared, size: number, meta: Partial<ShareMeta> & { family: TensorFamily }, map: (s: Float64Array) => Float64Array): Shared {
  const out: Shared = { meta: { family: meta.family, offlineKnown: meta.offlineKnown ?? x.meta.offlineKnown }, share: undefined, size };
  if (x.share) out.share = map(x.share);
  return out;
}

function addShared(a: Shared, b: Shared, family: TensorFamily): Shared {
  const out: Shared = { meta: { family, offlineKnown: a.meta.offlineKnown && b.meta.offlineKnown }, share: undefined, size: a.size };
  if (a.share && b.share) {
    const s = new Float64Array(a.size);
    for (let i = 0; i < s.length; i++) s[i] = a.share[i]! + b.share[i]!;
    out.share = s;
  }
  return out;
}

/** Columns [from, from+width) of every row of x[rows, stride]. */
function columns(x: Float64Array, rows: number, stride: number, from: number, width: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * stride + from, r * stride + from + width), r * width);
  return out;
}

function rotate(rope: RopeTable, x: Float64Array, rows: number, heads: number, headDim: number, start: number): Float64Array {
  for (let r = 0; r < rows; r++) rope.rotate(x, r * heads * headDim, heads, start + r);
  return x;
}

/**
 * Runs the layers over `rows` positions starting at `start`, from the shared input x
 * ([rows, dim]); returns the shared residual stream of the LAST row only ([1, dim]), or of
 * every row with `allRows` (the embedding pass pools them).
 */
export async function runLayers(ctx: PartyContext, state: ForwardState, input: Shared, rows: number, start: number, allRows = false): Promise<Shared> {
  const c = state.config;
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
  let x = input;
  for (let l = 0; l < c.nLayers; l++) {
    ctx.onLayerStart?.(l);
    const memory = state.memories[l]!;
    const rope = state.layerRopes[l]!;
    const normed = await elem(ctx, x, { kind: 'rmsnorm', rows, cols: c.dim, eps: c.normEps }, 'normed');
    const qkv = await mulW(ctx, weight(state, weightName.qkv(l)), normed, rows, 'query');
    const width = qDim + 2 * kvDim;
    let q = local(qkv, rows * qDim, { family: 'query' }, (s) => rotate(rope, columns(s, rows, width, 0, qDim), rows, c.nHeads, c.headDim, start));
    let k = local(qkv, rows * kvDim, { family: 'key' }, (s) => rotate(rope, columns(s, rows, width, qDim, kvDim), rows, c.nKvHeads, c.headDim, start));
    if (c.variant?.qkNorm) {
      // Per-head q/k norm before RoPE (qk-norm-step.ts), then the same local rotation.
      const normedQk = await qkNormStep(ctx, c, weight(state, weightName.qkNorm(l)), qkv, rows);
      q = local(normedQk.q, rows * qDim, { family: 'query' }, (s) => rotate(rope, s, rows, c.nHeads, c.headDim, start));
      k = local(normedQk.k, rows * kvDim, { family: 'key' }, (s) => rotate(rope, s, rows, c.nKvHeads, c.headDim, start));
    }
    const v = local(qkv, rows * kvDim, { family: 'value' }, (s) => columns(s, rows, width, qDim + kvDim, kvDim));
    const scores = await attentionScoresKV(ctx, shape, memory, q, k, v, rows, start);
    const keys = memory.length;
    const window = c.variant?.layerWindows?.[l] ?? undefined;
    if (window !== undefined && ctx.role === 'engine') addFloatWindowMask(scores.share!, c.nHeads, rows, keys, start, window, ctx.profile.causalMaskValue);
    const softcap = c.variant?.attentionSoftcap;
    const scale = c.variant?.attentionScale ?? 1 / Math.sqrt(c.headDim);
    const softmax = softcap === undefined ? { scale } : { scale, softcap, maskedBelow: ctx.profile.causalMaskValue / 2 };
    const probs = await elem(ctx, scores, { kind: 'softmax', rows: c.nHeads * rows, cols: keys, ...softmax }, 'probs');
    const attended = await attentionValuesKV(ctx, shape, memory, probs, rows);
    let projected = await mulW(ctx, weight(state, weightName.output(l)), attended, rows, 'residual');
    if (c.variant?.postNorms) projected = await postNormStep(ctx, c, weight(state, weightName.postAttnNorm(l)), projected, rows);
    x = addShared(x, projected, 'residual');

    const normed2 = await elem(ctx, x, { kind: 'rmsnorm', rows, cols: c.dim, eps: c.normEps }, 'normed');
    const gateUp = await mulW(ctx, weight(state, weightName.gateUp(l)), normed2, rows, 'gate-up');
    // Reorder [rows, gate|up] into two blocks [gate rows…][up rows…] for the paired Elem.
    const h = c.hiddenDim;
    const blocks = local(gateUp, 2 * rows * h, { family: 'gate-up' }, (s) => {
      const out = new Float64Array(2 * rows * h);
      out.set(columns(s, rows, 2 * h, 0, h), 0);
      out.set(columns(s, rows, 2 * h, h, h), rows * h);
      return out;
    });
    const activated = await elem(ctx, blocks, { kind: c.variant?.activation === 'gelu-tanh' ? 'geglu' : 'swiglu', length: rows * h }, 'ffn');
    let down = await mulW(ctx, weight(state, weightName.down(l)), activated, rows, 'residual');
    if (c.variant?.postNorms) down = await postNormStep(ctx, c, weight(state, weightName.postFfnNorm(l)), down, rows);
    x = addShared(x, down, 'residual');
  }
  ctx.onLayerStart?.(c.nLayers); // end marker: flights per layer are measured for one layer too
  if (allRows) return x;
  return local(x, c.dim, { family: 'residual' }, (s) => s.slice((rows - 1) * c.dim, rows * c.dim));
}

/**
 * Prompt rows per prefill chunk. A long prompt is prefilled in chunks of at most this many
 * positions (each chunk attends to the K/V rows of the chunks before it, so the result is the
 * same forward pass): every sub-protocol step then works on at most this many rows, which
 * bounds both a session's temporary memory and the time any party spends computing between
 * two turns of its event loop (heartbeats, health checks). Every party derives the chunks from
 * the same (rows, start), so the three schedules stay in lockstep.
 */
export const PREFILL_CHUNK_ROWS = 32;

/** One-hot rows of `tokens` (P1), zeros (P0), shape only (P2), then MulW with the embedding. */
export async function embed(ctx: PartyContext, state: ForwardState, tokens: readonly number[] | undefined, rows: number): Promise<Shared> {
  const c = state.config;
  const onehot: Shared = { meta: { family: 'onehot', offlineKnown: false }, share: undefined, size: rows * c.vocabSize };
  if (ctx.role === 'engine') onehot.share = new Float64Array(rows * c.vocabSize);
  if (ctx.role === 'gateway') {
    if (!tokens || tokens.length !== rows) throw new Error(`privateForward: gateway must supply ${rows} tokens`);
    const s = new Float64Array(rows * c.vocabSize);
    tokens.forEach((t, r) => {
      if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new RangeError(`token ${t} outside the vocabulary`);
      s[r * c.vocabSize + t] = 1;
    });
    onehot.share = s;
  }
  return mulW(ctx, weight(state, weightName.embedding), onehot, rows, 'residual');
}

/** Embedding (MulW on the one-hot rows P1 holds), layers (prefill in chunks), final norm and LM head → shared logits. */
export async function privateForward(ctx: PartyContext, state: ForwardState, tokens: readonly number[] | undefined, rows: number, start: number): Promise<Shared> {
  const c = state.config;
  if (ctx.role === 'gateway' && (!tokens || tokens.length !== rows)) throw new Error(`privateForward: gateway must supply ${rows} tokens`);
  let last: Shared | undefined;
  for (let offset = 0; offset < rows; offset += PREFILL_CHUNK_ROWS) {
    const n = Math.min(PREFILL_CHUNK_ROWS, rows - offset);
    const embedded = await embed(ctx, state, tokens?.slice(offset, offset + n), n);
    last = await runLayers(ctx, state, embedded, n, start + offset);
  }
  if (!last) throw new RangeError('privateForward: no rows');
  const normed = await elem(ctx, last, { kind: 'rmsnorm', rows: 1, cols: c.dim, eps: c.normEps }, 'normed');
  return mulW(ctx, weight(state, weightName.head), normed, 1, 'logits');
}
