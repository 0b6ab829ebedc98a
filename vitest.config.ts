import { defineConfig } from 'vitest/config';

/**
 * Three projects:
 * - `default`: every test file but the load test; the gateway API suite runs against the plaintext backend.
 * - `api-private`: the API conformance files again, against the real private system over the
 *   network (engine and dealer as child processes, the gateway's RemoteBackend in the test
 *   process), so the official-client conformance holds for what users actually run. The
 *   timeout and operations files are left to the default project: they test the HTTP layer's
 *   own mechanics with deliberately tight limits that do not depend on the backend.
 * - `load`: the four-long-prompts load test, which `npm test` runs on its own after the others.
 */
/** The load suite (issue 15's four concurrent long prompts on three real processes). */
const LOAD_TEST = 'tests/network/long-prompts-under-load.test.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: the heavy suites (real model, real processes) must not all run at once.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['**/*.test.ts'], exclude: ['node_modules/**', 'bench/**', LOAD_TEST] },
      },
      {
        // Four long prompts load the whole machine for a minute or more: `npm test` runs this
        // project alone, after the others, so that it neither slows nor disturbs their timing.
        extends: true,
        test: { name: 'load', include: [LOAD_TEST] },
      },
      {
        extends: true,
        test: {
          name: 'api-private',
          include: ['tests/api/{chat-completions,completions,errors,sse-wire,cancellation,sdk,agent-clients,agent-frameworks}.test.ts'],
          env: { PERMLLM_API_TEST_BACKEND: 'tests/helpers/networked-backend.ts' },
        },
      },
    ],
  },
});
