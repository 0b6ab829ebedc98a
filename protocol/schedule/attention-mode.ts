/**
 * The attention modes a session can run (issue 12). The model owner decides which its engine
 * allows (model card, `attentionModes`); the gateway runs the fastest the card allows; every
 * party checks the session's mode against its own configuration.
 *
 * - `beaver` (paper exposure, PermLLM's schedule): scores and P·V are products on shares (Beaver, or P·V fused);
 *   the user sees each nonlinear step's input under a fresh secret permutation (residual rows,
 *   score rows, gate/up values), as in Zheng et al. 2024. Under ring64, dense Llama-layer models
 *   defer the FFN norm into the SwiGLU step (ring-deferred-ffn-step.ts), and every ring64 layer
 *   evaluates P·V inside the softmax's flights where the plan's byte bound allows
 *   (ring-fused-values.ts, plan-fused-values.ts): 8 flights per layer on stories260K, 10 without
 *   the deferral, 12 under permllm-f64.
 * - `single-view` (ring64 only): the engine applies W_qkv and W_gate|up to the un-normalised
 *   residual (deferred normalisation) and the user receives, per layer, q and the new k, v rows
 *   under a per-head coordinate permutation fixed for the session (RoPE applied before
 *   permuting), plus the residual row under a fresh permutation (for rms(x)); it keeps the
 *   permuted K/V cache, computes scores, softmax and P·V itself and re-shares the head outputs.
 *   Extra exposure to the user: permuted q/k/v for the whole session (one coordinate permutation
 *   per KV head, so relations between positions are visible), the attention pattern (every
 *   probability, in position order), and each row's rms(x). Four one-way flights per layer.
 */
export const ATTENTION_MODES = ['beaver', 'single-view'] as const;
export type AttentionMode = (typeof ATTENTION_MODES)[number];

/** What the engine allows unless its operator says otherwise: the paper's exposure only. */
export const DEFAULT_ATTENTION_MODES: readonly AttentionMode[] = ['beaver'];

/** Fastest first (fewest flights per layer). */
const SPEED_ORDER: readonly AttentionMode[] = ['single-view', 'beaver'];

export function isAttentionMode(value: unknown): value is AttentionMode {
  return typeof value === 'string' && (ATTENTION_MODES as readonly string[]).includes(value);
}

/** The fastest of the allowed modes (the gateway's choice), or undefined when none is known. */
export function fastestAttentionMode(allowed: readonly AttentionMode[]): AttentionMode | undefined {
  return SPEED_ORDER.find((m) => allowed.includes(m));
}

export class AttentionModeRefused extends Error {
  override readonly name = 'AttentionModeRefused';
  constructor(readonly mode: string, readonly allowed: readonly AttentionMode[]) {
    super(`attention mode ${mode} is not allowed here (allowed: ${allowed.join(', ')})`);
  }
}

/** Throws unless `mode` is one of `allowed` (engine and dealer, at session start). */
export function assertAttentionAllowed(mode: AttentionMode, allowed: readonly AttentionMode[]): void {
  if (!allowed.includes(mode)) throw new AttentionModeRefused(mode, allowed);
}
