/**
 * An independent reference forward pass for the families of hf-family-checkpoints.ts, written
 * from the math of transformers' modeling files (Llama, Qwen2/3, Phi-3, Gemma 2/3, Mixtral,
 * Qwen3-MoE) and sharing no code with plaintext/ or model/: it reads the raw HF config.json
 * fields and HF-named tensors in HF's own layout (half-split "rotate_half" RoPE, fused Phi-3
 * projections, Gemma's 1 + w norms, per-expert tensors), in float64 with plain loops, and
 * recomputes the whole sequence for every call (no cache). Deliberately slow and simple.
 *
 * Dynamic NTK RoPE: the rotation of position p uses the sequence length p + 1, which is what
 * transformers' token-by-token decode does (its prefill would use the prompt length instead).
 */
import type { HfCheckpoint, HfConfig } from './hf-family-checkpoints.js';

type Vec = Float64Array<ArrayBuffer>;

function get(ck: HfCheckpoint, name: string): Float32Array {
  const t = ck.tensors.get(name);
  if (!t) throw new Error(`reference: no tensor ${name}`);
  return t.data;
}

function has(ck: HfCheckpoint, name: string): boolean {
  return ck.tensors.has(name);
}

/** y = W·x for W[rows, cols] (rows from `rowFrom`). */
function matvec(w: Float32Array, x: Vec, rows: number, cols: number, rowFrom = 0): Vec {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = (rowFrom + r) * cols;
    for (let c = 0; c < cols; c++) s += w[base + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

function rmsnorm(x: Vec, w: Float32Array, eps: number, plusOne: boolean): Vec {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * (plusOne ? 1 + w[i]! : w[i]!));
}

function siluOf(x: number): number {
  return x / (1 + Math.exp(-x));
}

function geluTanhOf(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** bf16 rounding of a float32 (round to nearest even), for Gemma's √hidden normalizer. */
function toBf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  const lsb = (u[0]! >>> 16) & 1;
  u[0] = ((u[0]! + 0x7fff + lsb) >>> 16) << 16;
  return f[0]!;
}

/** transformers' inv_freq and attention scaling for rope parameters `rs` at sequence length `seqLen`. */
export function referenceInvFreq(dim: number, base: number, rs: HfConfig | null | undefined, maxPositions: number, seqLen: number, topOriginal?: number): { invFreq: number[]; attentionScaling: number } {
  const baseFreq = (b: number) => Array.from({ length: dim / 2 }, (_, j) => 1 / b ** ((2 * j) / dim));
  const kind = rs ? ((rs['rope_type'] ?? rs['type']) as string) : 'default';
  const f = (k: string) => rs![k] as number;
  if (kind === 'default') return { invFreq: baseFreq(base), attentionScaling: 1 };
  if (kind === 'linear') return { invFreq: baseFreq(base).map((v) => v / f('factor')), attentionScaling: 1 };
  if (kind === 'dynamic') {
    const orig = (rs!['original_max_position_embeddings'] as number | undefined) ?? maxPositions;
    if (seqLen <= orig) return { invFreq: baseFreq(base), attentionScaling: 1 };
    const newBase = base * ((f('factor') * seqLen) / orig - (f('factor') - 1)) ** (dim / (dim - 2));
    return { invFreq: baseFreq(newBase), attentionScaling: 1 };
  }
  if (kind === 'llama3') {
    const old = f('original_max_position_embeddings');
    const lowWave = old / f('low_freq_factor');
    const highWave = old / f('high_freq_factor');
    const invFreq = baseFreq(base).map((v) => {
      const wave = (2 * Math.PI) / v;
      if (wave < highWave) return v;
      if (wave > lowWave) return v / f('factor');
      const smooth = (old / wave - f('low_freq_factor')) / (f('high_freq_factor') - f('low_freq_factor'));
      return (1 - smooth) * (v / f('factor')) + smooth * v;
    });
    return { invFreq, attentionScaling: 1 };
  }
  if (kind === 'yarn') {
    const factor = f('factor');
    const orig = (rs!['original_max_position_embeddings'] as number | undefined) ?? maxPositions;
    const betaFast = (rs!['beta_fast'] as number | undefined) ?? 32;
    const betaSlow = (rs!['beta_slow'] as number | undefined) ?? 1;
    const mscale = (s: number, m = 1) => (s <= 1 ? 1 : 0.1 * m * Math.log(s) + 1);
    const attentionScaling = (rs!['attention_factor'] as number | undefined) ?? mscale(factor);
    const corr = (rot: number) => (dim * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(base));
    const truncate = (rs!['truncate'] as boolean | undefined) ?? true;
    let low = corr(betaFast);
    let high = corr(betaSlow);
    if (truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
    low = Math.max(low, 0);
    high = Math.min(high, dim - 1);
    if (low === high) high += 0.001;
    const invFreq = baseFreq(base).map((extrap, j) => {
      const ramp = Math.min(1, Math.max(0, (j - low) / (high - low)));
      const extrapolationFactor = 1 - ramp;
      return (extrap / factor) * (1 - extrapolationFactor) + extrap * extrapolationFactor;
    });
    return { invFreq, attentionScaling };
  }
  if (kind === 'longrope' || kind === 'su') {
    const orig = topOriginal ?? (rs!['original_max_position_embeddings'] as number | undefined) ?? maxPositions;
    const factor = topOriginal !== undefined ? maxPositions / topOriginal : ((rs!['factor'] as number | undefined) ?? 1);
    const attentionScaling = (rs!['attention_factor'] as number | undefined) ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(orig)));
    const ext = (seqLen > orig ? rs!['long_factor'] : rs!['short_factor']) as number[];
    return { invFreq: baseFreq(base).map((v, j) => v / ext[j]!), attentionScaling };
  }
  throw new Error(`reference: rope type ${kind}`);
}

