/**
 * Worst-case rounding-error bounds for the sub-protocols, derived from the mask widths of a
 * profile (protocol/masks). Every bound is a function of public widths and of the magnitudes
 * of the test's own inputs, never of the result it checks.
 *
 * Notation: u is the unit roundoff of the share dtype (2^-53 for float64, 2^-24 for float32:
 * shares and messages are rounded to it), e = 2^-53 is the unit roundoff of the float64
 * arithmetic every party computes in. A float64 dot product of length n whose terms have
 * absolute sum Σ has error at most γ_n·Σ ≈ n·e·Σ (Higham, "Accuracy and Stability of Numerical
 * Algorithms", §3.1). Each value rounded to the share dtype moves by at most u times its
 * magnitude. Reconstruction z0 + z1 cancels the masks, so the absolute error is of the order
 * of the MASKED magnitudes, not of the result: that is why wide masks cost precision.
 */
import { beaverMaskWidth, dataMaskWidth, type MaskProfile, type TensorFamily } from '../../protocol/masks/mask-profile.js';
import type { ElemFunction } from '../../protocol/subprotocols/elem-function.js';

export const F64_UNIT = 2 ** -53;

export function unitRoundoff(profile: MaskProfile): number {
  return profile.dtype === 'float32' ? 2 ** -24 : F64_UNIT;
}

/**
 * MulW, per output element: n = inDim, s = the weight's public scale (≥ max|X|), wr the weight
 * ratio (|U| ≤ wr·s), vW the half-width of V, ym = max|y|, bm = max|bias|.
 *   A  = n·s·(vW + ym) + bm       bounds |f(X, y − V)| and |f(X, V)|;
 *   F  = n·(1 + wr)·s·vW          bounds |f(U, V)| and |f(X − U, V)|;
 *   W0 = productFactor·wr·s·vW·√n (the product mask's half-width).
 * Rounded to the dtype: z0 (≤ A + W0), z1 (≤ A + W0), W1 = f(U,V) − W0 (≤ F + W0), and D
 * (effect Σ|X|·u|D| ≤ u·A): u·(3A + 3W0 + F). Float64: three dot products of length n with
 * absolute sums ≤ F + A, and four additions of terms ≤ F + A + W0: (3n + 4)·e·(F + A + W0).
 */
export function mulWBound(profile: MaskProfile, p: { inDim: number; scale: number; vWidth: number; yMax: number; biasMax?: number }): number {
  const u = unitRoundoff(profile);
  const { inDim: n, scale: s, vWidth: vW, yMax: ym } = p;
  const wr = profile.weightRatio;
  const A = n * s * (vW + ym) + (p.biasMax ?? 0);
  const F = n * (1 + wr) * s * vW;
  const W0 = profile.productFactor * wr * s * vW * Math.sqrt(n);
  return u * (3 * A + 3 * W0 + F) + (3 * n + 4) * F64_UNIT * (F + A + W0);
}

/**
 * Perm (and the opening half of Elem), per element of P1's view π(x): every intermediate
 * (x1 − A, x0 + x1 − A, Δ = π(A) − B, z0 = π(x) − B, z0 + B) has magnitude at most
 * S = |x0| + |x1| + 2w with w the family's mask half-width. Three of them are rounded to the
 * dtype (x1 − A, Δ, z0) and four float64 additions are made: (3u + 4e)·S.
 */
export function permViewBound(profile: MaskProfile, p: { family: TensorFamily; shareMax: number }): number {
  const u = unitRoundoff(profile);
  const S = 2 * p.shareMax + 2 * dataMaskWidth(profile, p.family);
  return (3 * u + 4 * F64_UNIT) * S;
}

/**
 * The Lipschitz constant of f at x in the ∞-norm (max over outputs i of Σ_j |∂f_i/∂x_j|),
 * which turns an error in P1's view into an error in η = f(view):
 * - rmsnorm: y = x/r with r = √(mean x² + ε): Σ_j |∂y_i/∂x_j| ≤ (1 + |y_i|·mean|y|)/r ≤ (1 + max|y|)/r;
 * - softmax with scale c: Σ_j |∂p_i/∂x_j| = 2c·p_i(1 − p_i) ≤ c/2;
 * - swiglu silu(g)·u: |silu′| ≤ 1.1 and |silu(g)| ≤ |g|, so ≤ 1.1·|u_i| + |g_i|.
 * The view errors are ≤ 1e-3 relative to the inputs here, so a factor 2 covers the
 * neighbourhood.
 */
