/**
 * The tree's layering (README "Layout", .dependency-cruiser.cjs): parties import only protocol/
 * and the shared layer, protocol/ only the shared layer, the shared layer nothing above it, and
 * there are no import cycles. `npm run check:layers` runs the same check by hand.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(root, 'node_modules/.bin/depcruise');
const layers = ['model', 'compute', 'crypto', 'plaintext', 'sampling', 'observability', 'protocol', 'engine', 'dealer', 'gateway', 'in-process', 'cli', 'config', 'bench', 'sdk', 'tests'];

async function cruise(extra: string[] = []): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(depcruise, ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...layers, ...extra], { cwd: root });
    return { ok: true, output: stdout };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('layering', () => {
  it('has no upward or cross-party import and no cycle', async () => {
    const { ok, output } = await cruise();
    expect(output).toContain('no dependency violations');
    expect(ok).toBe(true);
  });

  it('reports a party importing another party (the check can fail)', async () => {
    // A throw-away file inside gateway/ that imports the engine's server: the rule must fire.
    const dir = mkdtempSync(path.join(root, 'gateway', '.layering-probe-'));
    try {
      const probe = path.join(dir, 'probe.ts');
      writeFileSync(probe, "export { startEngineServer } from '../../engine/server/engine-server.js';\n");
      const { ok, output } = await cruise([path.relative(root, probe)]);
      expect(ok).toBe(false);
      expect(output).toContain('gateway-imports-no-other-party');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
