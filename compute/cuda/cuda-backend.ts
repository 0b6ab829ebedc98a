/**
 * The compute backend on an NVIDIA GPU: permllm's own kernels (native/cuda/permllm-cuda.cu)
 * through koffi (./cuda-library.ts).
 *
 * - ringLinear: exact Z_2^64 products as uint64 GEMMs (wrapping multiply-add is the ring's own
 *   arithmetic, so the result equals compute/ring-gemm.ts's limb path bit for bit), for every
 *   weight form of the ring64 profile (compute/ring-weight.ts).
 * - linear / matmul / linearInt16: float64 (and float32) GEMMs for the f64 profile; float sums
 *   may round differently from onnxruntime's, as between any two BLAS builds.
 *
 * Weights stay resident on the device (./resident-weights.ts): a weight crosses the bus once, then
 * each product moves only its input and output (counted in `transfers`). Ring weights are
 * resident from their first product unless ring-gemm marks them transient; float weights from
 * their second (a single-use operand passed as `weight` is not kept). Calls are synchronous
 * on the calling thread (a kernel, then the download that waits for it) and return settled
 * promises, matching the interface.
 */
import { assertShape, type ComputeBackend, type FloatArray, type RingLinearOptions } from '../compute-backend.js';
import type { RingWeight } from '../ring-weight.js';
import { openCudaLibrary, type CudaLibrary, type DevicePointer } from './cuda-library.js';
import { deviceWeightForm, weightIdentity, type DeviceWeightForm } from './device-weight-form.js';
import { ResidentWeights, TransferCounter, type TransferStats } from './resident-weights.js';

type RingMeta = Pick<DeviceWeightForm, 'bType' | 'transB'>;

interface FloatMeta {
  bType: 0 | 1 | 2;
  dtype: 'f64' | 'f32';
}

/** A device buffer that grows to the largest size asked for and is reused across calls. */
class Scratch {
  private ptr: DevicePointer | undefined;
  private bytes = 0;
  constructor(private readonly lib: CudaLibrary) {}
  get(bytes: number): DevicePointer {
    if (!this.ptr || bytes > this.bytes) {
      if (this.ptr) this.lib.free(this.ptr);
      this.ptr = undefined;
      const size = Math.max(bytes, 1 << 20);
      this.ptr = this.lib.malloc(size);
      this.bytes = size;
    }
    return this.ptr;
  }
  get size(): number {
    return this.bytes;
  }
}

export interface CudaBackendOptions {
  /** The kernel library (default: $PERMLLM_CUDA_LIB or native/cuda/build/libpermllm-cuda.so). */
  libraryPath?: string;
  /** CUDA device ordinal (default 0). */
  device?: number;
}

export class CudaBackend implements ComputeBackend {
  readonly name: string;
  readonly transfers = new TransferCounter();
  private readonly ringWeights: ResidentWeights<DevicePointer, RingMeta>;
  private readonly floatWeights: ResidentWeights<DevicePointer, FloatMeta>;
  private readonly seenFloatWeights = new WeakSet<object>();
  private readonly a: Scratch;
  private readonly b: Scratch;
  private readonly c: Scratch;

  /** Opens the library and the device; throws CudaUnavailableError (a clear message) when either is missing. */
  static open(options: CudaBackendOptions = {}): CudaBackend {
    return new CudaBackend(openCudaLibrary({ ...(options.libraryPath === undefined ? {} : { path: options.libraryPath }), ...(options.device === undefined ? {} : { device: options.device }) }));
  }

  constructor(readonly lib: CudaLibrary) {
    this.name = `cuda:${lib.deviceName}`;
    const allocator = { alloc: (n: number) => lib.malloc(n), upload: (p: DevicePointer, src: ArrayBufferView, n: number) => lib.upload(p, src, n), free: (p: DevicePointer) => lib.free(p) };
    this.ringWeights = new ResidentWeights(allocator, this.transfers);
    this.floatWeights = new ResidentWeights(allocator, this.transfers);
    this.a = new Scratch(lib);
    this.b = new Scratch(lib);
    this.c = new Scratch(lib);
  }

  /** Per-call and one-off transfer counters so far. */
  stats(): TransferStats {
    return this.transfers.snapshot();
  }

  /** Device memory: free and total as the driver reports them, and what this backend holds. */
  memory(): { free: number; total: number; residentBytes: number; scratchBytes: number } {
    const { free, total } = this.lib.memInfo();
    return { free, total, residentBytes: this.transfers.stats.residentBytes, scratchBytes: this.a.size + this.b.size + this.c.size };
  }