export function elemLipschitz(f: ElemFunction, x: Float64Array): number {
  switch (f.kind) {
    case 'rmsnorm': {
      let worst = 0;
      for (let r = 0; r < f.rows; r++) {
        let ss = 0;
        let m = 0;
        for (let c = 0; c < f.cols; c++) {
          const v = x[r * f.cols + c]!;
          ss += v * v;
          m = Math.max(m, Math.abs(v));
        }
        const rms = Math.sqrt(ss / f.cols + f.eps);
        worst = Math.max(worst, (1 + m / rms) / rms);
      }
      return 2 * worst;
    }
    case 'softmax':
      return f.scale / 2;
    case 'swiglu': {
      let worst = 0;
      for (let i = 0; i < f.length; i++) worst = Math.max(worst, 1.1 * Math.abs(x[f.length + i]!) + Math.abs(x[i]!));
      return 2 * worst;
    }
    case 'geglu': {
      // |gelu_tanh′| ≤ 1.13 and |gelu_tanh(g)| ≤ |g|.
      let worst = 0;
      for (let i = 0; i < f.length; i++) worst = Math.max(worst, 1.2 * Math.abs(x[f.length + i]!) + Math.abs(x[i]!));
      return 2 * worst;
    }
  }
}

/**
 * Elem, per output element: the view error (permViewBound) times L, plus the return path:
 * η − A′, Δ′ = π⁻¹(A′) − B′ and z0′ are rounded to the dtype, each ≤ S′ = ηm + 2w′ (w′ the
 * output family's width), with three float64 additions: (3u + 3e)·S′; plus f's own float64
 * evaluation error at two nearby points, ≤ 32e·ηm.
 */
export function elemBound(profile: MaskProfile, p: { f: ElemFunction; x: Float64Array; inFamily: TensorFamily; outFamily: TensorFamily; shareMax: number; etaMax: number }): number {
  const u = unitRoundoff(profile);
  const view = permViewBound(profile, { family: p.inFamily, shareMax: p.shareMax });
  const Sout = p.etaMax + 2 * dataMaskWidth(profile, p.outFamily);
  return elemLipschitz(p.f, p.x) * view + (3 * u + 3 * F64_UNIT) * Sout + 32 * F64_UNIT * p.etaMax;
}

/**
 * MulKV (Q·Kᵀ or P·V), per output element, n the length of the dot products (headDim for
 * scores, the number of keys for values). The Beaver masks are sums of two halves of width
 * wa (memory operand) and wb (fresh operand): |U| ≤ 2wa, |V| ≤ 2wb. With am, bm the operands'
 * magnitudes, every bilinear term f(E ± U0, F), f(E, V0), f(U1, F), f(E, V1), f(U, V) has
 * absolute sum at most G = n·(am + 3wa)·(bm + 2wb), and W0 ≤ (2wa)(2wb)√n.
 * Rounded to the dtype: the two opened halves (each moves f by ≤ u·G), z0, z1 and W1
 * (≤ G + W0 each): 5u·(G + W0). Float64: five dot products of length n (≤ n·e·G each) and
 * eight additions: (5n + 8)·e·(G + W0).
 */
export function mulKvBound(profile: MaskProfile, p: { n: number; memoryFamily: 'key' | 'value'; freshFamily: 'query' | 'probs'; memoryMax: number; freshMax: number }): number {
  const u = unitRoundoff(profile);
  const wa = beaverMaskWidth(profile, p.memoryFamily);
  const wb = beaverMaskWidth(profile, p.freshFamily);
  const G = p.n * (p.memoryMax + 3 * wa) * (p.freshMax + 2 * wb);
  const W0 = profile.productFactor * 2 * wa * 2 * wb * Math.sqrt(p.n);
  return 5 * u * (G + W0) + (5 * p.n + 8) * F64_UNIT * (G + W0);
}
