/**
 * Which models the private protocol can run: the one place that decides it.
 *
 * The protocol evaluates exactly the Llama layer of protocol.md (RMSNorm, q/k/v, RoPE, softmax
 * attention, SwiGLU, LM head), with any RoPE scaling (it only changes the public per-position
 * rotation both parties apply to their own shares). Every other nonlinear step must become a new
 * private step under the permutation protocol (an Elem with a permutation shaped for it), never
 * a public shortcut; until it exists, a model that needs it is refused here, with the step named,
 * before any pairing, masking or session starts. The plaintext oracle still runs such models.
 */
import type { ModelConfig, ModelVariant } from '../../model/model-description.js';

/** The private steps each variant field needs, in words for the error. */
const MISSING_STEPS: Readonly<Record<keyof ModelVariant, string>> = {
  qkNorm: 'per-head q/k RMSNorm before RoPE (a row-wise Elem over each head of q and k)',
  activation: 'the FFN gate of this activation (a paired Elem)',
  swigluLimit: 'the clamps of gpt-oss\'s SwiGLU (inside its paired Elem)',
  attentionSinks: 'attention sinks (a per-head logit joining the softmax Elem)',
  outputBias: 'an o_proj bias (MulW with a bias on the output projection)',
  postNorms: 'RMSNorm of the attention and FFN outputs (post-norms, row-wise Elem)',
  embeddingScale: 'the embedding scale on input only (the LM head is tied to the embedding)',
  attentionScale: 'a query_pre_attn_scalar score scale in the softmax step',
  attentionSoftcap: 'attention logit soft-capping cap·tanh(s/cap) inside the softmax Elem',
  finalSoftcap: 'final logit soft-capping cap·tanh(z/cap) before the token lookup',
  layerWindows: 'per-layer sliding-window attention masks',
  localRope: 'a second RoPE table for the sliding-window layers',
  moe: 'mixture-of-experts routing (secret-shared top-k gate weights over every expert)',
};

const ACTIVATION_STEPS: Readonly<Record<NonNullable<ModelVariant['activation']>, string>> = {
  silu: '',
  'gelu-tanh': 'the tanh-GELU gate gelu(g) ⊙ u (a paired Elem)',
  'clamped-swiglu': "gpt-oss's clamped SwiGLU gate (u + 1) ⊙ g·σ(1.702·g) (a paired Elem)",
};

/** Which number format's private program is asked about (the ring64 program has more steps). */
export type PrivateProgram = 'float' | 'ring64';

/**
 * The variant fields each program evaluates as private steps (both programs, the same steps):
 * the per-head q/k norm (a row-wise Elem, γ in a diagonal MulW: protocol/schedule/qk-norm-step.ts,
 * ring-qk-norm-step.ts), Gemma's tanh-GELU gate (a paired Elem), post-norms (a row-wise Elem, γ
 * in a diagonal MulW: post-norm-step.ts, ring-post-norm-step.ts), the embedding scale (folded into
 * the input embedding), the score scale and attention soft-cap (inside the softmax Elem), the
 * final soft-cap (on the user's permuted logits), per-layer windows (public masks the engine
 * adds) and the local RoPE (a second table). The activation entry covers 'gelu-tanh' only (see
 * supported()). Mixture of experts exists under ring64 only (protocol/schedule/ring-moe-ffn.ts),
 * with the SwiGLU gate and no router or expert biases (Mixtral; Qwen3-MoE's router); sinks, the
 * o_proj bias and gpt-oss's biased, clamped experts are still refused.
 */
const SUPPORTED: Readonly<Record<PrivateProgram, ReadonlySet<keyof ModelVariant>>> = {
  float: new Set(['qkNorm', 'activation', 'postNorms', 'embeddingScale', 'attentionScale', 'attentionSoftcap', 'finalSoftcap', 'layerWindows', 'localRope']),
  ring64: new Set(['qkNorm', 'activation', 'postNorms', 'embeddingScale', 'attentionScale', 'attentionSoftcap', 'finalSoftcap', 'layerWindows', 'localRope', 'moe']),
};

function supported(program: PrivateProgram, variant: ModelVariant, key: keyof ModelVariant): boolean {
  if (variant[key] === undefined || variant[key] === false) return true;
  if (key === 'activation') return variant.activation === 'silu' || variant.activation === 'gelu-tanh';
  if (key === 'moe') return program === 'ring64' && !variant.moe?.biases && (variant.activation === undefined || variant.activation === 'silu');
  return SUPPORTED[program].has(key);
}

/** The names of the private steps `config` needs and `program` does not have (empty: runnable). */
export function missingPrivateSteps(config: ModelConfig, program: PrivateProgram = 'float'): string[] {
  const variant = config.variant;
  if (!variant) return [];
  return (Object.keys(MISSING_STEPS) as (keyof ModelVariant)[])
    .filter((key) => !supported(program, variant, key))
    .map((key) => (key === 'activation' ? ACTIVATION_STEPS[variant.activation!] : key === 'moe' && program !== 'ring64' ? `${MISSING_STEPS.moe} under this profile (it runs under ring64)` : MISSING_STEPS[key]));
}

/** A model the private protocol cannot serve yet: which steps it lacks. */
export class UnsupportedPrivateModelError extends Error {
  override readonly name = 'UnsupportedPrivateModelError';

  constructor(
    readonly modelId: string,
    readonly architecture: string,
    readonly missingSteps: readonly string[],
  ) {
    super(
      `model ${modelId} (${architecture}) cannot be served privately: the private protocol has no step for ${missingSteps.join('; ')}. ` +
        'Run it with the plaintext oracle (permllm generate --plaintext) until those private steps exist.',
    );
  }
}

/** Throws UnsupportedPrivateModelError unless `program` can run `config` privately. */
export function assertPrivatelyServable(modelId: string, config: ModelConfig, program: PrivateProgram = 'float'): void {
  const missing = missingPrivateSteps(config, program);
  if (missing.length > 0) throw new UnsupportedPrivateModelError(modelId, config.architecture, missing);
}
