/**
 * The backend the API suite runs against. Default: the real stories260K model through the
 * plaintext backend (loaded once per test worker). To point the same suite at another backend
 * (e.g. the networked private system), set PERMLLM_API_TEST_BACKEND to a module exporting
 * `createBackend(): Promise<GenerationBackend>`; it must serve stories260K (the suite checks
 * the documented greedy text) and should implement `activeSessions` / `onSessionEnd`.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { GenerationBackend } from '../../../gateway/pipeline/generation-backend.js';
import { PlaintextBackend } from '../../../gateway/pipeline/plaintext-backend.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const modelDir = process.env['PERMLLM_MODEL_DIR'] ?? path.resolve(repoRoot, '../shared/models/stories260K');

/** Served model id and the documented greedy continuation of "Once upon a time". */
export const MODEL_ID = 'stories260K';
export const GREEDY_STORY =
  ', there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';

let shared: Promise<GenerationBackend> | undefined;

export function createTestBackend(): Promise<GenerationBackend> {
  const custom = process.env['PERMLLM_API_TEST_BACKEND'];
  if (custom) {
    return import(pathToFileURL(path.resolve(repoRoot, custom)).href).then(
      (mod: { createBackend: () => Promise<GenerationBackend> }) => mod.createBackend(),
    );
  }
  shared ??= PlaintextBackend.load(modelDir, { created: 1_700_000_000 });
  return shared;
}
