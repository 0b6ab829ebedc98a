import { describe, expect, it } from 'vitest';
import { samplingRng } from '../sampling/sampling-rng.js';
import { generate, type GenerateOptions } from './generate.js';
import type { TokenStepper } from './token-stepper.js';

/**
 * A stepper whose logits favour a scripted next token (or are flat), and which checks that
 * the loop never asks for a position beyond its context.
 */
class ScriptedStepper implements TokenStepper {
  position = 0;
  readonly fed: number[] = [];
  constructor(
    private readonly next: (position: number) => number | undefined,
    readonly contextLength = 100,
    readonly vocab = 16,
  ) {}
  private logits(): Float32Array {
    const logits = new Float32Array(this.vocab);
    const want = this.next(this.position - 1);
    if (want !== undefined) logits[want] = 10;
    return logits;
  }
  async prefill(tokens: readonly number[]) {
    this.position += tokens.length;
    this.fed.push(...tokens);
    return this.logits();
  }
  async decode(token: number) {
    if (this.position >= this.contextLength) throw new Error(`decode at position ${this.position} beyond context ${this.contextLength}`);
    this.position++;
    this.fed.push(token);
    return this.logits();
  }
}

const base = (overrides: Partial<GenerateOptions> = {}): GenerateOptions => ({
  maxTokens: 10,
  sampling: { temperature: 0 },
  rng: samplingRng(1),
  stopIds: new Set([2]),
  ...overrides,
});

async function collect(gen: AsyncIterable<{ id: number }>): Promise<number[]> {
  const ids: number[] = [];
  for await (const step of gen) ids.push(step.id);
  return ids;
}

describe('generate', () => {
  it('stops at a stop token without yielding it', async () => {
    const script = [5, 6, 7, 2, 9];
    const stepper = new ScriptedStepper((p) => script[p - 1]);
    const gen = generate(stepper, [1, 4], base());
    expect(await collect(gen)).toEqual([5, 6, 7]);
    expect(gen.finishReason).toBe('stop');
    expect(gen.tokens).toEqual([5, 6, 7]);
    expect(stepper.fed).toEqual([1, 4, 5, 6, 7]);
    expect(gen.timings.decodeSteps).toBe(3);
  });

  it('stops at maxTokens without a wasted forward pass', async () => {
    const stepper = new ScriptedStepper(() => 9);
    const gen = generate(stepper, [1], base({ maxTokens: 4 }));
    expect(await collect(gen)).toEqual([9, 9, 9, 9]);
    expect(gen.finishReason).toBe('length');
    expect(gen.timings.decodeSteps).toBe(3);
    expect(stepper.fed).toHaveLength(4);
  });

  it('stops with "length" at the context limit', async () => {
    const stepper = new ScriptedStepper(() => 9, 5);
    const gen = generate(stepper, [1, 3, 4], base({ maxTokens: 50 }));
    expect(await collect(gen)).toEqual([9, 9, 9]);
    expect(gen.finishReason).toBe('length');
    expect(stepper.position).toBe(5);
  });

  it('applies logit bias and penalties over what it generated so far', async () => {
    const flat = () => new ScriptedStepper(() => undefined);
    expect(await collect(generate(flat(), [1], base({ maxTokens: 3, adjustments: { logitBias: { 11: 5 } } })))).toEqual([11, 11, 11]);
    // Flat logits, greedy: the frequency penalty walks through unused ids (2 is a stop id, biased away).
    const penalised = generate(flat(), [1], base({ maxTokens: 5, adjustments: { frequencyPenalty: 1, logitBias: { 2: -100 } } }));
    expect(await collect(penalised)).toEqual([0, 1, 3, 4, 5]);
  });

  it('same seed, same tokens; sampled from the logits it reports', async () => {
    const run = async (seed: number) => {
      const stepper = new ScriptedStepper(() => undefined);
      const steps: { id: number; logits: Float32Array | Float64Array }[] = [];
      for await (const step of generate(stepper, [1], base({ maxTokens: 12, sampling: { temperature: 1 }, rng: samplingRng(seed), stopIds: new Set() }))) steps.push(step);
      expect(steps.every((s) => s.logits.length === 16)).toBe(true);
      return steps.map((s) => s.id);
    };
    expect(await run(7)).toEqual(await run(7));
    expect(await run(7)).not.toEqual(await run(8));
  });

  it('honours an abort signal between tokens', async () => {
    const controller = new AbortController();
    const gen = generate(new ScriptedStepper(() => 9), [1], base({ signal: controller.signal }));
    const ids: number[] = [];
    await expect(
      (async () => {
        for await (const step of gen) {
          ids.push(step.id);
          if (ids.length === 2) controller.abort(new Error('client went away'));
        }
      })(),
    ).rejects.toThrow('client went away');
    expect(ids).toEqual([9, 9]);
    expect(gen.finishReason).toBeUndefined();
  });

  it('validates its options and runs only once', async () => {
    const stepper = new ScriptedStepper(() => 9);
    expect(() => generate(stepper, [1], base({ maxTokens: 0 }))).toThrow(/maxTokens/);
    expect(() => generate(stepper, [], base())).toThrow(/prompt/);
    expect(() => generate(stepper, [1], base({ sampling: { temperature: -1 } }))).toThrow(/temperature/);
    const gen = generate(stepper, [1], base({ maxTokens: 1 }));
    await collect(gen);
    await expect(collect(gen)).rejects.toThrow(/already iterated/);
  });
});
