import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'bench/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: the heavy suites (real model, real processes) must not all run at once.
    maxWorkers: 2,
  },
});
