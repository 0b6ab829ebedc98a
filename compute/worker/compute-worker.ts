/**
 * The body of one compute worker thread (started by ./worker-pool-backend.ts through
 * ./compute-worker-entry.mjs): its own onnxruntime sessions (an OnnxCpuBackend) and the stored
 * weights the pool gave it, answering each ComputeRequest with the functions the main thread
 * would run in-thread, so results are bit for bit those of the in-thread backend:
 * - linear / matmul / linearInt16 / matmulU8: the OnnxCpuBackend product itself;
 * - ringLinear: the whole exact Z_2^64 product of compute/ring-gemm.ts (limb or byte split,
 *   the limb GEMMs, the carries) by weight form (./ring-product-by-form.ts).
 * Results go back by transfer (./worker-messages.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxCpuBackend } from '../onnx-backend.js';
import { ringProductByForm } from './ring-product-by-form.js';
import { lowerThisThreadPriority } from './thread-priority.js';
import type { ComputeReply, ComputeRequest, ComputeWorkerData, ToWorker, WeightRef } from './worker-messages.js';

if (!parentPort) throw new Error('compute-worker.ts runs as a worker thread (compute/worker/worker-pool-backend.ts starts it)');
const port = parentPort;
const { intraOpThreads } = workerData as ComputeWorkerData;
// Before any onnxruntime session exists: its intra-op threads inherit this thread's priority.
lowerThisThreadPriority();
const backend = new OnnxCpuBackend(intraOpThreads);
const stored = new Map<number, unknown>();

/** The weight of a request: stored now, looked up, or this call's own. */
function weightOf<W>(ref: WeightRef<W>): W {
  if (ref.key === undefined) {
    if (ref.data === undefined) throw new TypeError('compute worker: a weight operand with neither key nor data');
    return ref.data;
  }
  if (ref.data !== undefined) {
    stored.set(ref.key, ref.data);
    return ref.data;
  }
  const w = stored.get(ref.key);
  if (w === undefined) throw new Error(`compute worker: no stored weight ${ref.key}`);
  return w as W;
}

async function compute(r: ComputeRequest): Promise<Float32Array | Float64Array | Int32Array | BigUint64Array> {
  switch (r.op) {
    case 'linear':
      return backend.linear(r.input, r.rows, weightOf(r.weight) as typeof r.input, r.outDim, r.inDim);
    case 'matmul':
      return backend.matmul(r.a, r.m, r.k, r.b, r.n);
    case 'linearInt16':
      return backend.linearInt16(r.input, r.rows, weightOf(r.weight), r.outDim, r.inDim);
    case 'matmulU8':
      return backend.matmulU8(r.a, r.m, r.k, weightOf(r.b), r.n);
    case 'ringLinear':
      return ringProductByForm(backend, r.x, r.rows, weightOf(r.weight), r.outDim, r.inDim);
  }
}

/** The result's buffer if it can be transferred (a whole, ordinary ArrayBuffer), else none: it is then copied. */
function transferable(result: ArrayBufferView): ArrayBuffer[] {
  const { buffer } = result;
  return buffer instanceof ArrayBuffer && result.byteOffset === 0 && result.byteLength === buffer.byteLength ? [buffer] : [];
}

port.on('message', (message: ToWorker) => {
  if (message.op === 'release') {
    for (const key of message.keys) stored.delete(key);
    return;
  }
  compute(message).then(
    (result) => {
      const reply: ComputeReply = { id: message.id, ok: true, result };
      try {
        port.postMessage(reply, transferable(result));
      } catch {
        port.postMessage(reply); // a buffer that cannot be detached: copied once
      }
    },
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      const reply: ComputeReply = { id: message.id, ok: false, error: { name: e.name, message: e.message } };
      port.postMessage(reply);
    },
  );
});
