/**
 * The layering rules of the tree (README "Layout"), checked by tests/layout/layers.test.ts.
 *
 *   cli/, bench/, tests/                  (top: commands, benchmarks, tests)
 *   in-process/                           (the three parties wired in one process)
 *   engine/   dealer/   gateway/          (one party each, side by side)
 *   protocol/                             (what every party runs)
 *   model/ compute/ crypto/ plaintext/ sampling/ observability/   (the shared layer)
 *
 * Imports run downward only; no party imports another party; no cycles (test files included).
 */
const parties = ['engine', 'dealer', 'gateway'];
const shared = '^(model|compute|crypto|plaintext|sampling|observability)/';
/** Unit tests beside the code may use the test helpers (tests/helpers); the rules bind the code. */
const testFile = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    ...parties.map((party) => ({
      name: `${party}-imports-no-other-party`,
      comment: `${party}/ holds only its party: it may use protocol/ and the shared layer, never another party's folder.`,
      severity: 'error',
      from: { path: `^${party}/`, pathNot: testFile },
      to: { path: `^(${parties.filter((p) => p !== party).join('|')}|in-process|cli|bench|tests)/` },
    })),
    {
      name: 'protocol-imports-only-the-shared-layer',
      severity: 'error',
      from: { path: '^protocol/', pathNot: testFile },
      to: { path: '^(engine|dealer|gateway|in-process|cli|bench|tests|config|sdk)/' },
    },
    {
      name: 'shared-layer-imports-nothing-above',
      severity: 'error',
      from: { path: shared, pathNot: testFile },
      to: { path: '^(protocol|engine|dealer|gateway|in-process|cli|bench|tests|config|sdk)/' },
    },
    {
      name: 'in-process-is-not-used-by-parties',
      severity: 'error',
      from: { path: '^(engine|dealer|gateway|protocol|model|compute|crypto|plaintext|sampling|observability)/', pathNot: testFile },
      to: { path: '^in-process/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|bench/results|sdk/generated)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
