/**
 * The plaintext baseline on the same model and machine: the reference forward pass (float32,
 * onnxruntime) with greedy decoding, timed like the private sessions (time to first token,
 * then milliseconds per decoded token).
 */
import type { ModelDescription } from '../model/model-description.js';
import { PlaintextModel } from '../plaintext/plaintext-model.js';

export interface PlaintextRun {
  promptTokens: number;
  ttftMs: number;
  /** Median interval between decoded tokens; absent when only one token was generated. */
  decodeMsPerToken?: number;
  /** Process CPU time per decoded token (mean); absent with the above. */
  decodeCpuMsPerToken?: number;
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
  const firstCpu = process.cpuUsage();
  const intervals: number[] = [];
  let previous = first;
  while (tokens.length < maxTokens) {
    token = argmax(await sequence.decode(token));
    tokens.push(token);
    const now = performance.now();
    intervals.push(now - previous);
    previous = now;
  }
  const run: PlaintextRun = { promptTokens: prompt.length, ttftMs: first - began, tokens };
  if (intervals.length > 0) {
    const cpu = process.cpuUsage(firstCpu);
    run.decodeCpuMsPerToken = (cpu.user + cpu.system) / 1000 / intervals.length;
    intervals.sort((a, b) => a - b);
    const mid = Math.floor(intervals.length / 2);
    run.decodeMsPerToken = intervals.length % 2 === 1 ? intervals[mid]! : (intervals[mid - 1]! + intervals[mid]!) / 2;
  }
  return run;
}

/** The plaintext model as the benchmark uses it: no single-row padding (fastest path). */
export function plaintextModelFor(model: ModelDescription): PlaintextModel {
  return new PlaintextModel(model, { batchInvariant: false });
}
