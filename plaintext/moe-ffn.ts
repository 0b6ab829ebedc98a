/**
 * The mixture-of-experts FFN of the plaintext oracle (Mixtral, Qwen3-MoE; ModelVariant.moe):
 * per token, router logits r = x·Routerᵀ, p = softmax(r), the topK experts with the largest p
 * (ties: the lower expert index, as torch.topk on CPU), weights renormalised to sum 1 when
 * normalizeTopK, and out = Σ_selected p_e · W2_e·(act(W1_e·x) ⊙ W3_e·x). gpt-oss adds biases to
 * the router and to every expert projection and uses its clamped SwiGLU (model-description.ts).
 * Only the selected experts are evaluated, as transformers does; a private form must not reveal
 * which experts a token uses (see protocol/model/private-steps.ts).
 */
import type { LayerWeights, ModelConfig } from '../model/model-description.js';
import { geglu } from './ops/gelu.js';
import { swiglu } from './ops/silu.js';

/** gpt-oss's gate: g ← min(g, L), u ← clamp(u, −L, L), out = (u + 1)·g·σ(1.702·g). */
export function clampedSwiglu(gate: Float32Array, up: Float32Array, limit: number): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = Math.min(gate[i]!, limit);
    const u = Math.min(Math.max(up[i]!, -limit), limit);
    out[i] = (u + 1) * (g / (1 + Math.exp(-1.702 * g)));
  }
  return out;
}

function addRowBias(y: Float32Array, rows: number, bias: Float32Array | undefined): void {
  if (!bias) return;
  const width = bias.length;
  for (let r = 0; r < rows; r++) for (let i = 0; i < width; i++) y[r * width + i] = y[r * width + i]! + bias[i]!;
}

/** The topK expert indices and their weights for one token's router logits. */
export function routeToken(logits: ArrayLike<number>, topK: number, normalizeTopK: boolean): { experts: number[]; weights: number[] } {
  const n = logits.length;
  let max = -Infinity;
  for (let e = 0; e < n; e++) max = Math.max(max, logits[e]!);
  const p = new Float64Array(n);
  let sum = 0;
  for (let e = 0; e < n; e++) sum += p[e] = Math.exp(logits[e]! - max);
  for (let e = 0; e < n; e++) p[e] = p[e]! / sum;
  const order = Array.from({ length: n }, (_, e) => e).sort((a, b) => p[b]! - p[a]! || a - b);
  const experts = order.slice(0, topK);
  let weights = experts.map((e) => p[e]!);
  if (normalizeTopK) {
    const total = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((w) => w / total);
  }
  return { experts, weights };
}

/** FFN output [rows, dim] of the normalised input x [rows, dim]. */
export async function moeFfn(
  linear: (x: Float32Array, rows: number, w: Float32Array, outDim: number, inDim: number) => Promise<Float32Array>,
  x: Float32Array,
  rows: number,
  lw: LayerWeights,
  c: ModelConfig,
  observe?: (family: 'router' | 'gate-up' | 'ffn', values: Float32Array) => void,
): Promise<Float32Array> {
  const moe = c.variant?.moe;
  if (!moe || !lw.router) throw new Error('moeFfn: the model has no mixture of experts');
  const { dim, hiddenDim: h } = c;
  const logits = await linear(x, rows, lw.router, moe.nExperts, dim);
  addRowBias(logits, rows, lw.routerBias);
  if (observe) {
    // Calibration (ring64's plan): the private form evaluates every expert on every token, so
    // every expert's gate/up and activations are observed here, not only the selected ones.
    observe('router', logits);
    for (let e = 0; e < moe.nExperts; e++) {
      const [gate, up] = await Promise.all([linear(x, rows, lw.w1.subarray(e * h * dim, (e + 1) * h * dim), h, dim), linear(x, rows, lw.w3.subarray(e * h * dim, (e + 1) * h * dim), h, dim)]);
      observe('gate-up', gate);
      observe('gate-up', up);
      if (!c.variant?.activation || c.variant.activation === 'silu') observe('ffn', swiglu(gate, up));
    }
  }
  const routes = Array.from({ length: rows }, (_, r) => routeToken(logits.subarray(r * moe.nExperts, (r + 1) * moe.nExperts), moe.topK, moe.normalizeTopK));
  const out = new Float32Array(rows * dim);
  for (let e = 0; e < moe.nExperts; e++) {
    const members: Array<{ row: number; weight: number }> = [];
    routes.forEach((route, row) => {
      const k = route.experts.indexOf(e);
      if (k >= 0) members.push({ row, weight: route.weights[k]! });
    });
    if (members.length === 0) continue;
    const input = new Float32Array(members.length * dim);
    members.forEach((m, i) => input.set(x.subarray(m.row * dim, (m.row + 1) * dim), i * dim));
    const w1 = lw.w1.subarray(e * h * dim, (e + 1) * h * dim);
    const w3 = lw.w3.subarray(e * h * dim, (e + 1) * h * dim);
    const w2 = lw.w2.subarray(e * dim * h, (e + 1) * dim * h);
    const [gate, up] = await Promise.all([linear(input, members.length, w1, h, dim), linear(input, members.length, w3, h, dim)]);
    addRowBias(gate, members.length, lw.b1?.subarray(e * h, (e + 1) * h));
    addRowBias(up, members.length, lw.b3?.subarray(e * h, (e + 1) * h));
    const activation = c.variant?.activation;
    const act = activation === 'gelu-tanh' ? geglu(gate, up) : activation === 'clamped-swiglu' ? clampedSwiglu(gate, up, c.variant?.swigluLimit ?? 7) : swiglu(gate, up);
    const down = await linear(act, members.length, w2, dim, h);
    addRowBias(down, members.length, lw.b2?.subarray(e * dim, (e + 1) * dim));
    members.forEach((m, i) => {
      for (let d = 0; d < dim; d++) out[m.row * dim + d] = out[m.row * dim + d]! + m.weight * down[i * dim + d]!;
    });
  }
  return out;
}
