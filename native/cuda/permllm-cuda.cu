// permllm's CUDA kernel library: the products of the compute backend (compute/compute-backend.ts)
// on an NVIDIA GPU, reached from TypeScript through koffi (compute/cuda/cuda-library.ts).
//
// Built by scripts/build-cuda.sh (nvcc, at setup time, never at npm install) into
// native/cuda/build/libpermllm-cuda.so. The CUDA runtime is linked statically, so the library
// needs only the driver (libcuda.so.1) at run time; without one every entry point returns the
// runtime's error code, and plc_error_string says what it means.
//
// Conventions: every entry point returns 0 (cudaSuccess) or a cudaError_t code. Matrices are dense
// and row-major. A GEMM computes C[m, n] = A[m, k] · B, where B is read as B[n, k] (trans_b = 1,
// the PyTorch weight layout W[out, in]: C = A · Wᵀ) or as B[k, n] (trans_b = 0). Launches go to
// the default stream; the download that follows a product synchronises with it.
//
// Exactness (the ring64 profile, Z_2^64): uint64 multiply and add wrap mod 2^64 in hardware, so
// the u64 GEMM is the exact ring product for any k, in any summation order. An int16 weight is
// sign-extended to int64 and reinterpreted as uint64 (its two's-complement residue), which is
// exactly the ring element the CPU path (compute/ring-gemm.ts) multiplies by.

#include <cuda_runtime.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define PLC_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int TILE = 16;

template <typename Acc, typename T>
__device__ __forceinline__ Acc widen(T v) {
  return static_cast<Acc>(v);
}
// int16 → uint64: sign-extend first, so −1 becomes 2^64 − 1 (the ring residue).
template <>
__device__ __forceinline__ uint64_t widen<uint64_t, int16_t>(int16_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}
template <>
__device__ __forceinline__ int32_t widen<int32_t, int8_t>(int8_t v) {
  return static_cast<int32_t>(v);
}

// Shared-memory tiled GEMM: each 16x16 block computes a 16x16 tile of C, one element per thread,
// walking k in 16-wide slabs of A and B.
template <typename TA, typename TB, typename TC, typename Acc>
__global__ void gemm_kernel(const TA* __restrict__ a, const TB* __restrict__ b, TC* __restrict__ c, int m, int n, int k, int trans_b) {
  __shared__ Acc as[TILE][TILE];
  __shared__ Acc bs[TILE][TILE + 1];
  const int tx = threadIdx.x;
  const int ty = threadIdx.y;
  const int row = blockIdx.y * TILE + ty;
  const int col = blockIdx.x * TILE + tx;
  Acc sum = 0;
  for (int k0 = 0; k0 < k; k0 += TILE) {
    const int ka = k0 + tx;
    as[ty][tx] = (row < m && ka < k) ? widen<Acc>(a[(size_t)row * k + ka]) : Acc(0);
    if (trans_b) {
      // B[n, k]: thread (ty, tx) loads B[blockIdx.x·16 + ty, k0 + tx] (coalesced along k) into bs[tx][ty].
      const int bn = blockIdx.x * TILE + ty;
      const int bk = k0 + tx;
      bs[tx][ty] = (bn < n && bk < k) ? widen<Acc>(b[(size_t)bn * k + bk]) : Acc(0);
    } else {
      const int bk = k0 + ty;
      bs[ty][tx] = (col < n && bk < k) ? widen<Acc>(b[(size_t)bk * n + col]) : Acc(0);
    }
    __syncthreads();
#pragma unroll
    for (int t = 0; t < TILE; t++) sum += as[ty][t] * bs[t][tx];
    __syncthreads();
  }
  if (row < m && col < n) c[(size_t)row * n + col] = static_cast<TC>(sum);
}

// Skinny products (decode: a handful of rows against a large weight) are bound by reading the
// weight once. One warp per output column block: each thread of a 32-wide warp strides over k for
// W[n, k] rows (coalesced), and the warp reduces. Rows are looped inside (m ≤ SKINNY_ROWS).
constexpr int SKINNY_ROWS = 8;

template <typename Acc>
__device__ __forceinline__ Acc warp_sum(Acc v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

template <typename TA, typename TB, typename TC, typename Acc>
__global__ void skinny_trans_kernel(const TA* __restrict__ a, const TB* __restrict__ b, TC* __restrict__ c, int m, int n, int k) {
  const int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (warp >= n) return;
  Acc sum[SKINNY_ROWS];
#pragma unroll
  for (int r = 0; r < SKINNY_ROWS; r++) sum[r] = 0;
  const TB* w = b + (size_t)warp * k;
  for (int i = lane; i < k; i += 32) {
    const Acc wv = widen<Acc>(w[i]);
#pragma unroll
    for (int r = 0; r < SKINNY_ROWS; r++)
      if (r < m) sum[r] += widen<Acc>(a[(size_t)r * k + i]) * wv;
  }
#pragma unroll
  for (int r = 0; r < SKINNY_ROWS; r++) {
    if (r < m) {
      const Acc s = warp_sum(sum[r]);
      if (lane == 0) c[(size_t)r * n + warp] = static_cast<TC>(s);
    }
  }
}

template <typename TA, typename TB, typename TC, typename Acc>
int launch_gemm(const void* a, const void* b, void* c, int m, int n, int k, int trans_b) {
  if (m <= 0 || n <= 0 || k < 0) return (int)cudaErrorInvalidValue;
  if (k == 0) return (int)cudaMemset(c, 0, (size_t)m * n * sizeof(TC));
  if (trans_b && m <= SKINNY_ROWS) {
    const int threads = 256;
    const long long warps = n;
    const int blocks = (int)((warps * 32 + threads - 1) / threads);
    skinny_trans_kernel<TA, TB, TC, Acc><<<blocks, threads>>>((const TA*)a, (const TB*)b, (TC*)c, m, n, k);
  } else {
    dim3 block(TILE, TILE);
    dim3 grid((n + TILE - 1) / TILE, (m + TILE - 1) / TILE);
    gemm_kernel<TA, TB, TC, Acc><<<grid, block>>>((const TA*)a, (const TB*)b, (TC*)c, m, n, k, trans_b);
  }
  return (int)cudaGetLastError();
}

__global__ void fill_kernel_u64(uint64_t* p, size_t count, uint64_t seed) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  const size_t stride = (size_t)gridDim.x * blockDim.x;
  for (; i < count; i += stride) {
    // splitmix64: a deterministic pseudo-random fill for benchmark operands made on the device.
    uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    p[i] = z ^ (z >> 31);
  }
}

}  // namespace

