/**
 * The messages between the compute pool (./worker-pool-backend.ts, on a party's main thread) and
 * one compute worker (./compute-worker.ts): one request per ComputeBackend product, one reply;
 * and `release` when a stored weight is gone.
 *
 * Memory (no byte is copied more than once per crossing):
 * - inputs and transient operands: copied once into a fresh buffer that is transferred (the
 *   caller keeps its own array, so it cannot be transferred itself);
 * - results: created by the worker and transferred back, no copy;
 * - weights that outlive the call (the parties' stored weights): sent once to the one worker that
 *   owns them (./worker-weights.ts), by the same one-copy transfer, and kept there under a
 *   numeric key; later requests carry only the key. Not shared memory: onnxruntime-node 1.30
 *   refuses tensors on a SharedArrayBuffer ("Invalid argument", napi_get_arraybuffer_info), so a
 *   worker needs the weight in its own ordinary memory either way.
 * Structured clone keeps each array's type (Int16Array stays Int16Array, a PlanarWeight object
 * stays a PlanarWeight), so the worker runs exactly the code the main thread would have run.
 */
import type { FloatArray } from '../compute-backend.js';
import type { RingWeight } from '../ring-weight.js';

/** A weight operand: `data` for this call only; `key` and `data` to store it; `key` alone to use the stored one. */
export interface WeightRef<W> {
  key?: number;
  data?: W;
}

export type ComputeRequest =
  | { id: number; op: 'linear'; input: FloatArray; rows: number; weight: WeightRef<FloatArray>; outDim: number; inDim: number }
  | { id: number; op: 'matmul'; a: FloatArray; m: number; k: number; b: FloatArray; n: number }
  | { id: number; op: 'linearInt16'; input: Float64Array; rows: number; weight: WeightRef<Int16Array | Uint16Array>; outDim: number; inDim: number }
  | { id: number; op: 'matmulU8'; a: Uint8Array; m: number; k: number; b: WeightRef<Uint8Array | Int8Array>; n: number }
  | { id: number; op: 'ringLinear'; x: BigUint64Array; rows: number; weight: WeightRef<RingWeight>; outDim: number; inDim: number };

/** Frees stored weights (their arrays were garbage-collected at the main thread). */
export interface ReleaseMessage {
  op: 'release';
  keys: number[];
}

export type ToWorker = ComputeRequest | ReleaseMessage;

/** What a failed product reports: the error's class name (RangeError, TypeError, ...) and message. */
export interface ComputeFailure {
  name: string;
  message: string;
}

export type ComputeReply =
  | { id: number; ok: true; result: Float32Array | Float64Array | Int32Array | BigUint64Array }
  | { id: number; ok: false; error: ComputeFailure };

/** Given to a worker when it starts: onnxruntime intra-op threads for its sessions (0: onnxruntime's choice). */
export interface ComputeWorkerData {
  intraOpThreads: number;
}
