/**
 * `permllm bench --acceptance`: issue 12's acceptance table for stories260K, the 100M preset and
 * the Llama-3.1-8B layer, every profile and mode, the three links, and the full-8B
 * extrapolation, in ONE run that fits about 45 minutes on the shared 2-core machine.
 *
 * This is the one place that decides what the preset measures. Each cell is a model with the
 * profiles, links, prompt lengths and decode count it is run at; the longest prompt (512 tokens,
 * or what the context leaves) is measured only on `longPromptLinks`, because a 512-token
 * private prefill of the wide models takes minutes. Its bytes and flights do not depend on the
 * link; the time to first token of the long prompt on the other links is NOT measured, and the
 * reports show "–" there rather than a figure.
 *
 * The two-depth `syn-d2048` pair lends the 8B layer its fixed part (embedding, final norm, LM
 * head, logit opening, token lookup) and the `syn-d512-l1` / `-v32k` pair prices the vocabulary
 * (bench/extrapolation.ts); they are measured on link `none` at the short prompt only (the
 * extrapolation takes compute from link none, and flights and bytes are exact on any link), so
 * the extrapolated full-8B first token is for the short prompt only.
 */
import type { LinkSettingName } from './link-settings.js';

export interface BenchCell {
  readonly model: string;
  /** One mask profile entry (`PROFILE[:MODE[:paper-norms]]`, bench-runner.ts parseBenchProfile). */
  readonly profile: string;
  readonly links: readonly LinkSettingName[];
  /** Prompt lengths; the shortest is decoded for `decodeTokens` tokens, on every link. */
  readonly prompts: readonly number[];
  /** The links on which the prompts other than the shortest are measured. */
  readonly longPromptLinks: readonly LinkSettingName[];
  readonly decodeTokens: number;
}

const PROFILES = ['ring64', 'ring64:single-view', 'permllm-f64'] as const;
const ALL_LINKS: readonly LinkSettingName[] = ['none', 'paper', 'wan'];

/** One model at every profile: `longOn(profile)` says where its long prompt is measured. */
function cells(model: string, links: readonly LinkSettingName[], prompts: readonly number[], decodeTokens: number, longOn: (profile: string) => readonly LinkSettingName[] = () => []): BenchCell[] {
  return PROFILES.map((profile) => {
    const longPromptLinks = longOn(profile);
    return { model, profile, links, prompts: longPromptLinks.length > 0 ? prompts : [Math.min(...prompts)], decodeTokens, longPromptLinks };
  });
}

export const ACCEPTANCE_PRESET: readonly BenchCell[] = [
  // The real model: every profile and link; its 504-token prefill on link none and the paper's link (10 ms / 1 Gbps).
  ...cells('stories260K', ALL_LINKS, [16, 512], 8, () => ['none', 'paper']),
  // What the full-8B extrapolation needs, at the short prompt on link none: a two-depth shape to
  // lend the 8B layer its fixed part (dim 1024: the dim-2048 pair's pairing alone takes minutes
  // here), and the 32k-vocabulary pair.
  ...cells('syn-d1024-l1', ['none'], [16], 3),
  ...cells('syn-d1024-l2', ['none'], [16], 3),
  ...cells('syn-d512-l1', ['none'], [16], 3),
  ...cells('syn-d512-l1-v32k', ['none'], [16], 3),
  // The 8B-layer preset: every profile and link at 16 tokens; the 512-token prefill on link none
  // under ring64 in both modes (permllm-f64's, the same beaver schedule, is left out for time).
  ...cells('llama3-8b-l1', ALL_LINKS, [16, 512], 4, (p) => (p.startsWith('ring64') ? ['none'] : [])),
  // The 100M preset (128k vocabulary): every profile and link at 16 tokens (its 512-token
  // prefill took 388 s alone on this machine: not in the preset).
  ...cells('synthetic-100m', ALL_LINKS, [16], 4),
];
