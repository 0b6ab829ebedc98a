/**
 * A benchmark profile entry, `PROFILE[:MODE[:paper-norms]]`: the mask profile, the attention mode
 * and whether the plan defers the FFN norm. One parser for the runner, the CLI and the reports.
 */
import { ATTENTION_MODES, isAttentionMode, type AttentionMode } from '../protocol/schedule/attention-mode.js';

/**
 * `profile[:attention-mode[:paper-norms]]` (benchProfileEntry) → its parts. `paper-norms`: a
 * ring64 plan without the deferred FFN norm (model/fixed-point/plan-deferred-ffn-norm.ts), the
 * paper's 12 flights per layer, for comparison.
 */
export function parseBenchProfile(entry: string): { profile: string; attention: AttentionMode; deferFfnNorm: boolean } {
  const [profile = '', mode = 'beaver', plan, ...rest] = entry.split(':');
  if (rest.length > 0 || !isAttentionMode(mode) || (plan !== undefined && plan !== 'paper-norms')) {
    throw new Error(`bench profile "${entry}": expected PROFILE, PROFILE:MODE or PROFILE:MODE:paper-norms with MODE one of ${ATTENTION_MODES.join(', ')}`);
  }
  return { profile, attention: mode, deferFfnNorm: plan === undefined };
}
