/**
 * `permllm engine`: the model owner's server (P0). See docs/deploy.md.
 *
 *   permllm engine --model PATH --dealer URL --dealer-fingerprint FP [--port N] [--host H]
 *                  [$PERMLLM_DEALER_CREDENTIAL] [--tls-cert FILE --tls-key FILE] [--ca FILE] [--state-dir DIR]
 *
 * Prints "permllm engine listening on URL" on stdout once it serves; logs go to stderr.
 */
import { keptStateLimits } from '../config/kept-state-flags.js';
import { selectComputeBackend } from '../compute/device-selection.js';
import { defaultModelPath, loadModel } from '../model/load-model.js';
import { startEngineServer } from '../engine/server/engine-server.js';
import { MASK_PROFILES } from '../protocol/masks/mask-profile.js';
import { tlsPairCheck, loggerFor } from '../config/common-schemas.js';
import { plainLinkCheck, plainServerCheck } from '../config/trust-schemas.js';
import { engineConfigSchema, engineFlags } from '../config/engine-config.js';
import { readCommandLine, usageText } from '../config/parse-flags.js';
import { lineLogger } from '../observability/logger.js';
import { exitSoon, stopSignal } from '../config/process-lifecycle.js';

const USAGE = usageText('engine', 'The model owner\'s server (P0): model card, masked model, and the private sessions.', engineFlags);

export async function run(argv: string[]): Promise<number> {
  const read = readCommandLine('engine', USAGE, argv, engineFlags, engineConfigSchema, [tlsPairCheck, plainServerCheck, plainLinkCheck(['dealer'])]);
  if ('exitCode' in read) return read.exitCode;
  const { config } = read;
  const stop = stopSignal();
  const logger = loggerFor('engine', config);
  const log = lineLogger(logger);
  if (config.insecure) log('WARNING: --insecure: plain-text links to or from other machines are allowed');
  if (config['dealer-credential'] === undefined) log('no dealer link credential given ($PERMLLM_DEALER_CREDENTIAL): the dealer will refuse the pairing');
  const compute = selectComputeBackend(config.device, { threads: config.threads, computeThreads: config['compute-threads'], log });
  const modelPath = config.model ?? defaultModelPath();
  log(`loading ${modelPath}`);
  const loadStarted = performance.now();
  const model = await loadModel(modelPath);
  log(`loaded ${modelPath} in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
  const server = await startEngineServer({
    model,
    profile: MASK_PROFILES[config.profile]!,
    dealerUrl: config.dealer,
    dealerName: config['dealer-name'],
    host: config.host,
    port: config.port,
    stateDir: config['state-dir'],
    dealerCredential: config['dealer-credential'],
    dealerFingerprint: config['dealer-fingerprint'],
    trustOnFirstUse: config['trust-on-first-use'],
    operatorCredential: config['operator-credential'],
    idleSessionMs: config['idle-session-ms'],
    stateCache: keptStateLimits(config),
    tls: config['tls-cert'] && config['tls-key'] ? { cert: config['tls-cert'], key: config['tls-key'] } : undefined,
    ca: config.ca,
    maxSessions: config['max-sessions'],
    heartbeatMs: config['heartbeat-ms'],
    deadPeerMs: config['dead-peer-ms'],
    probeIntervalMs: config['probe-interval-ms'],
    attentionModes: config['attention-modes'],
    memoryLimitBytes: config['memory-limit'],
    backend: compute.backend,
    log,
  });
  const ready = server.readiness();
  process.stdout.write(`permllm engine identity ${server.fingerprint}\n`);
  process.stdout.write(`permllm engine listening on ${server.url} (model ${server.card.id}, pairing ${server.card.pairing.id.slice(0, 8)}…)\n`);
  if (!ready.ready) log(`not ready yet: ${ready.reason}`);
  const why = await stop.stopped;
  log(`stopping (${why})`);
  await server.shutdown(config['shutdown-grace-ms']);
  exitSoon(0);
  return 0;
}
