/**
 * Number format and mask widths: one configuration object, so that our float64 profile can be
 * compared with the paper's float32 one (protocol.md, "Numbers").
 *
 * Every additive mask is uniform on [−w, w] with w = ratio × bound, where `bound` is a generous
 * magnitude bound of the tensor family it hides and `ratio` says how much wider than the value
 * the mask is (PermLLM: 100). Products of two masked operands carry the product of both ratios,
 * so the float64 budget (53 bits) is split: data masks 2^20 (the user's data: 10^4 times the
 * paper's 100x), weight masks 2^7 (above the paper's 100x), Beaver operand masks 2^12 each, and
 * the masks that hide products (W0) as wide as the product they hide. Measured on stories260K:
 * logits within 6e-5 of plaintext (relative to max |logit|); see the protocol tests.
 */
import type { Prg } from '../../crypto/prg.js';

export type TensorFamily =
  | 'onehot' // token one-hot rows (embedding input)
  | 'residual' // the residual stream h
  | 'normed' // RMSNorm outputs (γ folded away): inputs of q/k/v, gate/up, LM head
  | 'query'
  | 'key'
  | 'value'
  | 'scores' // q·kᵀ before softmax
  | 'probs' // softmax outputs
  | 'attention' // P·V, input of the output projection
  | 'gate-up' // SwiGLU inputs
  | 'ffn' // SwiGLU output, input of the down projection
  | 'logits';

/** float64/float32: real shares, statistical hiding. ring64: shares in Z_2^64, perfect hiding (protocol/masks/ring-masks.ts). */
export type ShareDtype = 'float64' | 'float32' | 'ring64';

/**
 * How well a received value hides the data: 'perfect' (uniform over the ring whatever the data)
 * or 'statistical' (a real mask a fixed ratio wider than the value: leaks add up per element).
 */
export type HidingKind = 'perfect' | 'statistical';

export interface FamilyMask {
  /** Magnitude bound of the family's values (an assumption; precision degrades beyond it). */
  bound: number;
  /** Mask half-width divided by bound. */
  ratio: number;
}

export interface MaskProfile {
  readonly name: string;
  /** The number type shares are stored and sent in. */
  readonly dtype: ShareDtype;
  /** What the engine's view reveals (README security section). */
  readonly hiding: HidingKind;
  /** Additive data masks (Perm A/B, Elem A′/B′, MulW input V) per family. */
  readonly families: Readonly<Record<TensorFamily, FamilyMask>>;
  /** Weight mask U half-width = weightRatio × max|X| of the matrix (P0 publishes max|X| rounded up to a power of two). */
  readonly weightRatio: number;
  /** Beaver operand masks (MulKV U, V) half-width = beaverRatio × bound of the operand's family. */
  readonly beaverRatio: number;
  /** Product masks (W0) half-width = productFactor × (typical magnitude of the masked product). */
  readonly productFactor: number;
  /** Large negative number P0 adds to masked-out attention scores (causal mask). */
  readonly causalMaskValue: number;
  /**
   * ring64: data masks are uniform on [−2^(b−1), 2^(b−1)) instead of the whole ring when set
   * below 64. ONLY for the view distinguisher's deliberately weak control profile; absent = 64.
   */
  readonly ringMaskBits?: number;
}

function families(ratio: number): Record<TensorFamily, FamilyMask> {
  const bounds: Record<TensorFamily, number> = {
    onehot: 1,
    residual: 64,
    normed: 8,
    query: 32,
    key: 32,
    value: 32,
    scores: 256,
    probs: 1,
    attention: 32,
    'gate-up': 64,
    ffn: 64,
    logits: 64,
  };
  const out = {} as Record<TensorFamily, FamilyMask>;
  for (const [family, bound] of Object.entries(bounds) as [TensorFamily, number][]) out[family] = { bound, ratio };
  return out;
}

/**
 * The float64 profile, kept for comparison: STATISTICAL hiding only (data masks 2^20 times the
 * family bound; the engine's advantage grows with the number of elements it sees).
 */
export const PERMLLM_PROFILE: MaskProfile = Object.freeze({
  name: 'permllm-f64',
  dtype: 'float64',
  hiding: 'statistical',
  families: Object.freeze(families(2 ** 20)),
  weightRatio: 2 ** 7,
  beaverRatio: 2 ** 12,
  productFactor: 1,
  causalMaskValue: -1e30,
});

/** The paper's setting, for comparison only: float32 shares, every mask 100x the value. */
export const PAPER_PROFILE: MaskProfile = Object.freeze({
  name: 'paper-f32',
  dtype: 'float32',
  hiding: 'statistical',
  families: Object.freeze(families(100)),
  weightRatio: 100,
  beaverRatio: 100,
  productFactor: 1,
  causalMaskValue: -1e30,
});

/**
 * The default: every share in Z_2^64 with the fixed-point encoding of the model's plan
 * (model/fixed-point/fixed-point-plan.ts) and every mask uniform over the ring, so each value
 * the engine receives is exactly uniform whatever the prompt. The float fields below are unused
 * by the ring sub-protocols (protocol/subprotocols/ring); they keep the one profile type.
 */
export const RING64_PROFILE: MaskProfile = Object.freeze({
  name: 'ring64',
  dtype: 'ring64',
  hiding: 'perfect',
  families: Object.freeze(families(Infinity)),
  weightRatio: Infinity,
  beaverRatio: Infinity,
  productFactor: 1,
  causalMaskValue: -(2 ** 62),
});

/** The profile sessions use unless told otherwise. */
export const DEFAULT_PROFILE: MaskProfile = RING64_PROFILE;

export const MASK_PROFILES: Readonly<Record<string, MaskProfile>> = Object.freeze({
  [RING64_PROFILE.name]: RING64_PROFILE,
  [PERMLLM_PROFILE.name]: PERMLLM_PROFILE,
  [PAPER_PROFILE.name]: PAPER_PROFILE,
});

/**
 * How well each profile hides the user's data, weakest first: the gateway's minimum profile
 * (`permllm gateway --min-profile`) refuses every profile listed before it. A new profile goes in
 * at its place in this list (an exact ring profile above permllm-f64).
 */
export const PROFILE_STRENGTH: readonly string[] = Object.freeze([PAPER_PROFILE.name, PERMLLM_PROFILE.name, RING64_PROFILE.name]);

/** Whether `profile` protects at least as well as `minimum` (unknown names never do). */
export function profileAtLeast(profile: string, minimum: string): boolean {
  const have = PROFILE_STRENGTH.indexOf(profile);
  const need = PROFILE_STRENGTH.indexOf(minimum);
  return have >= 0 && need >= 0 && have >= need;
}

export function dataMaskWidth(profile: MaskProfile, family: TensorFamily): number {
  const f = profile.families[family];
  return f.ratio * f.bound;
}

export function beaverMaskWidth(profile: MaskProfile, family: TensorFamily): number {
  return profile.beaverRatio * profile.families[family].bound;
}

/**
 * Draws a uniform mask on [−width, width) from `prg`, already in the profile's dtype, so that
 * every party that derives the same mask (a party and the dealer) holds the same numbers.
 */
export function drawMask(profile: MaskProfile, prg: Prg, n: number, width: number): Float64Array {
  return roundToDtype(profile, prg.uniformArray(n, width));
}

/** Rounds every element to the profile's share dtype in place (float32 emulation for the paper profile). */
export function roundToDtype(profile: MaskProfile, data: Float64Array): Float64Array {
  if (profile.dtype === 'float32') {
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]!);
  }
  return data;
}
