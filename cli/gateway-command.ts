/**
 * `permllm gateway`: the user's OpenAI-compatible gateway (P1), talking to a remote engine and
 * dealer. See docs/deploy.md.
 *
 *   permllm gateway --engine URL --dealer URL --engine-fingerprint FP --dealer-fingerprint FP
 *                   [$PERMLLM_CREDENTIAL] [--port N] [--host H] [--api-key K] [--ca FILE] [--cache-dir DIR]
 *
 * On first contact it downloads the engine's model card and masked model (progress on stderr),
 * checks the digest and caches both, so a restart does not download again. Prints
 * "permllm gateway bound to URL; ..." on stdout as soon as the port is bound (before the engine
 * is reached: /healthz answers, /readyz says what it waits for), then "permllm gateway
 * listening on URL" once the engine's model card is in and it serves; /readyz says why it is not ready
 * yet (the masked model still downloading, engine or dealer unreachable).
 */
import { selectComputeBackend } from '../compute/device-selection.js';
import { listenForGateway } from '../gateway/http/start-gateway-server.js';
import { RemoteBackend } from '../gateway/remote/remote-backend.js';
import { gatewayConfigSchema, gatewayFlags } from '../config/gateway-config.js';
import { loggerFor } from '../config/common-schemas.js';
import { readCommandLine, usageText } from '../config/parse-flags.js';
import { plainLinkCheck } from '../config/trust-schemas.js';
import { knownPeersFile } from '../crypto/known-peers.js';
import { lineLogger } from '../observability/logger.js';
import { exitSoon, stopSignal } from '../config/process-lifecycle.js';

const USAGE = usageText('gateway', 'The user\'s OpenAI-compatible gateway (P1): private inference against a remote engine and dealer.', gatewayFlags);

export async function run(argv: string[]): Promise<number> {
  const read = readCommandLine('gateway', USAGE, argv, gatewayFlags, gatewayConfigSchema, [plainLinkCheck(['engine', 'dealer'])]);
  if ('exitCode' in read) return read.exitCode;
  const { config } = read;
  const stop = stopSignal();
  const logger = loggerFor('gateway', config);
  const lines = lineLogger(logger);
  // Listen at once: while the engine is unreachable (and nothing is cached) /healthz answers and
  // /readyz says what the gateway is waiting for.
  let waiting = `connecting to the engine at ${config.engine}`;
  const log = (line: string) => {
    if (/^waiting for the engine|^the engine is unreachable/.test(line)) waiting = line;
    lines(line);
  };
  const compute = selectComputeBackend(config.device, { threads: config.threads, computeThreads: config['compute-threads'], log });
  const pending = await listenForGateway({ host: config.host, port: config.port, waiting: () => waiting });
  process.stdout.write(`permllm gateway bound to ${pending.url}; connecting to the engine (/healthz answers, /readyz says what it waits for)\n`);
  let backend: RemoteBackend;
  try {
    backend = await RemoteBackend.connect({
      engineUrl: config.engine,
      dealerUrl: config.dealer,
      cacheDir: config['cache-dir'],
      credential: config.credential,
      pins: {
        engine: { pinned: config['engine-fingerprint'], trustOnFirstUse: config['trust-on-first-use'], storeFile: knownPeersFile(config['state-dir']) },
        dealer: { pinned: config['dealer-fingerprint'], trustOnFirstUse: config['trust-on-first-use'], storeFile: knownPeersFile(config['state-dir']) },
      },
      minProfile: config['min-profile'],
      ca: config.ca,
      probeIntervalMs: config['probe-interval-ms'],
      heartbeatMs: config['heartbeat-ms'],
      deadPeerMs: config['dead-peer-ms'],
      lengthBucket: config['length-bucket'],
      conversationReuse: config['conversation-reuse'],
      memoryLimitBytes: config['memory-limit'],
      backend: compute.backend,
      log,
      signal: stop.signal,
      // Serve at once: /readyz says "downloading the masked model (n%)" until it is here.
      waitForMaskedModel: false,
    });
  } catch (error) {
    await pending.close();
    throw error;
  }
  const server = await pending.serve({
    backend,
    maxConcurrent: config['max-concurrent'],
    modelAliases: config['model-aliases'],
    maxQueue: config['max-queue'],
    queueTimeoutMs: config['queue-timeout-ms'],
    retryAfterSeconds: config['retry-after-seconds'],
    maxBodyBytes: config['max-body-bytes'],
    maxN: config['max-n'],
    maxPrompts: config['max-prompts'],
    firstTokenTimeoutMs: config['first-token-timeout-ms'],
    idleTimeoutMs: config['idle-timeout-ms'],
    keepAliveMs: config['keep-alive-ms'],
    ...(config['cors-origins'] === undefined ? {} : { corsOrigins: [...config['cors-origins']] }),
    ...(config['allowed-hosts'] === undefined ? {} : { allowedHosts: [...config['allowed-hosts']] }),
    ...(config['api-key'] === undefined ? {} : { apiKey: config['api-key'] }),
    logger,
  });
  process.stdout.write(`permllm gateway listening on ${server.url} (OpenAI base URL ${server.baseURL}, model ${backend.modelInfo.id})\n`);
  const ready = backend.readiness();
  if (ready.protection) log(`protection: the engine runs mask profile ${ready.protection.maskProfile}; this gateway accepts ${ready.protection.minProfile} or stronger (--min-profile)`);
  if (!ready.ready) log(`not ready yet: ${ready.reason}`);
  const why = await stop.stopped;
  log(`stopping (${why})`);
  await server.shutdown(config['shutdown-grace-ms']);
  await backend.close();
  exitSoon(0);
  return 0;
}