  /** Frees the resident copy of a weight now (a RingWeight or a float weight array). */
  release(weight: RingWeight | FloatArray): void {
    const key = ArrayBuffer.isView(weight) ? weight : weightIdentity(weight);
    this.ringWeights.release(key);
    this.floatWeights.release(key);
  }

  private up(ptr: DevicePointer, src: ArrayBufferView): void {
    this.lib.upload(ptr, src, src.byteLength);
    this.transfers.stats.hostToDeviceBytes += src.byteLength;
  }

  private down<T extends ArrayBufferView>(dst: T, src: DevicePointer): T {
    this.lib.download(dst, src, dst.byteLength);
    this.transfers.stats.deviceToHostBytes += dst.byteLength;
    this.transfers.stats.calls += 1;
    return dst;
  }

  ringLinear(x: BigUint64Array, rows: number, weight: RingWeight, outDim: number, inDim: number, options: RingLinearOptions = {}): Promise<BigUint64Array> {
    if (x.length !== rows * inDim) throw new RangeError(`ringLinear input: expected ${rows}x${inDim} = ${rows * inDim} elements, got ${x.length}`);
    let w: DevicePointer;
    let form: RingMeta;
    if (options.resident === false) {
      const f = deviceWeightForm(weight, outDim, inDim);
      w = this.b.get(f.data.byteLength);
      this.up(w, f.data);
      form = f;
    } else {
      const entry = this.ringWeights.get(weightIdentity(weight), () => {
        const f = deviceWeightForm(weight, outDim, inDim);
        return { data: f.data, meta: { bType: f.bType, transB: f.transB } };
      });
      w = entry.ptr;
      form = entry.meta;
    }
    const a = this.a.get(x.byteLength);
    this.up(a, x);
    const out = new BigUint64Array(rows * outDim);
    const c = this.c.get(out.byteLength);
    this.lib.ringGemm(a, w, c, rows, outDim, inDim, form.transB, form.bType);
    return Promise.resolve(this.down(out, c));
  }

  private floatProduct<T extends FloatArray>(input: T, rows: number, weight: FloatArray | Int16Array | Uint16Array, outDim: number, inDim: number, transB: boolean, resident: boolean): T {
    const dtype = input instanceof Float64Array ? 'f64' : 'f32';
    const bType: 0 | 1 | 2 = weight instanceof Int16Array ? 1 : weight instanceof Uint16Array ? 2 : 0;
    if (bType === 0 && (weight instanceof Float64Array ? 'f64' : 'f32') !== dtype) throw new TypeError('linear: operands must share a dtype');
    if (bType !== 0 && dtype !== 'f64') throw new TypeError('linearInt16: the input must be float64');
    let w: DevicePointer;
    // The float interface does not say which operand outlives the call (the f64 profile's
    // attention passes its keys as `weight`): a float weight becomes resident on its second use.
    const keep = resident && (this.floatWeights.has(weight) || this.seenFloatWeights.has(weight));
    if (resident && !keep) this.seenFloatWeights.add(weight);
    if (keep) {
      w = this.floatWeights.get(weight, () => ({ data: weight, meta: { bType, dtype } })).ptr;
    } else {
      w = this.b.get(weight.byteLength);
      this.up(w, weight);
    }
    const a = this.a.get(input.byteLength);
    this.up(a, input);
    const out = (dtype === 'f64' ? new Float64Array(rows * outDim) : new Float32Array(rows * outDim)) as T;
    const c = this.c.get(out.byteLength);
    if (dtype === 'f64') this.lib.f64Gemm(a, w, c, rows, outDim, inDim, transB, bType);
    else this.lib.f32Gemm(a, w, c, rows, outDim, inDim, transB);
    return this.down(out, c);
  }

  linear<T extends FloatArray>(input: T, rows: number, weight: T, outDim: number, inDim: number): Promise<T> {
    assertShape('linear input', input, rows, inDim);
    assertShape('linear weight', weight, outDim, inDim);
    return Promise.resolve(this.floatProduct(input, rows, weight, outDim, inDim, true, true));
  }

  matmul<T extends FloatArray>(a: T, m: number, k: number, b: T, n: number): Promise<T> {
    assertShape('matmul a', a, m, k);
    assertShape('matmul b', b, k, n);
    return Promise.resolve(this.floatProduct(a, m, b, n, k, false, false));
  }

  linearInt16(input: Float64Array, rows: number, weight: Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Float64Array> {
    assertShape('linearInt16 input', input, rows, inDim);
    if (weight.length !== outDim * inDim) throw new RangeError(`linearInt16 weight: expected ${outDim}x${inDim} = ${outDim * inDim} elements, got ${weight.length}`);
    return Promise.resolve(this.floatProduct(input, rows, weight, outDim, inDim, true, true));
  }
}
