/** Paths shared by the model tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real stories260K llama2.c model (never copied into the repository). */
export const stories260KDir = process.env['PERMLLM_MODEL_DIR'] ?? path.resolve(repoRoot, '../shared/models/stories260K');

/** A fresh temporary folder for one test's files. */
export function scratchDir(label: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `permllm-test-${label}-`));
}

/**
 * Bit-identical float arrays. (vitest's toEqual walks typed arrays element by element
 * through its generic equality, minutes for millions of weights; this compares bytes.)
 */
export function sameBits(a: Float32Array | undefined, b: Float32Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
