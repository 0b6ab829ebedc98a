/**
 * A ComputeBackend wrapper that records when each matrix product ran, so the benchmark can say
 * how much of a party's time went into matrix products (onnxruntime, off the event loop) and
 * how much into everything else (masks from the PRG, element-wise steps, encoding, BFV).
 */
import type { ComputeBackend, FloatArray, RingLinearOptions } from '../compute/compute-backend.js';
import type { RingWeight } from '../compute/ring-weight.js';

export interface ProductCall {
  start: number;
  end: number;
  /** Multiply-accumulates in the product (rows × out × in). */
  macs: number;
}

export class TimedBackend implements ComputeBackend {
  readonly calls: ProductCall[] = [];

  constructor(private readonly inner: ComputeBackend) {
    const ring = inner.ringLinear?.bind(inner);
    if (ring) {
      this.ringLinear = (x: BigUint64Array, rows: number, weight: RingWeight, outDim: number, inDim: number, options?: RingLinearOptions) =>
        this.time(rows * outDim * inDim, () => ring(x, rows, weight, outDim, inDim, options));
    }
  }

  get name(): string {
    return `timed(${this.inner.name})`;
  }

  private async time<T>(macs: number, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const out = await run();
    this.calls.push({ start, end: performance.now(), macs });
    return out;
  }

  linear<T extends FloatArray>(input: T, rows: number, weight: T, outDim: number, inDim: number): Promise<T> {
    return this.time(rows * outDim * inDim, () => this.inner.linear(input, rows, weight, outDim, inDim));
  }

  matmul<T extends FloatArray>(a: T, m: number, k: number, b: T, n: number): Promise<T> {
    return this.time(m * k * n, () => this.inner.matmul(a, m, k, b, n));
  }

  matmulU8(a: Uint8Array, m: number, k: number, b: Uint8Array | Int8Array, n: number): Promise<Int32Array> {
    const inner = this.inner;
    if (!inner.matmulU8) throw new Error(`${inner.name} has no 8-bit integer products`);
    return this.time(m * k * n, () => inner.matmulU8!(a, m, k, b, n));
  }

  /** Forwarded so that the ring64 limb products keep the backend's 16-bit path (and are timed). */
  linearInt16(input: Float64Array, rows: number, weight: Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Float64Array> {
    const inner = this.inner;
    if (inner.linearInt16) return this.time(rows * outDim * inDim, () => inner.linearInt16!(input, rows, weight, outDim, inDim));
    return this.time(rows * outDim * inDim, () => inner.linear(input, rows, Float64Array.from(weight), outDim, inDim));
  }

  /**
   * Present when the inner backend multiplies in the ring itself (the compute workers, the GPU):
   * without it compute/ring-gemm.ts would split the ring product into limb GEMMs here.
   */
  readonly ringLinear?: NonNullable<ComputeBackend['ringLinear']>;

  /** Summed duration of the products that ran in [from, to) (clipped), ms. */
  busyMs(from: number, to: number): number {
    let sum = 0;
    for (const c of this.calls) if (c.end > from && c.start < to) sum += Math.min(c.end, to) - Math.max(c.start, from);
    return sum;
  }

  /** Forgets the recorded calls (one session's worth at a time). */
  reset(): void {
    this.calls.length = 0;
  }
}

/** Time in [from, to) during which at least one of the backends was running a product, ms. */
export function productUnionMs(backends: readonly TimedBackend[], from: number, to: number): number {
  const spans = backends
    .flatMap((b) => b.calls)
    .filter((c) => c.end > from && c.start < to)
    .map((c) => [Math.max(c.start, from), Math.min(c.end, to)] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let open = Number.NEGATIVE_INFINITY;
  let close = Number.NEGATIVE_INFINITY;
  for (const [s, e] of spans) {
    if (s > close) {
      total += close - open > 0 ? close - open : 0;
      open = s;
      close = e;
    } else if (e > close) close = e;
  }
  if (close - open > 0) total += close - open;
  return total;
}
