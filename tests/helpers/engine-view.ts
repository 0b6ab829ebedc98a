/**
 * The engine's recorded view of an in-process ring64 session, for the view distinguishers
 * (tests/protocol/*view-distinguisher.test.ts): every value the engine holds, keyed by
 * step/what, beside the true value x = v + m (m: the gateway's mask of the same step).
 */
import { ringAdd, ringSub, words, type Ring } from '../../compute/ring64.js';
import type { InProcessParties } from '../../in-process/in-process-parties.js';

export type View = Map<string, Ring>;

/** Runs `session` with both taps set; the engine's held values v and the true values x = v + m. */
export async function recordEngineView(parties: InProcessParties, session: () => Promise<unknown>): Promise<{ view: View; truth: View }> {
  const view: View = new Map();
  const masks: View = new Map();
  parties.engine.ringViewTap = (step, what, values) => view.set(`${step}/${what}`, values.slice());
  parties.gateway.ringViewTap = (step, what, values) => masks.set(`${step}/${what}`, values.slice());
  try {
    await session();
  } finally {
    delete parties.engine.ringViewTap;
    delete parties.gateway.ringViewTap;
  }
  const truth: View = new Map();
  for (const [key, v] of view) {
    const m = masks.get(key);
    if (!m) throw new Error(`no gateway mask for ${key}`);
    truth.set(key, ringAdd(v, m));
  }
  return { view, truth };
}

/** L_c = max |x_c − v| (signed ring reading) over the view, or over the keys ending in `only`. */
export function maxDeviation(view: View, truth: View, only?: string): number {
  let worst = 0;
  for (const [key, v] of view) {
    if (only && !key.endsWith(only)) continue;
    const x = truth.get(key);
    if (!x || x.length !== v.length) throw new Error(`view and reference disagree at ${key}`);
    const d = words(ringSub(x, v));
    const hi = new Int32Array(d.buffer, d.byteOffset, d.length);
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(hi[2 * i + 1]! * 4294967296 + d[2 * i]!));
  }
  return worst;
}