// ---- device and memory --------------------------------------------------------------------------

PLC_EXPORT int plc_version(void) { return 1; }

PLC_EXPORT const char* plc_error_string(int code) { return cudaGetErrorString((cudaError_t)code); }

PLC_EXPORT const char* plc_error_name(int code) { return cudaGetErrorName((cudaError_t)code); }

PLC_EXPORT int plc_device_count(int* count) {
  *count = 0;
  return (int)cudaGetDeviceCount(count);
}

PLC_EXPORT int plc_set_device(int device) { return (int)cudaSetDevice(device); }

// name: at least 256 bytes. cc: major * 10 + minor.
PLC_EXPORT int plc_device_info(int device, char* name, int name_len, int* cc, size_t* total_memory) {
  cudaDeviceProp prop;
  const cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) return (int)e;
  strncpy(name, prop.name, (size_t)name_len - 1);
  name[name_len - 1] = '\0';
  *cc = prop.major * 10 + prop.minor;
  *total_memory = prop.totalGlobalMem;
  return 0;
}

PLC_EXPORT int plc_mem_info(size_t* free_bytes, size_t* total_bytes) { return (int)cudaMemGetInfo(free_bytes, total_bytes); }

PLC_EXPORT int plc_driver_version(int* version) { return (int)cudaDriverGetVersion(version); }

PLC_EXPORT int plc_malloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  return (int)cudaMalloc(ptr, bytes == 0 ? 1 : bytes);
}

PLC_EXPORT int plc_free(void* ptr) { return (int)cudaFree(ptr); }

PLC_EXPORT int plc_upload(void* device_dst, const void* host_src, size_t bytes) {
  return (int)cudaMemcpy(device_dst, host_src, bytes, cudaMemcpyHostToDevice);
}

PLC_EXPORT int plc_download(void* host_dst, const void* device_src, size_t bytes) {
  return (int)cudaMemcpy(host_dst, device_src, bytes, cudaMemcpyDeviceToHost);
}

PLC_EXPORT int plc_synchronize(void) { return (int)cudaDeviceSynchronize(); }

// Fills count uint64 words (any buffer viewed as words) on the device: benchmark operands that
// never cross the bus.
PLC_EXPORT int plc_fill_random_u64(void* device_ptr, size_t count, uint64_t seed) {
  fill_kernel_u64<<<1024, 256>>>((uint64_t*)device_ptr, count, seed);
  return (int)cudaGetLastError();
}

// ---- products (all operands device pointers) ----------------------------------------------------

// Exact Z_2^64: C = A · B mod 2^64, A uint64; B uint64 (b_type 0) or int16 (b_type 1).
PLC_EXPORT int plc_ring_gemm(const void* a, const void* b, void* c, int m, int n, int k, int trans_b, int b_type) {
  if (b_type == 0) return launch_gemm<uint64_t, uint64_t, uint64_t, uint64_t>(a, b, c, m, n, k, trans_b);
  if (b_type == 1) return launch_gemm<uint64_t, int16_t, uint64_t, uint64_t>(a, b, c, m, n, k, trans_b);
  return (int)cudaErrorInvalidValue;
}

// float64: A double; B double (0), int16 (1) or uint16 (2), widened in the kernel.
PLC_EXPORT int plc_f64_gemm(const void* a, const void* b, void* c, int m, int n, int k, int trans_b, int b_type) {
  if (b_type == 0) return launch_gemm<double, double, double, double>(a, b, c, m, n, k, trans_b);
  if (b_type == 1) return launch_gemm<double, int16_t, double, double>(a, b, c, m, n, k, trans_b);
  if (b_type == 2) return launch_gemm<double, uint16_t, double, double>(a, b, c, m, n, k, trans_b);
  return (int)cudaErrorInvalidValue;
}

PLC_EXPORT int plc_f32_gemm(const void* a, const void* b, void* c, int m, int n, int k, int trans_b) {
  return launch_gemm<float, float, float, float>(a, b, c, m, n, k, trans_b);
}

// Exact int32: A uint8; B uint8 (0) or int8 (1) (onnxruntime's MatMulInteger).
PLC_EXPORT int plc_u8_gemm(const void* a, const void* b, void* c, int m, int n, int k, int trans_b, int b_type) {
  if (b_type == 0) return launch_gemm<uint8_t, uint8_t, int32_t, int32_t>(a, b, c, m, n, k, trans_b);
  if (b_type == 1) return launch_gemm<uint8_t, int8_t, int32_t, int32_t>(a, b, c, m, n, k, trans_b);
  return (int)cudaErrorInvalidValue;
}
