#!/usr/bin/env bash
# The GPU check of issue 16, in one go, from a bare checkout on a machine with an NVIDIA GPU,
# the CUDA toolkit (nvcc) and no package registry (docs/deploy.md "GPU"):
#
#   1. Node.js: `node` on PATH (20 or later), else $NODE_TARBALL (a nodejs.org linux-x64
#      .tar.xz / .tar.gz, or an .xz / .gz compressed node binary), else .gpu-carry/node.xz;
#   2. dependencies: ./node_modules if it is there, else .gpu-carry/node_modules.tar.xz
#      (made where npm works by `node scripts/gpu-pack.mjs`; carry .gpu-carry/ along);
#   3. compiles the kernel library with nvcc (scripts/build-cuda.sh);
#   4. runs the GPU tests with PERMLLM_REQUIRE_GPU=1 (a missing GPU fails them instead of
#      skipping): tests/gpu/cuda-exactness.test.ts (GPU ring64 products == CPU bit for bit, and a
#      private stories260K session GPU == CPU) and tests/gpu/cuda-without-gpu.test.ts (build,
#      and --device auto taking the GPU in three real processes) and tests/bench/gpu-bench-smoke.test.ts;
#   5. runs `permllm bench gpu --device cuda --parties` at the Llama-3.1-8B shapes and prints it.
#
# Output: the log and the bench report go to $OUT (default bench/results/gpu); the last lines
# say "gpu-check: PASS" or "gpu-check: FAIL (step)". Meant to finish well inside 10 minutes.
#   GPU_CARRY=DIR        where the carried files are (default .gpu-carry)
#   PERMLLM_MODEL_DIR    the stories260K folder (default: ../shared/models, shared/models, or GPU_CARRY/models)
#   CUDA_ARCHS           passed to build-cuda.sh (default 90: H100 / H200)
#   GPU_BENCH_ARGS       extra flags for the bench (e.g. "--decode 3 --no-full-model")
#   GPU_CHECK_DRY_RUN=1  rehearsal on a machine without a GPU: the GPU tests may skip and the bench
#                        runs with --device auto (CPU figures only); ends "gpu-check: DRY RUN"
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
carry="${GPU_CARRY:-$root/.gpu-carry}"
out="${OUT:-$root/bench/results/gpu}"
mkdir -p "$out"
log="$out/gpu-check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1
t0=$(date +%s)
step() { echo; echo "== gpu-check [$(($(date +%s) - t0)) s]: $*"; }
fail() { echo "gpu-check: FAIL ($1)"; exit 1; }

step "machine"
uname -a
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "(no nvidia-smi)"

step "Node.js"
node_bin=""
if [ -n "${NODE_TARBALL:-}" ]; then
  mkdir -p "$root/.gpu-node"
  case "$NODE_TARBALL" in
    *.tar.xz | *.tar.gz | *.tgz)
      tar -xf "$NODE_TARBALL" -C "$root/.gpu-node" --strip-components=1 || fail "unpacking NODE_TARBALL"
      node_bin="$root/.gpu-node/bin/node" ;;
    *.xz) mkdir -p "$root/.gpu-node/bin" && xz -dc "$NODE_TARBALL" >"$root/.gpu-node/bin/node" && chmod +x "$root/.gpu-node/bin/node" || fail "unpacking NODE_TARBALL"
      node_bin="$root/.gpu-node/bin/node" ;;
    *.gz) mkdir -p "$root/.gpu-node/bin" && gzip -dc "$NODE_TARBALL" >"$root/.gpu-node/bin/node" && chmod +x "$root/.gpu-node/bin/node" || fail "unpacking NODE_TARBALL"
      node_bin="$root/.gpu-node/bin/node" ;;
    *) fail "NODE_TARBALL must end in .tar.xz, .tar.gz, .tgz, .xz or .gz" ;;
  esac
elif command -v node >/dev/null; then
  node_bin="$(command -v node)"
elif [ -f "$carry/node.xz" ]; then
  mkdir -p "$root/.gpu-node/bin"
  xz -dc "$carry/node.xz" >"$root/.gpu-node/bin/node" && chmod +x "$root/.gpu-node/bin/node" || fail "unpacking $carry/node.xz"
  node_bin="$root/.gpu-node/bin/node"
else
  fail "no Node.js: put node (20+) on PATH, set NODE_TARBALL, or carry .gpu-carry/node.xz (node scripts/gpu-pack.mjs)"
fi
export PATH="$(dirname "$node_bin"):$PATH"
node -e 'const [maj] = process.versions.node.split(".").map(Number); if (maj < 20) { console.error(`Node ${process.version} is too old (20+)`); process.exit(1); } console.log(`node ${process.version} at ${process.execPath}`)' || fail "Node.js version"

step "dependencies"
if [ -f node_modules/koffi/package.json ] && [ -f node_modules/tsx/package.json ] && [ -f node_modules/vitest/package.json ]; then
  echo "using ./node_modules"
elif [ -f "$carry/node_modules.tar.xz" ]; then
  tar -xJf "$carry/node_modules.tar.xz" -C "$root" || fail "unpacking $carry/node_modules.tar.xz"
  echo "unpacked $carry/node_modules.tar.xz ($(du -sh node_modules | cut -f1))"
else
  fail "no node_modules: run npm ci, or carry .gpu-carry/node_modules.tar.xz (node scripts/gpu-pack.mjs where npm works)"
fi

step "model"
for m in "${PERMLLM_MODEL_DIR:-}" "$root/../shared/models/stories260K" "$root/shared/models/stories260K" "$carry/models/stories260K"; do
  if [ -n "$m" ] && [ -d "$m" ]; then export PERMLLM_MODEL_DIR="$(cd "$m" && pwd)"; break; fi
done
[ -n "${PERMLLM_MODEL_DIR:-}" ] && [ -d "$PERMLLM_MODEL_DIR" ] || fail "stories260K not found (set PERMLLM_MODEL_DIR or carry .gpu-carry/models)"
export PERMLLM_MODEL="$PERMLLM_MODEL_DIR"
echo "model: $PERMLLM_MODEL_DIR"

step "kernel library (nvcc)"
bash scripts/build-cuda.sh || fail "nvcc build"

step "GPU tests"
dry="${GPU_CHECK_DRY_RUN:-0}"
if [ "$dry" = 1 ]; then echo "dry run: a missing GPU skips the GPU tests"; else export PERMLLM_REQUIRE_GPU=1; fi
node node_modules/vitest/vitest.mjs run --reporter=verbose tests/gpu/cuda-exactness.test.ts tests/gpu/cuda-without-gpu.test.ts tests/bench/gpu-bench-smoke.test.ts || fail "GPU tests"

step "GPU bench (Llama-3.1-8B shapes)"
# shellcheck disable=SC2086
if [ "$dry" = 1 ]; then device=auto; else device=cuda; fi
# shellcheck disable=SC2086
node bin/permllm.mjs bench gpu --device "$device" --parties --out "$out" ${GPU_BENCH_ARGS:-} || fail "GPU bench"

step "done"
if [ "$dry" = 1 ]; then echo "gpu-check: DRY RUN in $(($(date +%s) - t0)) s (no GPU asked for); report: $out/gpu-compute.md"; exit 0; fi
echo "gpu-check: PASS in $(($(date +%s) - t0)) s; report: $out/gpu-compute.md, log: $log"
