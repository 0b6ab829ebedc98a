#!/bin/sh
# The one-shot setup of deploy/compose.yaml (its `init` service, run as root in the permllm
# image before the three roles start; it does nothing that is already done, so every
# `docker compose up` may run it). The same steps as docs/deploy.md's "three-owner deployment",
# each in the volume of the party that owns it:
#   1. the dealer's and the engine's identities (permllm identity) -> their fingerprints
#   2. a self-signed TLS certificate for each server (tls-cert.mjs: node:crypto, no openssl),
#      naming its service name and localhost (the container's own HEALTHCHECK)
#   3. the link credential: the dealer operator's secret, copied to the engine operator
#   4. the gateway's user credential, issued by the engine operator (permllm credentials issue)
# Public material (fingerprints, certificates) goes to the `exchange` volume, which the roles
# mount read-only; secrets stay in the owner's state volume. All three volumes on one host is a
# demo: whoever runs this host could read every party's state.
set -eu
permllm() { node /app/bin/permllm.mjs "$@"; }
X=/exchange
D=/state/dealer/dealer
E=/state/engine/engine
G=/state/gateway/gateway
mkdir -p "$D/tls" "$E/tls" "$G" "$X"

permllm identity --state-dir "$D" > "$X/dealer-fingerprint"
permllm identity --state-dir "$E" > "$X/engine-fingerprint"

for role in dealer engine; do
  tls="/state/$role/$role/tls"
  if [ ! -s "$tls/tls.pem" ] || [ ! -s "$tls/tls.key" ]; then
    node /deploy/tls-cert.mjs --cn "$role" --san "DNS:$role,DNS:localhost,IP:127.0.0.1" --days 365 \
      --cert "$tls/tls.pem" --key "$tls/tls.key"
    echo "init: created a self-signed TLS certificate for $role" >&2
  fi
  cp "$tls/tls.pem" "$X/$role.pem"
done
cat "$X/dealer.pem" "$X/engine.pem" > "$X/ca.pem"

if [ ! -s "$D/link-credential" ]; then
  (umask 077 && node -e 'process.stdout.write(`permllm-link-${require("node:crypto").randomBytes(32).toString("base64url")}\n`)' > "$D/link-credential")
  echo "init: created the dealer's link credential" >&2
fi
(umask 077 && cp "$D/link-credential" "$E/dealer-credential")

if [ ! -s "$G/credential" ]; then
  (umask 077 && permllm credentials issue --name compose-gateway --max-sessions 4 --state-dir "$E" > "$G/credential.tmp")
  mv "$G/credential.tmp" "$G/credential"
fi

chown -R node:node /state/dealer /state/engine /state/gateway
chmod 755 "$X" && chmod 644 "$X"/*
echo "init: dealer $(cat "$X/dealer-fingerprint"), engine $(cat "$X/engine-fingerprint"); credentials in place" >&2
