import { describe, expect, it } from 'vitest';
import { parseGenerateFlags } from '../../cli/generate-command.js';

describe('permllm generate flags', () => {
  it('fills defaults and converts numbers', () => {
    const result = parseGenerateFlags(['--plaintext', '--prompt', 'Hi', '-n', '12', '--temperature', '0.5', '--top-p=0.9', '--top-k', '40', '--seed', '-3']);
    expect(result).toEqual({
      flags: { plaintext: true, prompt: 'Hi', 'max-tokens': 12, temperature: 0.5, 'top-p': 0.9, 'top-k': 40, 'min-p': 0, seed: '-3', json: false, profile: 'ring64', help: false },
    });
    expect(parseGenerateFlags([])).toMatchObject({ flags: { plaintext: false, prompt: '', 'max-tokens': 256, temperature: 1 } });
  });

  it('lists every problem at once, with the flag as the user spelled it', () => {
    const result = parseGenerateFlags(['--model', '--prompt', 'x', 'stray', '--bogus', '-n', '0', '--temperature', 'hot', '--top-p', '2', '--json=yes', '--seed', '1.5', '--min-p']);
    expect('errors' in result && result.errors).toEqual([
      '--model: needs a value',
      'unexpected argument "x"',
      'unexpected argument "stray"',
      '--bogus: unknown flag',
      '--json: takes no value',
      '--min-p: needs a value',
      '-n: Number must be greater than or equal to 1',
      '--temperature: Expected number, received string',
      '--top-p: Number must be less than or equal to 1',
      '--seed: expected an integer',
    ]);
  });
});
