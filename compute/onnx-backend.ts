import * as ort from 'onnxruntime-node';
import { assertShape, type ComputeBackend, type FloatArray } from './compute-backend.js';
import { graphModel, OnnxElemType, singleNodeModel, type OnnxElemTypeName } from './onnx-graph.js';

type Kind = 'linear' | 'matmul';

function dtypeOf(data: FloatArray): OnnxElemTypeName {
  return data instanceof Float64Array ? 'double' : 'float';
}

function buildModel(kind: Kind, elemType: OnnxElemTypeName): Uint8Array {
  const a = { name: 'a', elemType, dims: ['m', 'k'] };
  const out = { name: 'y', elemType, dims: ['m', 'n'] };
  if (kind === 'linear') {
    // Gemm with transB=1 computes a · bᵀ without a transposed copy of the weight.
    return singleNodeModel(
      { opType: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], intAttributes: { transB: 1 } },
      [a, { name: 'b', elemType, dims: ['n', 'k'] }],
      [out],
    );
  }
  return singleNodeModel({ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }, [a, { name: 'b', elemType, dims: ['k', 'n'] }], [out]);
}

/**
 * onnxruntime-node on the CPU. One tiny session per (operator, dtype), created lazily and
 * reused; shapes are symbolic so any matrix size runs through the same session.
 */
export class OnnxCpuBackend implements ComputeBackend {
  readonly name = 'onnxruntime-cpu';
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(private readonly threads = 0) {}

  private session(kind: Kind, elemType: OnnxElemTypeName): Promise<ort.InferenceSession> {
    const key = `${kind}:${elemType}`;
    let s = this.sessions.get(key);
    if (!s) {
      const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
      if (this.threads > 0) options.intraOpNumThreads = this.threads;
      s = ort.InferenceSession.create(buildModel(kind, elemType), options);
      this.sessions.set(key, s);
    }
    return s;
  }

  private async run<T extends FloatArray>(kind: Kind, a: T, aDims: number[], b: T, bDims: number[]): Promise<T> {
    const type = dtypeOf(a);
    if (dtypeOf(b) !== type) throw new TypeError(`${kind}: operands must share a dtype`);
    const session = await this.session(kind, type);
    const result = await session.run({
      a: new ort.Tensor(type === 'double' ? 'float64' : 'float32', a, aDims),
      b: new ort.Tensor(type === 'double' ? 'float64' : 'float32', b, bDims),
    });
    const y = result['y'];
    if (!y) throw new Error(`${kind}: onnxruntime returned no output`);
    return y.data as T;
  }

  private castSession(weightType: 'int16' | 'uint16'): Promise<ort.InferenceSession> {
    const key = `linear-cast:${weightType}`;
    let s = this.sessions.get(key);
    if (!s) {
      // Cast(b → double) then Gemm(a, b, transB = 1): the weight stays 16-bit outside the backend.
      const model = graphModel(
        [
          { opType: 'Cast', inputs: ['b'], outputs: ['bd'], intAttributes: { to: OnnxElemType.double } },
          { opType: 'Gemm', inputs: ['a', 'bd'], outputs: ['y'], intAttributes: { transB: 1 } },
        ],
        [
          { name: 'a', elemType: 'double', dims: ['m', 'k'] },
          { name: 'b', elemType: weightType, dims: ['n', 'k'] },
        ],
        [{ name: 'y', elemType: 'double', dims: ['m', 'n'] }],
      );
      const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
      if (this.threads > 0) options.intraOpNumThreads = this.threads;
      s = ort.InferenceSession.create(model, options);
      this.sessions.set(key, s);
    }
    return s;
  }

  async linearInt16(input: Float64Array, rows: number, weight: Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Float64Array> {
    assertShape('linearInt16 input', input, rows, inDim);
    if (weight.length !== outDim * inDim) throw new RangeError(`linearInt16 weight: expected ${outDim}x${inDim} = ${outDim * inDim} elements, got ${weight.length}`);
    const type = weight instanceof Int16Array ? 'int16' : 'uint16';
    const session = await this.castSession(type);
    const result = await session.run({ a: new ort.Tensor('float64', input, [rows, inDim]), b: new ort.Tensor(type, weight, [outDim, inDim]) });
    const y = result['y'];
    if (!y) throw new Error('linearInt16: onnxruntime returned no output');
    return y.data as Float64Array;
  }

  private integerSession(bType: 'uint8' | 'int8'): Promise<ort.InferenceSession> {
    const key = `matmul-integer:${bType}`;
    let s = this.sessions.get(key);
    if (!s) {
      const model = singleNodeModel(
        { opType: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'] },
        [
          { name: 'a', elemType: 'uint8', dims: ['m', 'k'] },
          { name: 'b', elemType: bType, dims: ['k', 'n'] },
        ],
        [{ name: 'y', elemType: 'int32', dims: ['m', 'n'] }],
      );
      const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
      if (this.threads > 0) options.intraOpNumThreads = this.threads;
      s = ort.InferenceSession.create(model, options);
      this.sessions.set(key, s);
    }
    return s;
  }

  async matmulU8(a: Uint8Array, m: number, k: number, b: Uint8Array | Int8Array, n: number): Promise<Int32Array> {
    if (a.length !== m * k) throw new RangeError(`matmulU8 a: expected ${m}x${k} elements, got ${a.length}`);
    if (b.length !== k * n) throw new RangeError(`matmulU8 b: expected ${k}x${n} elements, got ${b.length}`);
    const type = b instanceof Int8Array ? 'int8' : 'uint8';
    const session = await this.integerSession(type);
    const result = await session.run({ a: new ort.Tensor('uint8', a, [m, k]), b: new ort.Tensor(type, b, [k, n]) });
    const y = result['y'];
    if (!y) throw new Error('matmulU8: onnxruntime returned no output');
    return y.data as Int32Array;
  }

  linear<T extends FloatArray>(input: T, rows: number, weight: T, outDim: number, inDim: number): Promise<T> {
    assertShape('linear input', input, rows, inDim);
    assertShape('linear weight', weight, outDim, inDim);
    return this.run('linear', input, [rows, inDim], weight, [outDim, inDim]);
  }

  matmul<T extends FloatArray>(a: T, m: number, k: number, b: T, n: number): Promise<T> {
    assertShape('matmul a', a, m, k);
    assertShape('matmul b', b, k, n);
    return this.run('matmul', a, [m, k], b, [k, n]);
  }
}

let shared: OnnxCpuBackend | undefined;
/** The process-wide default backend. */
export function defaultBackend(): ComputeBackend {
  shared ??= new OnnxCpuBackend();
  return shared;
}
