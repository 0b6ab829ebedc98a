/**
 * What the fixed-point plan's parts share (fixed-point-plan.ts and the per-family steps beside
 * it): its error, the log2 rounding of a calibrated range, and the weight look-up that names a
 * missing matrix.
 */
import type { FoldedWeight } from './folded-weights.js';

export class FixedPointPlanError extends Error {
  override readonly name = 'FixedPointPlanError';
}

/** ⌈log2 x⌉, with tiny ranges treated as 2^−20. */
export const log2Ceil = (x: number): number => Math.ceil(Math.log2(Math.max(x, 2 ** -20)));

export function need(folded: ReadonlyMap<string, FoldedWeight>, name: string): FoldedWeight {
  const w = folded.get(name);
  if (!w) throw new FixedPointPlanError(`fixed-point plan: no weight ${name}`);
  return w;
}
