/**
 * The plaintext baseline on the same model and machine: the reference forward pass (float32,
 * onnxruntime) with greedy decoding, timed like the private sessions (time to first token,
 * then milliseconds per decoded token).
 */
import type { ModelDescription } from '../engine/model/model-description.js';
import { PlaintextModel } from '../engine/plaintext/plaintext-model.js';

export interface PlaintextRun {
  promptTokens: number;
  ttftMs: number;
  /** Absent when only one token was generated. */
  decodeMsPerToken?: number;
  tokens: number[];
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Prefills `prompt`, then greedily generates until `maxTokens` tokens exist. */
export async function runPlaintext(model: PlaintextModel, prompt: readonly number[], maxTokens: number): Promise<PlaintextRun> {
  const sequence = model.newSequence();
  const began = performance.now();
  let token = argmax(await sequence.prefill(prompt));
  const first = performance.now();
  const tokens = [token];
  while (tokens.length < maxTokens) {
    token = argmax(await sequence.decode(token));
    tokens.push(token);
  }
  const run: PlaintextRun = { promptTokens: prompt.length, ttftMs: first - began, tokens };
  if (tokens.length > 1) run.decodeMsPerToken = (performance.now() - first) / (tokens.length - 1);
  return run;
}

/** The plaintext model as the benchmark uses it: no single-row padding (fastest path). */
export function plaintextModelFor(model: ModelDescription): PlaintextModel {
  return new PlaintextModel(model, { batchInvariant: false });
}
