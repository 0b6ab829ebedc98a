/**
 * The CPU compute backend with its products off the event loop: a bounded pool of worker threads
 * (node:worker_threads), each with its own onnxruntime sessions (./compute-worker.ts). The main
 * thread only posts a request and awaits the reply, so heartbeats, /healthz and the other
 * sessions of a party are served while a product runs; onnxruntime's `run()` would otherwise
 * hold the JS thread for the whole product.
 *
 * Contract: every method returns what OnnxCpuBackend returns, bit for bit: the workers run the
 * same sessions and, for ringLinear, the same compute/ring-gemm.ts limb paths (exact residues
 * mod 2^64). ringLinear is implemented here, so ring-gemm hands the whole ring product to a
 * worker (the byte or limb split, the GEMMs and the carries), not only its GEMMs.
 *
 * - Size: `size` workers (permllm's `--compute-threads`, defaultComputeThreads()). A product
 *   with a stored weight goes to that weight's owner, any other to the worker with the fewest in
 *   flight. Workers start on first use and are replaced if one dies (its in-flight products fail
 *   with the reason; its stored weights are sent again); they do not keep the process alive
 *   while idle.
 * - Small products (at most `inlineMacs` multiply-accumulates) run in-thread on `inline`: a
 *   message round trip would cost more than they do.
 * - Threads: each worker is a relay thread at the caller's priority with the compute worker as
 *   its child at nice 19 (./compute-relay-entry.mjs says why: a nice-19 thread must never hold a
 *   mutex the event loop waits on). Messages cross both by transfer, so the hop copies nothing.
 * - Memory: one copy of each stored weight in its owner, one transferred copy of each input
 *   (./worker-weights.ts, ./worker-messages.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assertShape, type ComputeBackend, type FloatArray, type RingLinearOptions } from '../compute-backend.js';
import { OnnxCpuBackend } from '../onnx-backend.js';
import { SMALL_PRODUCT_MACS } from '../ring-gemm.js';
import { ringWeightElements, type RingWeight } from '../ring-weight.js';
import { ringProductByForm } from './ring-product-by-form.js';
import type { ComputeFailure, ComputeReply, ComputeRequest, ComputeWorkerData, ReleaseMessage, WeightRef } from './worker-messages.js';
import { copyForTransfer, operandBytes, WorkerWeights, type KeepPolicy, type Operand } from './worker-weights.js';

/** The most compute workers a pool may have. */
export const MAX_COMPUTE_THREADS = 64;

/**
 * The default pool size: half the machine's cores, between 1 and 4. One worker already takes the
 * products off the event loop; more let concurrent sessions' products run at once (each worker's
 * onnxruntime sessions have their own intra-op threads, WorkerPoolOptions.intraOpThreads).
 */
export function defaultComputeThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

export interface WorkerPoolOptions {
  /** Worker threads (1..MAX_COMPUTE_THREADS). */
  size: number;
  /**
   * onnxruntime intra-op threads per worker (default 0: onnxruntime's choice, as the in-thread
   * backend's default). Float results depend on it (onnxruntime's float GEMMs at 1 and 2 threads
   * differ in the last bits), so the pool equals the in-thread backend byte for byte with the same
   * setting; ring products are exact either way.
   */
  intraOpThreads?: number | undefined;
  /** Products of at most this many multiply-accumulates run in-thread (default SMALL_PRODUCT_MACS; 0: none). */
  inlineMacs?: number;
  /** The in-thread backend for those (default: an OnnxCpuBackend with `intraOpThreads`). */
  inline?: ComputeBackend;
}

/** Requests minus their id (assigned when posted). */
type Unsent = ComputeRequest extends infer R ? (R extends ComputeRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Keys of the weights this worker stores. */
  stored: Set<number>;
  /** The kernel thread id of the worker's relay, once it has said it. */
  relayThread?: number | null;
}

/** What preparing a request's operands decides: the buffers to transfer, and the worker a stored weight pins it to. */
interface Prepared {
  transfer: ArrayBuffer[];
  owner: number | undefined;
}

function errorFrom(failure: ComputeFailure): Error {
  const Ctor = failure.name === 'RangeError' ? RangeError : failure.name === 'TypeError' ? TypeError : Error;
  return new Ctor(failure.message);
}

/** Each worker is started through its relay thread (./compute-relay-entry.mjs), which starts the compute worker itself. */
const RELAY_ENTRY = new URL('./compute-relay-entry.mjs', import.meta.url);
const COMPUTE_ENTRY = new URL('./compute-worker-entry.mjs', import.meta.url);

/** The relay's first message: its kernel thread id (null off Linux). */
interface RelayHello {
  relayThread: number | null;
}

