/**
 * Whether a party can hold a model at all, decided before the big allocations start (issue 13:
 * refuse up front, with the figure, instead of dying half-way).
 *
 * Peak bytes per folded parameter (model/parameter-count.ts), measured with
 * `/usr/bin/time -v permllm engine` on the synthetic-100m preset (99.8M parameters):
 * - engine, ring64: 24.6 (the float checkpoint, the float64 folded copy calibration runs on, and
 *   the int16 planes it keeps: 2 B/param once started);
 * - engine, float profiles: 20.9 (checkpoint plus the float64 folded weights it keeps);
 * - gateway and dealer: 8 B/param for X − U or U (ring elements or float64) plus the download or
 *   derivation buffers; 16 is the stated bound (not measured at this size).
 * Each figure is rounded up, and a fixed 512 MiB covers the runtime, onnxruntime and BFV.
 * A compute backend that keeps its own copy of each stored weight (the CPU worker pool,
 * ComputeBackend.storedWeightCopies) adds STORED_BYTES_PER_PARAMETER per copy: the weight the
 * party keeps once started (the engine's int16 planes under ring64, its float64 weights under the
 * float profiles; X − U or U, 8 B, at the gateway and the dealer).
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { ModelConfig } from '../../model/model-description.js';
import { foldedParameterCount } from '../../model/parameter-count.js';
import type { ShareDtype } from '../masks/mask-profile.js';

export type MemoryRole = 'engine' | 'gateway' | 'dealer';

export const PEAK_BYTES_PER_PARAMETER: Readonly<Record<MemoryRole, Readonly<Record<'ring64' | 'float', number>>>> = {
  engine: { ring64: 25, float: 21 },
  gateway: { ring64: 16, float: 16 },
  dealer: { ring64: 16, float: 16 },
};

/** Bytes per folded parameter of the weight a party keeps once started (what a worker copies). */
export const STORED_BYTES_PER_PARAMETER: Readonly<Record<MemoryRole, Readonly<Record<'ring64' | 'float', number>>>> = {
  engine: { ring64: 2, float: 8 },
  gateway: { ring64: 8, float: 8 },
  dealer: { ring64: 8, float: 8 },
};

const RUNTIME_BYTES = 512 * 2 ** 20;

/** The memory this process may use: the machine's, or a cgroup's limit when lower (containers). */
export function availableMemoryBytes(): number {
  let limit = totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(value) && value > 0) limit = Math.min(limit, value);
    } catch {
      // No such cgroup file (or "max"): no limit from there.
    }
  }
  return limit;
}

/** Bytes per folded parameter `role` needs at its peak, with `copies` extra copies of its stored weights. */
function bytesPerParameter(role: MemoryRole, dtype: ShareDtype, copies: number): number {
  const kind = dtype === 'ring64' ? 'ring64' : 'float';
  return PEAK_BYTES_PER_PARAMETER[role][kind] + copies * STORED_BYTES_PER_PARAMETER[role][kind];
}

/** The bytes `role` needs at its peak to hold `config` under a profile of `dtype` (`copies`: ComputeBackend.storedWeightCopies). */
export function peakMemoryBytes(role: MemoryRole, config: ModelConfig, dtype: ShareDtype, copies = 0): number {
  return foldedParameterCount(config) * bytesPerParameter(role, dtype, copies) + RUNTIME_BYTES;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Why `role` cannot hold the model in `available` bytes, or undefined when it fits. */
export function memoryProblem(role: MemoryRole, config: ModelConfig, dtype: ShareDtype, available: number, copies = 0): string | undefined {
  const needed = peakMemoryBytes(role, config, dtype, copies);
  if (needed <= available) return undefined;
  const copied = copies * STORED_BYTES_PER_PARAMETER[role][dtype === 'ring64' ? 'ring64' : 'float'];
  const workers = copies > 0 ? `, ${copied} B of them the compute workers' copy of the stored weights` : '';
  return `the ${role} needs about ${gib(needed)} for this model (${foldedParameterCount(config).toLocaleString('en-US')} parameters × ${bytesPerParameter(role, dtype, copies)} B at its peak under ${dtype}${workers}), and ${gib(available)} is available`;
}

export class ModelTooLargeError extends Error {
  override readonly name = 'ModelTooLargeError';
}

/** Throws ModelTooLargeError (with the figure) unless `role` can hold the model. */
export function assertFitsMemory(role: MemoryRole, config: ModelConfig, dtype: ShareDtype, available = availableMemoryBytes(), copies = 0): void {
  const problem = memoryProblem(role, config, dtype, available, copies);
  if (problem) throw new ModelTooLargeError(`refusing to start: ${problem} (--memory-limit overrides the detected figure)`);
}
