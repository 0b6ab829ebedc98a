# One image for every role (docs/deploy.md "Docker"; deploy/compose.yaml runs all three):
#   docker run IMAGE engine  --host 0.0.0.0 --model /models/stories260K --dealer https://dealer:8082 --tls-cert ... --tls-key ... --ca ...
#   docker run IMAGE dealer  --host 0.0.0.0 --tls-cert ... --tls-key ...
#   docker run IMAGE gateway --host 0.0.0.0 --engine https://engine:8081 --dealer https://dealer:8082 --ca ...
#   docker run IMAGE start   (all three in one container: a demo, it protects nothing)
# Models are not in the image: mount them (-v /path/to/models:/models:ro).
# HEALTHCHECK probes http://127.0.0.1:$PORT/healthz (PORT 8080 by default): engine and dealer
# containers set PERMLLM_HEALTHCHECK_URL to their own port (and PERMLLM_CA_FILE for https).
# No "# syntax=" line: nothing here needs more than the Dockerfile frontend built into
# BuildKit and the classic builder, so building needs no frontend image from a registry.

FROM node:20-slim AS deps
# Behind a TLS-intercepting proxy only: the proxy's CA certificate(s), PEM text, for npm in this
# build stage (docker build --build-arg BUILD_CA_CERTS="$(cat proxy-ca.pem)" .). Empty by default;
# it is used by this stage's npm only and never reaches the final image (a later FROM).
ARG BUILD_CA_CERTS=""
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Runtime dependencies only (tsx runs the TypeScript sources; onnxruntime's optional GPU
# download is skipped by .npmrc). Then drop what this platform never loads: onnxruntime's
# binaries for other systems and architectures (by the build platform's own `uname -m`, which
# the classic builder and BuildKit both give), and source maps (about 300 MB).
RUN if [ -n "$BUILD_CA_CERTS" ]; then printf '%s\n' "$BUILD_CA_CERTS" > /tmp/build-ca.pem; fi \
 && NODE_EXTRA_CA_CERTS="${BUILD_CA_CERTS:+/tmp/build-ca.pem}" npm ci --omit=dev --no-audit --no-fund \
 && rm -f /tmp/build-ca.pem \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
 && case "$(uname -m)" in \
      aarch64|arm64) rm -rf node_modules/onnxruntime-node/bin/napi-v*/linux/x64 ;; \
      *) rm -rf node_modules/onnxruntime-node/bin/napi-v*/linux/arm64 ;; \
    esac \
 && find node_modules -name '*.map' -delete \
 && npm cache clean --force

FROM node:20-slim
# The roles run on jemalloc (config/allocator.ts says why, docs/deploy.md "Memory" shows it):
# under glibc's malloc RSS ratchets up to the highest load seen, since glibc keeps freed pages
# resident; jemalloc gives them back from a background thread after 1 s. LD_PRELOAD names the
# library without a path, so the dynamic loader finds it on any architecture. The glibc settings
# stay for any process started without the preload (at most two arenas; buffers of 128 KiB and
# more in their own mappings, unmapped when freed).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    XDG_STATE_HOME=/var/lib \
    PERMLLM_CACHE_DIR=/var/cache/permllm \
    LD_PRELOAD=libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json .npmrc ./
COPY bin ./bin
COPY cli ./cli
COPY config ./config
COPY model ./model
COPY compute ./compute
COPY crypto ./crypto
COPY plaintext ./plaintext
COPY sampling ./sampling
COPY observability ./observability
COPY protocol ./protocol
COPY engine ./engine
COPY dealer ./dealer
COPY gateway ./gateway
COPY in-process ./in-process
COPY sdk ./sdk
RUN mkdir -p /var/lib/permllm /var/cache/permllm && chown -R node:node /var/lib/permllm /var/cache/permllm
USER node
# gateway 8080, engine 8081, dealer 8082 (the roles' default ports)
EXPOSE 8080 8081 8082
VOLUME ["/var/lib/permllm", "/var/cache/permllm"]
HEALTHCHECK --interval=15s --timeout=10s --start-period=120s --retries=3 CMD ["node", "bin/permllm.mjs", "healthcheck"]
# SIGTERM (docker stop) drains: in-flight requests get --shutdown-grace-ms (10 s) to finish,
# so give docker stop a longer timeout than that (docker stop -t 20).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/permllm.mjs"]
CMD ["--help"]