export class WorkerPoolBackend implements ComputeBackend {
  readonly name: string;
  readonly size: number;
  /** Each stored weight is kept once more, in its owner worker (ComputeBackend.storedWeightCopies). */
  readonly storedWeightCopies = 1;
  private readonly slots: (Slot | undefined)[];
  private readonly weights = new WorkerWeights((key) => this.release(key));
  private readonly intraOpThreads: number;
  private readonly inlineMacs: number;
  private readonly inline: ComputeBackend;
  private nextId = 1;
  private closed = false;
  private readonly counts = { dispatched: 0, inline: 0, workersStarted: 0, storedBytes: 0, copiedBytes: 0 };

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1 || options.size > MAX_COMPUTE_THREADS) {
      throw new RangeError(`WorkerPoolBackend size: expected an integer from 1 to ${MAX_COMPUTE_THREADS}, got ${options.size}`);
    }
    this.size = options.size;
    this.slots = Array.from({ length: options.size }, () => undefined);
    this.intraOpThreads = options.intraOpThreads ?? 0;
    this.inlineMacs = options.inlineMacs ?? SMALL_PRODUCT_MACS;
    this.inline = options.inline ?? new OnnxCpuBackend(this.intraOpThreads);
    if (this.inline.ringLinear) throw new TypeError('WorkerPoolBackend inline: expected a backend of float and 8-bit products (ring products are composed from them)');
    this.name = `onnxruntime-cpu-workers(${options.size}${this.intraOpThreads > 0 ? `x${this.intraOpThreads}` : ''})`;
  }

  /**
   * Products sent to workers and run in-thread so far, workers started, bytes of weights sent to
   * be stored (once each), bytes of per-call operand copies (inputs, transient operands).
   */
  stats(): { dispatched: number; inline: number; workersStarted: number; storedBytes: number; copiedBytes: number } {
    return { ...this.counts };
  }

  /**
   * Kernel thread ids of the started workers' relays (the threads that post replies to this one;
   * ./compute-relay-entry.mjs), where known.
   */
  relayThreads(): number[] {
    return this.slots.flatMap((s) => (typeof s?.relayThread === 'number' ? [s.relayThread] : []));
  }

  /** Stops the workers (in-flight products fail); the backend refuses work afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0, this.slots.length, ...this.slots.map(() => undefined));
    await Promise.all(slots.map((s) => s?.worker.terminate()));
  }

  private start(index: number): Slot {
    const computeData: ComputeWorkerData = { intraOpThreads: this.intraOpThreads };
    const name = `permllm-compute-${index}`;
    // No inherited execArgv: a party's diagnostic preloads (--import stall-trace, --cpu-prof) are
    // about its main thread; the compute entry registers the TypeScript loader itself. The Worker
    // here is the relay, at this thread's priority; the compute worker is its child, at nice 19.
    const worker = new Worker(RELAY_ENTRY, { workerData: { entry: COMPUTE_ENTRY.href, name, computeData }, execArgv: [], name: `${name}-relay` });
    const slot: Slot = { worker, pending: new Map(), stored: new Set() };
    worker.unref();
    worker.on('message', (reply: ComputeReply | RelayHello) => {
      if ('relayThread' in reply) {
        slot.relayThread = reply.relayThread;
        return;
      }
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply.result);
      else p.reject(errorFrom(reply.error));
    });
    const fail = (reason: string) => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      const error = new Error(`compute worker ${index} ${reason}`);
      for (const p of slot.pending.values()) p.reject(error);
      slot.pending.clear();
    };
    worker.on('error', (e) => fail(`failed: ${e.message}`));
    worker.on('exit', (code) => fail(`exited (code ${code})`));
    this.slots[index] = slot;
    this.counts.workersStarted++;
    return slot;
  }

  /** Tells the workers that store a weight to drop it (its array was garbage-collected). */
  private release(key: number): void {
    for (const slot of this.slots) {
      if (!slot?.stored.delete(key)) continue;
      const message: ReleaseMessage = { op: 'release', keys: [key] };
      slot.worker.postMessage(message);
    }
  }

  private slot(index: number): Slot {
    return this.slots[index] ?? this.start(index);
  }

  /** An input or transient operand: copied once, transferred. */
  private copy<T extends Operand>(v: T, p: Prepared): T {
    this.counts.copiedBytes += operandBytes(v);
    return copyForTransfer(v, p.transfer);
  }

  /** A weight operand: by key to its owner when workers keep it (sent there the first time), else copied. */
  private weight<T extends Operand>(w: T, policy: KeepPolicy, p: Prepared): WeightRef<T> {
    const key = this.weights.keyOf(w, policy);
    if (key === undefined) return { data: this.copy(w, p) };
    p.owner = key % this.size;
    const owner = this.slot(p.owner);
    if (owner.stored.has(key)) return { key };
    owner.stored.add(key);
    this.counts.storedBytes += operandBytes(w);
    return { key, data: copyForTransfer(w, p.transfer) };
  }

  /** The worker with the fewest products in flight (started if needed). */
  private pick(): Slot {
    let best = -1;
    let load = Infinity;
    for (let i = 0; i < this.slots.length; i++) {
      const n = this.slots[i]?.pending.size ?? 0;
      if (n < load) [best, load] = [i, n];
      if (n === 0) break;
    }
    return this.slot(best);
  }

  private prepared(): Prepared {
    if (this.closed) throw new Error('WorkerPoolBackend: closed');
    return { transfer: [], owner: undefined };
  }

  private send<T>(request: Unsent, { transfer, owner }: Prepared): Promise<T> {
    const slot = owner === undefined ? this.pick() : this.slot(owner);
    const id = this.nextId++;
    this.counts.dispatched++;
    return new Promise<T>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref(); // an awaited product keeps the process alive
      slot.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      try {
        slot.worker.postMessage({ ...request, id }, transfer);
      } catch (e) {
        slot.pending.delete(id);
        if (slot.pending.size === 0) slot.worker.unref();
        slot.stored.clear(); // unknown what arrived: stored weights are sent again
        reject(e as Error);
      }
    });
  }

  private inlined(macs: number): boolean {
    if (macs > this.inlineMacs) return false;
    this.counts.inline++;
    return true;
  }

  linear<T extends FloatArray>(input: T, rows: number, weight: T, outDim: number, inDim: number): Promise<T> {
    assertShape('linear input', input, rows, inDim);
    assertShape('linear weight', weight, outDim, inDim);
    if (this.inlined(rows * outDim * inDim)) return this.inline.linear(input, rows, weight, outDim, inDim);
    const p = this.prepared();
    return this.send({ op: 'linear', input: this.copy(input, p), rows, weight: this.weight<FloatArray>(weight, 'repeat', p), outDim, inDim }, p);
  }

  matmul<T extends FloatArray>(a: T, m: number, k: number, b: T, n: number): Promise<T> {
    assertShape('matmul a', a, m, k);
    assertShape('matmul b', b, k, n);
    if (this.inlined(m * k * n)) return this.inline.matmul(a, m, k, b, n);
    const p = this.prepared();
    return this.send({ op: 'matmul', a: this.copy<FloatArray>(a, p), m, k, b: this.copy<FloatArray>(b, p), n }, p);
  }

  linearInt16(input: Float64Array, rows: number, weight: Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Float64Array> {
    assertShape('linearInt16 input', input, rows, inDim);
    if (weight.length !== outDim * inDim) throw new RangeError(`linearInt16 weight: expected ${outDim}x${inDim} = ${outDim * inDim} elements, got ${weight.length}`);
    if (this.inlined(rows * outDim * inDim)) return this.inline.linearInt16 ? this.inline.linearInt16(input, rows, weight, outDim, inDim) : this.inline.linear(input, rows, Float64Array.from(weight), outDim, inDim);
    const p = this.prepared();
    return this.send({ op: 'linearInt16', input: this.copy(input, p), rows, weight: this.weight(weight, 'repeat', p), outDim, inDim }, p);
  }

  matmulU8(a: Uint8Array, m: number, k: number, b: Uint8Array | Int8Array, n: number): Promise<Int32Array> {
    if (a.length !== m * k) throw new RangeError(`matmulU8 a: expected ${m}x${k} elements, got ${a.length}`);
    if (b.length !== k * n) throw new RangeError(`matmulU8 b: expected ${k}x${n} elements, got ${b.length}`);
    if (this.inlined(m * k * n) && this.inline.matmulU8) return this.inline.matmulU8(a, m, k, b, n);
    const p = this.prepared();
    return this.send({ op: 'matmulU8', a: this.copy(a, p), m, k, b: this.weight(b, 'repeat', p), n }, p);
  }

  ringLinear(x: BigUint64Array, rows: number, weight: RingWeight, outDim: number, inDim: number, options: RingLinearOptions = {}): Promise<BigUint64Array> {
    if (x.length !== rows * inDim) throw new RangeError(`ringLinear input: expected ${rows}x${inDim} = ${rows * inDim} elements, got ${x.length}`);
    const elements = ringWeightElements(weight);
    if (elements !== outDim * inDim) throw new RangeError(`ringLinear weight: expected ${outDim}x${inDim} = ${outDim * inDim} elements, got ${elements}`);
    if (this.inlined(rows * outDim * inDim)) return ringProductByForm(this.inline, x, rows, weight, outDim, inDim);
    const p = this.prepared();
    return this.send({ op: 'ringLinear', x: this.copy(x, p), rows, weight: this.weight(weight, options.resident === false ? 'transient' : 'resident', p), outDim, inDim }, p);
  }
}
