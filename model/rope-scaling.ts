/**
 * RoPE frequencies of a model: plain RoPE (θ^(−2i/d)) and the scalings Hugging Face
 * checkpoints declare in `rope_scaling` (linear, dynamic NTK, Llama 3, YaRN). Every one of them
 * only changes the per-position rotation (the angle of each pair, and for YaRN a constant
 * factor on cos/sin), so RoPE stays a fixed public linear map per position: in the private
 * protocol each party still applies it to its own share (protocol.md, "A Llama-family layer").
 *
 * The math follows transformers' `modeling_rope_utils` (restated here, not copied):
 * - linear: θ_i / factor;
 * - dynamic (NTK-aware): at sequence length L > L0 the base becomes
 *   b · (factor·L/L0 − (factor − 1))^(d/(d−2)). transformers recomputes the table from the
 *   longest position seen so far, so its prefill and its token-by-token decode differ beyond L0.
 *   We fix it per position: position p uses L = max(p + 1, L0), which is what transformers'
 *   token-by-token decode does, and makes prefill and decode agree here;
 * - llama3: wavelengths above L0/low_freq_factor divided by factor, below L0/high_freq_factor
 *   kept, and a linear blend in (L0/wavelength) between;
 * - yarn: a ramp between interpolated (θ_i/factor) and extrapolated (θ_i) frequencies over the
 *   dimensions whose rotation count at L0 lies between beta_slow and beta_fast, and cos/sin
 *   multiplied by the attention factor (default 0.1·ln(factor) + 1);
 * - longrope (Phi-3.5, Phi-3-128k, Phi-4-mini): θ_i divided by short_factor[i] at sequence
 *   lengths up to L0 and by long_factor[i] beyond, cos/sin times the attention factor (default
 *   √(1 + ln(s)/ln(L0)) with s = max_position_embeddings / L0). transformers switches the whole
 *   table by the longest position seen; we switch per position (p + 1 > L0), as for dynamic.
 * With a partial rotary embedding (partial_rotary_factor < 1) the exponents use the rotary width
 * d_r: θ_i = θ^(−2i/d_r) for the d_r/2 rotating pairs.
 */
import { z } from 'zod';

const factor = z.number().positive();
const positiveInt = z.number().int().positive();

/** A validated RoPE scaling (our names; the HF config parser maps `rope_scaling` onto it). */
export const ropeScalingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), factor }).strict(),
  z.object({ type: z.literal('dynamic'), factor, originalMaxPositions: positiveInt }).strict(),
  z
    .object({
      type: z.literal('llama3'),
      factor,
      lowFreqFactor: z.number().positive(),
      highFreqFactor: z.number().positive(),
      originalMaxPositions: positiveInt,
    })
    .strict(),
  z
    .object({
      type: z.literal('yarn'),
      factor,
      originalMaxPositions: positiveInt,
      betaFast: z.number().positive(),
      betaSlow: z.number().positive(),
      /** Multiplies cos and sin (so q·k by its square). */
      attentionFactor: z.number().positive(),
      /** Round the correction range outward to whole dimensions (transformers' default true; gpt-oss sets false). */
      truncate: z.boolean(),
    })
    .strict(),
  z
    .object({
      type: z.literal('longrope'),
      shortFactor: z.array(factor).min(1),
      longFactor: z.array(factor).min(1),
      originalMaxPositions: positiveInt,
      attentionFactor: z.number().positive(),
    })
    .strict(),
]);

export type RopeScaling = z.infer<typeof ropeScalingSchema>;

/** transformers' YaRN default attention factor: 0.1·mscale·ln(s) + 1 for s > 1, else 1. */
export function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * The inverse frequency of each of the headDim/2 pairs at `position` (position only matters
 * for dynamic and longrope scaling), and the factor on cos/sin. `headDim` is the rotary width.
 */
export function ropeFrequencies(headDim: number, theta: number, scaling: RopeScaling | undefined, position: number): { inverse: Float64Array; attentionFactor: number } {
  const half = headDim / 2;
  const plain = (base: number): Float64Array => {
    const f = new Float64Array(half);
    for (let i = 0; i < half; i++) f[i] = 1 / base ** ((2 * i) / headDim);
    return f;
  };
  if (!scaling) return { inverse: plain(theta), attentionFactor: 1 };
  switch (scaling.type) {
    case 'linear': {
      const f = plain(theta);
      for (let i = 0; i < half; i++) f[i] = f[i]! / scaling.factor;
      return { inverse: f, attentionFactor: 1 };
    }
    case 'dynamic': {
      const length = Math.max(position + 1, scaling.originalMaxPositions);
      if (length <= scaling.originalMaxPositions) return { inverse: plain(theta), attentionFactor: 1 };
      const base = theta * ((scaling.factor * length) / scaling.originalMaxPositions - (scaling.factor - 1)) ** (headDim / (headDim - 2));
      return { inverse: plain(base), attentionFactor: 1 };
    }
    case 'llama3': {
      const f = plain(theta);
      const lowWavelength = scaling.originalMaxPositions / scaling.lowFreqFactor;
      const highWavelength = scaling.originalMaxPositions / scaling.highFreqFactor;
      for (let i = 0; i < half; i++) {
        const wavelength = (2 * Math.PI) / f[i]!;
        if (wavelength > lowWavelength) f[i] = f[i]! / scaling.factor;
        else if (wavelength >= highWavelength) {
          const smooth = (scaling.originalMaxPositions / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
          f[i] = (1 - smooth) * (f[i]! / scaling.factor) + smooth * f[i]!;
        }
      }
      return { inverse: f, attentionFactor: 1 };
    }
    case 'yarn': {
      const f = plain(theta);
      // The (fractional) dimension index whose pair turns `rotations` times over L0 positions.
      const dimensionOf = (rotations: number) => (headDim * Math.log(scaling.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
      let low = dimensionOf(scaling.betaFast);
      let high = dimensionOf(scaling.betaSlow);
      if (scaling.truncate) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, headDim - 1);
      if (low === high) high += 0.001;
      for (let i = 0; i < half; i++) {
        const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        const extrapolation = 1 - ramp; // 1: keep θ_i (high frequencies), 0: θ_i / factor
        f[i] = (f[i]! / scaling.factor) * (1 - extrapolation) + f[i]! * extrapolation;
      }
      return { inverse: f, attentionFactor: scaling.attentionFactor };
    }
    case 'longrope': {
      const ext = position + 1 > scaling.originalMaxPositions ? scaling.longFactor : scaling.shortFactor;
      if (ext.length !== half) throw new RangeError(`longrope: ${ext.length} factors for ${half} rotary pairs`);
      const f = plain(theta);
      for (let i = 0; i < half; i++) f[i] = f[i]! / ext[i]!;
      return { inverse: f, attentionFactor: scaling.attentionFactor };
    }
  }
}

/** Whether the frequencies differ between positions (then tables hold one row per position). */
export function ropeDependsOnPosition(scaling: RopeScaling | undefined): boolean {
  return scaling?.type === 'dynamic' || scaling?.type === 'longrope';
}
