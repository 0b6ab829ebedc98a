/**
 * package-lock.json matches package.json, so `npm ci` accepts it and `npm install` leaves it as
 * it is: the lock's root entry lists exactly the manifest's dependency ranges, and every
 * direct dependency is locked at a version.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown> & {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, { version?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; dev?: boolean }>;
};

describe('package-lock.json', () => {
  it('has the manifest name, version and dependency ranges at its root', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    expect(lock.name).toBe(manifest['name']);
    expect(lock.version).toBe(manifest['version']);
    const rootEntry = lock.packages[''];
    expect(rootEntry?.dependencies ?? {}).toEqual(manifest.dependencies ?? {});
    expect(rootEntry?.devDependencies ?? {}).toEqual(manifest.devDependencies ?? {});
  });

  it('locks every direct dependency, runtime ones outside the dev-only set', () => {
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry?.version, name).toMatch(/^\d+\.\d+\.\d+/);
      expect(entry?.dev, `${name} is a runtime dependency but locked as dev-only`).not.toBe(true);
    }
    for (const name of Object.keys(manifest.devDependencies ?? {})) expect(lock.packages[`node_modules/${name}`]?.version, name).toMatch(/^\d+\.\d+\.\d+/);
  });
});
