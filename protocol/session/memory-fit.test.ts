import { describe, expect, it } from 'vitest';
import { resolveSyntheticSpec, syntheticModelConfig } from '../../model/synthetic/index.js';
import { foldedParameterCount } from '../../model/parameter-count.js';
import { WorkerPoolBackend } from '../../compute/worker/worker-pool-backend.js';
import { assertFitsMemory, availableMemoryBytes, memoryProblem, ModelTooLargeError, peakMemoryBytes } from './memory-fit.js';

describe('memory fit (refuse a model up front, with the figure)', () => {
  const config = syntheticModelConfig(resolveSyntheticSpec('synthetic-100m'));

  it('counts the folded parameters: the preset\'s 99.8M with the tied embedding counted twice (embedding and head)', () => {
    // 99,784,320 checkpoint parameters, minus the norms (9 × 640), plus the second 128,256 × 640 copy.
    expect(foldedParameterCount(config)).toBe(99_784_320 - 9 * 640 + 128_256 * 640);
  });

  it('the engine under ring64 needs 25 B per parameter at its peak, plus the runtime; a smaller limit is refused with the figure', () => {
    const needed = peakMemoryBytes('engine', config, 'ring64');
    expect(needed).toBe(foldedParameterCount(config) * 25 + 512 * 2 ** 20);
    expect(memoryProblem('engine', config, 'ring64', needed)).toBeUndefined();
    const problem = memoryProblem('engine', config, 'ring64', needed - 1);
    expect(problem).toMatch(/engine needs about 4\.\d GiB .*× 25 B at its peak under ring64/);
    expect(() => assertFitsMemory('gateway', config, 'ring64', 2 ** 30)).toThrow(ModelTooLargeError);
  });

  it('counts the compute workers\' copy of the stored weights: 2 B per parameter more at the engine under ring64, 8 at the gateway', () => {
    const pool = new WorkerPoolBackend({ size: 1 });
    const copies = pool.storedWeightCopies;
    expect(copies).toBe(1);
    const n = foldedParameterCount(config);
    expect(peakMemoryBytes('engine', config, 'ring64', copies) - peakMemoryBytes('engine', config, 'ring64')).toBe(2 * n);
    expect(peakMemoryBytes('gateway', config, 'ring64', copies) - peakMemoryBytes('gateway', config, 'ring64')).toBe(8 * n);
    expect(peakMemoryBytes('engine', config, 'float64', copies) - peakMemoryBytes('engine', config, 'float64')).toBe(8 * n);
    // Fits without the copy, refused with it, and the figure says why.
    const without = peakMemoryBytes('engine', config, 'ring64');
    expect(memoryProblem('engine', config, 'ring64', without)).toBeUndefined();
    expect(memoryProblem('engine', config, 'ring64', without, copies)).toMatch(/× 27 B at its peak under ring64, 2 B of them the compute workers' copy/);
    return pool.close();
  });

  it('detects a positive memory figure on this machine', () => {
    expect(availableMemoryBytes()).toBeGreaterThan(2 ** 28);
  });
});