/** HF RoPE on one head vector: the first 2·invFreq.length coordinates rotate as half-split pairs (j, j + r/2), the rest pass. */
function rotateHalf(x: Vec, invFreq: number[], scaling: number, pos: number): Vec {
  const half = invFreq.length;
  const out = Float64Array.from(x);
  for (let j = 0; j < half; j++) {
    const cos = Math.cos(pos * invFreq[j]!) * scaling;
    const sin = Math.sin(pos * invFreq[j]!) * scaling;
    out[j] = x[j]! * cos - x[j + half]! * sin;
    out[j + half] = x[j + half]! * cos + x[j]! * sin;
  }
  return out;
}

/** Logits [vocab] of every position of `tokens`. */
export function referenceLogits(ck: HfCheckpoint, tokens: readonly number[]): Vec[] {
  const c = ck.config;
  const arch = (c['architectures'] as string[])[0]!;
  const gemma = arch.startsWith('Gemma');
  const gemma3 = arch === 'Gemma3ForCausalLM';
  const d = c['hidden_size'] as number;
  const H = c['num_attention_heads'] as number;
  const KV = (c['num_key_value_heads'] as number | undefined) ?? H;
  const hd = (c['head_dim'] as number | undefined) ?? d / H;
  const L = c['num_hidden_layers'] as number;
  const V = c['vocab_size'] as number;
  const eps = c['rms_norm_eps'] as number;
  const inter = c['intermediate_size'] as number;
  const T = tokens.length;
  const maxPos = c['max_position_embeddings'] as number;
  const theta = (c['rope_theta'] as number | undefined) ?? 10000;
  const scaling = gemma ? (c['query_pre_attn_scalar'] as number) ** -0.5 : hd ** -0.5;
  const attnCap = c['attn_logit_softcapping'] as number | null | undefined;
  const finalCap = c['final_logit_softcapping'] as number | null | undefined;
  const act = gemma ? geluTanhOf : siluOf;
  const fusedPhi = arch === 'Phi3ForCausalLM';
  const qkNorm = arch === 'Qwen3ForCausalLM' || arch === 'Qwen3MoeForCausalLM' || gemma3;
  const gptOss = arch === 'GptOssForCausalLM';
  const layerTypes = c['layer_types'] as string[] | undefined;
  const slidingAt = (l: number): boolean => {
    if (layerTypes) return layerTypes[l] === 'sliding_attention';
    if (arch === 'Gemma2ForCausalLM') return l % 2 === 0;
    if (gemma3) return (l + 1) % ((c['sliding_window_pattern'] as number) ?? 6) !== 0;
    return false;
  };
  // Phi-3 and Mistral-style models use one window everywhere; the tests stay inside it.
  const window = c['sliding_window'] as number | null;

  const emb = get(ck, 'model.embed_tokens.weight');
  const normalizer = gemma ? (c['torch_dtype'] === 'bfloat16' ? toBf16(Math.sqrt(d)) : Math.fround(Math.sqrt(d))) : 1;
  let xs: Vec[] = tokens.map((t) => Float64Array.from(emb.subarray(t * d, (t + 1) * d), (v) => v * normalizer));

  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    const isSliding = slidingAt(l);
    const ropeBase = gemma3 && isSliding ? ((c['rope_local_base_freq'] as number) ?? 10000) : theta;
    const ropeScaling = gemma3 && isSliding ? null : (c['rope_scaling'] as HfConfig | null | undefined);
    const qs: Vec[][] = [];
    const ks: Vec[][] = [];
    const vs: Vec[][] = [];
    for (let t = 0; t < T; t++) {
      const n = rmsnorm(xs[t]!, get(ck, `${p}input_layernorm.weight`), eps, gemma);
      let q: Vec, k: Vec, v: Vec;
      if (fusedPhi) {
        const w = get(ck, `${p}self_attn.qkv_proj.weight`);
        q = matvec(w, n, H * hd, d, 0);
        k = matvec(w, n, KV * hd, d, H * hd);
        v = matvec(w, n, KV * hd, d, H * hd + KV * hd);
      } else {
        q = matvec(get(ck, `${p}self_attn.q_proj.weight`), n, H * hd, d);
        k = matvec(get(ck, `${p}self_attn.k_proj.weight`), n, KV * hd, d);
        v = matvec(get(ck, `${p}self_attn.v_proj.weight`), n, KV * hd, d);
      }
      if (has(ck, `${p}self_attn.q_proj.bias`)) {
        const bq = get(ck, `${p}self_attn.q_proj.bias`);
        const bk = get(ck, `${p}self_attn.k_proj.bias`);
        const bv = get(ck, `${p}self_attn.v_proj.bias`);
        q = q.map((x, i) => x + bq[i]!);
        k = k.map((x, i) => x + bk[i]!);
        v = v.map((x, i) => x + bv[i]!);
      }
      const rotary = Math.floor(hd * ((c['partial_rotary_factor'] as number | undefined) ?? 1));
      const { invFreq, attentionScaling } = referenceInvFreq(rotary, ropeBase, ropeScaling, maxPos, t + 1, c['original_max_position_embeddings'] as number | undefined);
      const headsOf = (x: Vec, n: number, normName: string): Vec[] =>
        Array.from({ length: n }, (_, h) => {
          let head = x.slice(h * hd, (h + 1) * hd);
          if (qkNorm) head = rmsnorm(head, get(ck, `${p}self_attn.${normName}.weight`), eps, gemma);
          return rotateHalf(head, invFreq, attentionScaling, t);
        });
      qs.push(headsOf(q, H, 'q_norm'));
      ks.push(headsOf(k, KV, 'k_norm'));
      vs.push(Array.from({ length: KV }, (_, h) => v.slice(h * hd, (h + 1) * hd)));
    }
    const next: Vec[] = [];
    for (let t = 0; t < T; t++) {
      const attn = new Float64Array(H * hd);
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / KV));
        const first = isSliding && window != null ? Math.max(0, t - window + 1) : 0;
        const scores: number[] = [];
        for (let s = first; s <= t; s++) {
          let dot = 0;
          for (let j = 0; j < hd; j++) dot += qs[t]![h]![j]! * ks[s]![g]![j]!;
          let score = dot * scaling;
          if (attnCap != null) score = Math.tanh(score / attnCap) * attnCap;
          scores.push(score);
        }
        // gpt-oss: the head's sink logit joins the softmax (and is dropped after it).
        const sink = has(ck, `${p}self_attn.sinks`) ? get(ck, `${p}self_attn.sinks`)[h]! : undefined;
        const m = Math.max(...scores, sink ?? -Infinity);
        const e = scores.map((z) => Math.exp(z - m));
        const sum = e.reduce((a, b) => a + b, 0) + (sink === undefined ? 0 : Math.exp(sink - m));
        for (let s = first; s <= t; s++) {
          const w = e[s - first]! / sum;
          for (let j = 0; j < hd; j++) attn[h * hd + j] = attn[h * hd + j]! + w * vs[s]![g]![j]!;
        }
      }
      let o = matvec(get(ck, `${p}self_attn.o_proj.weight`), attn, d, H * hd);
      if (has(ck, `${p}self_attn.o_proj.bias`)) {
        const bo = get(ck, `${p}self_attn.o_proj.bias`);
        o = o.map((x, i) => x + bo[i]!);
      }
      if (gemma) o = rmsnorm(o, get(ck, `${p}post_attention_layernorm.weight`), eps, true);
      const x = xs[t]!.map((v, i) => v + o[i]!);
      const n2 = rmsnorm(x, get(ck, gemma ? `${p}pre_feedforward_layernorm.weight` : `${p}post_attention_layernorm.weight`), eps, gemma);
      let mlp: Vec;
      const denseMlp = (gate: Vec, up: Vec, down: Float32Array, width: number): Vec => matvec(down, gate.map((g, i) => act(g) * up[i]!), d, width);
      if (gptOss) {
        const E = c['num_local_experts'] as number;
        const K = c['num_experts_per_tok'] as number;
        const limit = (c['swiglu_limit'] as number | undefined) ?? 7;
        const rb = get(ck, `${p}mlp.router.bias`);
        const logits = matvec(get(ck, `${p}mlp.router.weight`), n2, E, d).map((z, e) => z + rb[e]!);
        const top = Array.from(logits, (z, e) => ({ e, z })).sort((a, b) => b.z - a.z || a.e - b.e).slice(0, K);
        const mx = top[0]!.z;
        const total = top.reduce((a, t) => a + Math.exp(t.z - mx), 0);
        const gu = get(ck, `${p}mlp.experts.gate_up_proj`); // [E, d, 2·inter], x·W
        const gub = get(ck, `${p}mlp.experts.gate_up_proj_bias`);
        const dn = get(ck, `${p}mlp.experts.down_proj`); // [E, inter, d]
        const dnb = get(ck, `${p}mlp.experts.down_proj_bias`);
        mlp = new Float64Array(d);
        for (const { e, z } of top) {
          const weight = Math.exp(z - mx) / total;
          const gated = new Float64Array(inter);
          for (let j = 0; j < inter; j++) {
            let g = gub[e * 2 * inter + 2 * j]!;
            let u = gub[e * 2 * inter + 2 * j + 1]!;
            for (let i = 0; i < d; i++) {
              g += n2[i]! * gu[(e * d + i) * 2 * inter + 2 * j]!;
              u += n2[i]! * gu[(e * d + i) * 2 * inter + 2 * j + 1]!;
            }
            g = Math.min(g, limit);
            u = Math.min(Math.max(u, -limit), limit);
            gated[j] = (u + 1) * g * (1 / (1 + Math.exp(-1.702 * g)));
          }
          for (let o = 0; o < d; o++) {
            let y = dnb[e * d + o]!;
            for (let j = 0; j < inter; j++) y += gated[j]! * dn[(e * inter + j) * d + o]!;
            mlp[o] = mlp[o]! + weight * y;
          }
        }
      } else if (arch === 'MixtralForCausalLM' || arch === 'Qwen3MoeForCausalLM') {
        const mixtral = arch === 'MixtralForCausalLM';
        const E = (mixtral ? c['num_local_experts'] : c['num_experts']) as number;
        const K = c['num_experts_per_tok'] as number;
        const width = mixtral ? inter : (c['moe_intermediate_size'] as number);
        const logits = matvec(get(ck, mixtral ? `${p}block_sparse_moe.gate.weight` : `${p}mlp.gate.weight`), n2, E, d);
        const mx = Math.max(...logits);
        const probs = Array.from(logits, (z) => Math.exp(z - mx));
        const total = probs.reduce((a, b) => a + b, 0);
        const ranked = probs.map((pr, e) => ({ e, pr: pr / total })).sort((a, b) => b.pr - a.pr || a.e - b.e).slice(0, K);
        const norm = mixtral || c['norm_topk_prob'] === true ? ranked.reduce((a, b) => a + b.pr, 0) : 1;
        mlp = new Float64Array(d);
        for (const { e, pr } of ranked) {
          const base = mixtral ? `${p}block_sparse_moe.experts.${e}.` : `${p}mlp.experts.${e}.`;
          const gate = matvec(get(ck, `${base}${mixtral ? 'w1' : 'gate_proj'}.weight`), n2, width, d);
          const up = matvec(get(ck, `${base}${mixtral ? 'w3' : 'up_proj'}.weight`), n2, width, d);
          const y = denseMlp(gate, up, get(ck, `${base}${mixtral ? 'w2' : 'down_proj'}.weight`), width);
          for (let i = 0; i < d; i++) mlp[i] = mlp[i]! + (pr / norm) * y[i]!;
        }
      } else if (fusedPhi) {
        const w = get(ck, `${p}mlp.gate_up_proj.weight`);
        mlp = denseMlp(matvec(w, n2, inter, d, 0), matvec(w, n2, inter, d, inter), get(ck, `${p}mlp.down_proj.weight`), inter);
      } else {
        mlp = denseMlp(matvec(get(ck, `${p}mlp.gate_proj.weight`), n2, inter, d), matvec(get(ck, `${p}mlp.up_proj.weight`), n2, inter, d), get(ck, `${p}mlp.down_proj.weight`), inter);
      }
      if (gemma) mlp = rmsnorm(mlp, get(ck, `${p}post_feedforward_layernorm.weight`), eps, true);
      next.push(x.map((v, i) => v + mlp[i]!));
    }
    xs = next;
  }
  const head = has(ck, 'lm_head.weight') ? get(ck, 'lm_head.weight') : emb;
  return xs.map((x) => {
    const logits = matvec(head, rmsnorm(x, get(ck, 'model.norm.weight'), eps, gemma), V, d);
    return finalCap != null ? logits.map((z) => Math.tanh(z / finalCap) * finalCap) : logits;
  });
}

/** Greedy continuation by the reference: `count` tokens after `prompt` (argmax, lowest id on ties). */
export function referenceGreedy(ck: HfCheckpoint, prompt: readonly number[], count: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const logits = referenceLogits(ck, seq).at(-1)!;
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
    out.push(best);
    seq.push(best);
  }
  return out;
}
