/**
 * The binding to permllm's CUDA kernel library (native/cuda/permllm-cuda.cu, built by
 * scripts/build-cuda.sh) through koffi, the prebuilt FFI of npm (an optional dependency: nothing
 * here is loaded unless a CUDA device is asked for).
 *
 * `openCudaLibrary` either returns a library that has found a device, or throws
 * CudaUnavailableError whose message says which of the three things is missing: the FFI or the
 * built library, the driver, or a device (with the CUDA runtime's own error text).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque device pointer (a koffi External). */
export type DevicePointer = object;

/** Why no CUDA device can be used. `reason` is the stable part, for logs and tests. */
export class CudaUnavailableError extends Error {
  constructor(
    readonly reason: 'no-ffi' | 'no-library' | 'no-driver' | 'no-device' | 'driver-error',
    message: string,
  ) {
    super(message);
    this.name = 'CudaUnavailableError';
  }
}

/** A CUDA runtime call that failed after the device was found. */
export class CudaError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    detail: string,
  ) {
    super(`${call} failed: CUDA error ${code} (${detail})`);
    this.name = 'CudaError';
  }
}

/** Where the library is looked for: $PERMLLM_CUDA_LIB, else native/cuda/build/ in this checkout. */
export function cudaLibraryPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['PERMLLM_CUDA_LIB'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return resolve(root, 'native', 'cuda', 'build', 'libpermllm-cuda.so');
}

/** The entry points of the library (native/cuda/permllm-cuda.cu documents each). */
export interface CudaLibrary {
  readonly path: string;
  readonly deviceName: string;
  readonly computeCapability: number;
  readonly totalMemory: number;
  readonly driverVersion: number;
  /** Throws CudaError on a non-zero code. */
  check(call: string, code: number): void;
  malloc(bytes: number): DevicePointer;
  free(ptr: DevicePointer): void;
  upload(dst: DevicePointer, src: ArrayBufferView, bytes: number): void;
  download(dst: ArrayBufferView, src: DevicePointer, bytes: number): void;
  memInfo(): { free: number; total: number };
  synchronize(): void;
  fillRandomU64(ptr: DevicePointer, words: number, seed: bigint): void;
  /** b_type 0: uint64 weight, 1: int16. */
  ringGemm(a: DevicePointer, b: DevicePointer, c: DevicePointer, m: number, n: number, k: number, transB: boolean, bType: 0 | 1): void;
  /** b_type 0: float64 weight, 1: int16, 2: uint16. */
  f64Gemm(a: DevicePointer, b: DevicePointer, c: DevicePointer, m: number, n: number, k: number, transB: boolean, bType: 0 | 1 | 2): void;
  f32Gemm(a: DevicePointer, b: DevicePointer, c: DevicePointer, m: number, n: number, k: number, transB: boolean): void;
}

type Fn = (...args: unknown[]) => unknown;

interface Koffi {
  load(path: string): { func(signature: string): Fn };
}

function loadKoffi(): Koffi {
  try {
    return createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    throw new CudaUnavailableError('no-ffi', `CUDA device unavailable: the koffi FFI package is not installed (${(e as Error).message.split('\n')[0]}); run npm install with optional dependencies`);
  }
}

