#!/usr/bin/env bash
# The Docker deployment, run for real (not part of `npm test`: CI has no Docker daemon):
# builds the image, starts deploy/compose.yaml (init, then dealer, engine, gateway over TLS with
# pinned identities and credentials, each gated on the one before it being healthy), waits for
# the gateway's /readyz, asks one greedy completion of stories260K through curl, checks it
# against the model's known output, and takes everything down again (volumes included).
#
#   scripts/docker-check.sh
# Environment:
#   BUILD_CA_CERTS_FILE   behind a TLS-intercepting proxy: its CA certificate(s), for npm in the build
#   PERMLLM_MODELS_DIR    folder holding stories260K/ (default ../shared/models beside the repository)
#   PERMLLM_GATEWAY_PORT  host port for the gateway (default: a free one)
#   KEEP=1                leave the deployment running (take it down with the printed command)
set -euo pipefail
cd "$(dirname "$0")/.."

project=permllm-check
if docker compose version > /dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
compose() { "${compose[@]}" -p "$project" -f deploy/compose.yaml "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

export PERMLLM_MODELS_DIR=${PERMLLM_MODELS_DIR:-$(cd .. && pwd)/shared/models}
[ -f "$PERMLLM_MODELS_DIR/stories260K/stories260K.bin" ] || { echo "docker-check: no stories260K in $PERMLLM_MODELS_DIR" >&2; exit 1; }
export PERMLLM_GATEWAY_PORT=${PERMLLM_GATEWAY_PORT:-$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')}
build_args=()
if [ -n "${BUILD_CA_CERTS_FILE:-}" ]; then build_args=(--build-arg "BUILD_CA_CERTS=$(cat "$BUILD_CA_CERTS_FILE")"); fi

echo "docker-check: docker $(docker version --format '{{.Server.Version}}'), $("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -1)"
t=$(now)
docker build -q -t permllm "${build_args[@]}" . > /dev/null
echo "docker-check: built permllm in $(since "$t"): $(docker image inspect permllm --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"

if [ "${KEEP:-}" != 1 ]; then trap 'compose down -v --remove-orphans > /dev/null 2>&1 || true' EXIT; fi
t=$(now)
compose up -d --no-build 2>&1 | grep -v -E '^\s*$' | sed 's/^/  /'
echo "docker-check: compose up (init done, dealer and engine healthy, gateway started) in $(since "$t")"

base="http://127.0.0.1:$PERMLLM_GATEWAY_PORT"
ready=
for _ in $(seq 1 150); do
  ready=$(curl -s "$base/readyz" || true)
  case "$ready" in *'"ready":true'*) break ;; esac
  sleep 2
done
echo "docker-check: /readyz after $(since "$t"): $ready"
case "$ready" in *'"ready":true'*) ;; *) compose logs --tail 30 >&2; echo "docker-check: FAILED: the gateway never became ready" >&2; exit 1 ;; esac

t=$(now)
answer=$(curl -s "$base/v1/completions" -H 'content-type: application/json' \
  -d '{"model":"stories260K","prompt":"Once upon a time","max_tokens":8,"temperature":0}')
text=$(printf '%s' "$answer" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { try { process.stdout.write(JSON.parse(s).choices[0].text); } catch { process.stdout.write(`(no completion: ${s})`); } })')
echo "docker-check: completion in $(since "$t"): $(printf '%s' "$text" | node -e 'process.stdin.on("data", (d) => process.stdout.write(JSON.stringify(String(d))))')"

# Each role's own HEALTHCHECK (the image's `permllm healthcheck`), given a minute to turn healthy.
health=()
for _ in $(seq 1 30); do
  health=()
  for role in dealer engine gateway; do health+=("$role=$(docker inspect --format '{{.State.Health.Status}}' "$(compose ps -q "$role")")"); done
  case "${health[*]}" in *starting*|*unhealthy*) sleep 2 ;; *) break ;; esac
done
echo "docker-check: health ${health[*]}"

status=0
# stories260K's greedy continuation of "Once upon a time" (../shared/models/README.md)
if [ "$text" = ", there was a little girl" ]; then echo "docker-check: completion matches the model's known greedy output"; else echo "docker-check: FAILED: expected \", there was a little girl\"" >&2; status=1; fi
for h in "${health[@]}"; do case "$h" in *=healthy) ;; *) echo "docker-check: FAILED: $h" >&2; status=1 ;; esac; done

if [ "${KEEP:-}" = 1 ]; then
  echo "docker-check: left running on $base; take it down with: ${compose[*]} -p $project -f deploy/compose.yaml down -v"
else
  t=$(now)
  compose down -v --remove-orphans > /dev/null 2>&1
  trap - EXIT
  echo "docker-check: compose down -v in $(since "$t")"
fi
[ "$status" = 0 ] && echo "docker-check: OK" || echo "docker-check: FAILED" >&2
exit "$status"
