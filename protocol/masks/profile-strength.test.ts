import { describe, expect, it } from 'vitest';
import { MASK_PROFILES, PAPER_PROFILE, PERMLLM_PROFILE, PROFILE_STRENGTH, profileAtLeast } from './mask-profile.js';

describe('profile strength (the gateway\'s --min-profile)', () => {
  it('ranks every known profile exactly once, so that no engine profile is accepted or refused by accident', () => {
    expect([...PROFILE_STRENGTH].sort()).toEqual(Object.keys(MASK_PROFILES).sort());
  });

  it('accepts a profile at or above the minimum and refuses the benchmark profile by default', () => {
    expect(profileAtLeast(PERMLLM_PROFILE.name, PERMLLM_PROFILE.name)).toBe(true);
    expect(profileAtLeast(PAPER_PROFILE.name, PERMLLM_PROFILE.name)).toBe(false);
    expect(profileAtLeast(PERMLLM_PROFILE.name, PAPER_PROFILE.name)).toBe(true);
    expect(profileAtLeast('made-up', PAPER_PROFILE.name)).toBe(false);
  });
});