/** Loads the library and selects device `device`; throws CudaUnavailableError when that cannot work. */
export function openCudaLibrary(options: { path?: string; device?: number } = {}): CudaLibrary {
  const path = options.path ?? cudaLibraryPath();
  const device = options.device ?? 0;
  if (!existsSync(path)) {
    throw new CudaUnavailableError('no-library', `CUDA device unavailable: kernel library ${path} not found; build it with scripts/build-cuda.sh (needs nvcc) or set PERMLLM_CUDA_LIB`);
  }
  const koffi = loadKoffi();
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new CudaUnavailableError('no-library', `CUDA device unavailable: cannot load ${path}: ${(e as Error).message}`);
  }
  const f = (sig: string) => lib.func(sig);
  const errorString = f('const char *plc_error_string(int code)') as (code: number) => string;
  const errorName = f('const char *plc_error_name(int code)') as (code: number) => string;
  const deviceCount = f('int plc_device_count(_Out_ int *count)');
  const driverVersionFn = f('int plc_driver_version(_Out_ int *version)');
  const setDevice = f('int plc_set_device(int device)');
  const deviceInfo = f('int plc_device_info(int device, void *name, int name_len, _Out_ int *cc, _Out_ size_t *total)');
  const memInfoFn = f('int plc_mem_info(_Out_ size_t *free_bytes, _Out_ size_t *total_bytes)');
  const mallocFn = f('int plc_malloc(_Out_ void **ptr, size_t bytes)');
  const freeFn = f('int plc_free(void *ptr)');
  const uploadFn = f('int plc_upload(void *dst, const void *src, size_t bytes)');
  const downloadFn = f('int plc_download(void *dst, const void *src, size_t bytes)');
  const syncFn = f('int plc_synchronize()');
  const fillFn = f('int plc_fill_random_u64(void *ptr, size_t count, uint64_t seed)');
  const ringGemmFn = f('int plc_ring_gemm(const void *a, const void *b, void *c, int m, int n, int k, int trans_b, int b_type)');
  const f64GemmFn = f('int plc_f64_gemm(const void *a, const void *b, void *c, int m, int n, int k, int trans_b, int b_type)');
  const f32GemmFn = f('int plc_f32_gemm(const void *a, const void *b, void *c, int m, int n, int k, int trans_b)');

  const describe = (code: number) => `${errorName(code)}: ${errorString(code)}`;
  const check = (call: string, code: number) => {
    if (code !== 0) throw new CudaError(call, code, describe(code));
  };

  const driver = [0];
  driverVersionFn(driver);
  const count = [0];
  const rc = deviceCount(count) as number;
  if (rc !== 0) {
    if (driver[0] === 0) throw new CudaUnavailableError('no-driver', `CUDA device unavailable: no NVIDIA driver (libcuda.so.1) on this machine (${describe(rc)})`);
    if (rc === 100) throw new CudaUnavailableError('no-device', `CUDA device unavailable: the driver reports no CUDA device (${describe(rc)})`);
    const hint = rc === 35 ? `; the driver (version ${driver[0]}) is older than the CUDA runtime the library was built with: rebuild it with this machine's nvcc (scripts/build-cuda.sh)` : '';
    throw new CudaUnavailableError('driver-error', `CUDA device unavailable: the driver failed (${describe(rc)})${hint}`);
  }
  if (count[0]! <= device) throw new CudaUnavailableError('no-device', `CUDA device unavailable: device ${device} requested, ${count[0]} present`);
  check('cudaSetDevice', setDevice(device) as number);
  const name = new Uint8Array(256);
  const cc = [0];
  const total = [0];
  check('cudaGetDeviceProperties', deviceInfo(device, name, 256, cc, total) as number);
  const nul = name.indexOf(0);

  return {
    path,
    deviceName: new TextDecoder().decode(name.subarray(0, nul < 0 ? name.length : nul)),
    computeCapability: cc[0]!,
    totalMemory: Number(total[0]),
    driverVersion: driver[0]!,
    check,
    malloc(bytes) {
      const out: unknown[] = [null];
      check(`cudaMalloc(${bytes})`, mallocFn(out, bytes) as number);
      return out[0] as DevicePointer;
    },
    free: (ptr) => check('cudaFree', freeFn(ptr) as number),
    upload: (dst, src, bytes) => check('cudaMemcpy H2D', uploadFn(dst, src, bytes) as number),
    download: (dst, src, bytes) => check('cudaMemcpy D2H', downloadFn(dst, src, bytes) as number),
    memInfo() {
      const fr = [0];
      const to = [0];
      check('cudaMemGetInfo', memInfoFn(fr, to) as number);
      return { free: Number(fr[0]), total: Number(to[0]) };
    },
    synchronize: () => check('cudaDeviceSynchronize', syncFn() as number),
    fillRandomU64: (ptr, words, seed) => check('fill', fillFn(ptr, words, seed) as number),
    ringGemm: (a, b, c, m, n, k, transB, bType) => check('ring GEMM', ringGemmFn(a, b, c, m, n, k, transB ? 1 : 0, bType) as number),
    f64Gemm: (a, b, c, m, n, k, transB, bType) => check('f64 GEMM', f64GemmFn(a, b, c, m, n, k, transB ? 1 : 0, bType) as number),
    f32Gemm: (a, b, c, m, n, k, transB) => check('f32 GEMM', f32GemmFn(a, b, c, m, n, k, transB ? 1 : 0) as number),
  };
}
