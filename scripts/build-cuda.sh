#!/usr/bin/env bash
# Compiles permllm's CUDA kernel library (native/cuda/permllm-cuda.cu) with nvcc into
# native/cuda/build/libpermllm-cuda.so (or $PERMLLM_CUDA_BUILD_DIR). Run at setup time on a
# machine with the CUDA toolkit; `npm install` never runs it and nothing else needs CUDA.
#
#   CUDA_ARCHS   space-separated compute capabilities to build SASS for (default "90": H100/H200);
#                PTX for the last one is embedded too, so newer GPUs JIT-compile it.
#   NVCC         the compiler (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/native/cuda/permllm-cuda.cu"
out_dir="${PERMLLM_CUDA_BUILD_DIR:-$root/native/cuda/build}"
nvcc="$(command -v "${NVCC:-nvcc}" || true)"
if [ -z "$nvcc" ] && [ -z "${NVCC:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
  echo "build-cuda: nvcc not found (set NVCC or put the CUDA toolkit's bin on PATH)" >&2
  exit 2
fi
archs="${CUDA_ARCHS:-90}"
gencode=()
last=""
for a in $archs; do gencode+=("-gencode" "arch=compute_${a},code=sm_${a}"); last="$a"; done
gencode+=("-gencode" "arch=compute_${last},code=compute_${last}")
mkdir -p "$out_dir"
set -x
"$nvcc" -O3 -std=c++17 -shared -Xcompiler -fPIC,-fvisibility=hidden --cudart=static "${gencode[@]}" \
  -o "$out_dir/libpermllm-cuda.so" "$src"
{ set +x; } 2>/dev/null
echo "build-cuda: $(stat -c %s "$out_dir/libpermllm-cuda.so") bytes -> $out_dir/libpermllm-cuda.so"
