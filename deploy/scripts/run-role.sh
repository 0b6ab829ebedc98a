#!/bin/sh
# Entry point of deploy/compose.yaml's three roles: `run-role.sh ROLE FLAGS...`. Reads the
# pinned fingerprints (public, from the `exchange` volume init.sh filled) and the role's own
# secret (from its state volume) into the environment variables permllm reads, so that no
# secret is on a command line or in `docker inspect`, then becomes `permllm ROLE FLAGS...`
# (exec: node is PID 1 and gets docker stop's SIGTERM, which drains).
set -eu
role=$1
X=/exchange
case "$role" in
  dealer)
    PERMLLM_ENGINE_FINGERPRINT=$(cat "$X/engine-fingerprint")
    export PERMLLM_ENGINE_FINGERPRINT ;;
  engine)
    PERMLLM_DEALER_FINGERPRINT=$(cat "$X/dealer-fingerprint")
    PERMLLM_DEALER_CREDENTIAL=$(cat /var/lib/permllm/engine/dealer-credential)
    export PERMLLM_DEALER_FINGERPRINT PERMLLM_DEALER_CREDENTIAL ;;
  gateway)
    PERMLLM_ENGINE_FINGERPRINT=$(cat "$X/engine-fingerprint")
    PERMLLM_DEALER_FINGERPRINT=$(cat "$X/dealer-fingerprint")
    PERMLLM_CREDENTIAL=$(cat /var/lib/permllm/gateway/credential)
    export PERMLLM_ENGINE_FINGERPRINT PERMLLM_DEALER_FINGERPRINT PERMLLM_CREDENTIAL ;;
  *)
    echo "run-role.sh: expected dealer, engine or gateway, got $role" >&2
    exit 2 ;;
esac
exec node /app/bin/permllm.mjs "$@"
