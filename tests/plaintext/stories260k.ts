/**
 * Where the real stories260K model lives for tests, and what it is known to generate.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const modelDir = process.env['PERMLLM_MODEL_DIR'] ?? path.resolve(repoRoot, '../shared/models/stories260K');
export const checkpointPath = path.join(modelDir, 'stories260K.bin');
export const tokenizerPath = path.join(modelDir, 'tok512.bin');

/** Greedy continuation of "Once upon a time", from the model's own documentation (models/README.md). */
export const DOCUMENTED_CONTINUATION =
  ', there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.';

/**
 * llama2.c's own regression string (test_all.py, `expected_stdout`): the output of
 * `./run stories260K.bin -z tok512.bin -t 0.0 -n 200`, i.e. an empty prompt (BOS only) and
 * 200 greedy tokens through run.c (one per forward pass at positions 0..199). It extends the
 * documented text, so it checks far more than the first 57 tokens.
 */
export const RUNC_GREEDY_200 =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n' +
  'Lily\'s mom said, "Lily, let\'s go to the park." Lily was sad and didn\'t know what to do. She said, "I want to play with your ball, but I can\'t find it."\n' +
  'Lily was sad and didn\'t know what to do. She said, "I\'m sorry, Lily. I didn\'t know what to do."\n' +
  "Lily didn't want to help her mom, so she";
