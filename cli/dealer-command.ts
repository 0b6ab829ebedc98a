/**
 * `permllm dealer`: the helper's server (P2). See docs/deploy.md.
 *
 *   permllm dealer --engine-fingerprint FP [--port N] [--host H] [--state-dir DIR] [--tls-cert FILE --tls-key FILE]
 *
 * Prints "permllm dealer listening on URL" on stdout once it serves; logs go to stderr.
 */
import { keptStateLimits } from '../config/kept-state-flags.js';
import { selectComputeBackend } from '../compute/device-selection.js';
import { startDealerServer } from '../dealer/server/dealer-server.js';
import { tlsPairCheck, loggerFor } from '../config/common-schemas.js';
import { plainServerCheck } from '../config/trust-schemas.js';
import { dealerConfigSchema, dealerFlags } from '../config/dealer-config.js';
import { readCommandLine, usageText } from '../config/parse-flags.js';
import { lineLogger } from '../observability/logger.js';
import { exitSoon, stopSignal } from '../config/process-lifecycle.js';

const USAGE = usageText('dealer', 'The helper\'s server (P2): holds the weight masks and deals each session\'s correlated randomness.', dealerFlags);

export async function run(argv: string[]): Promise<number> {
  const read = readCommandLine('dealer', USAGE, argv, dealerFlags, dealerConfigSchema, [tlsPairCheck, plainServerCheck]);
  if ('exitCode' in read) return read.exitCode;
  const { config } = read;
  const stop = stopSignal();
  const logger = loggerFor('dealer', config);
  const log = lineLogger(logger);
  if (config.insecure) log('WARNING: --insecure: the pairing key may cross the network in clear');
  const compute = selectComputeBackend(config.device, { threads: config.threads, computeThreads: config['compute-threads'], log });
  const server = await startDealerServer({
    host: config.host,
    port: config.port,
    stateDir: config['state-dir'],
    linkCredential: config['link-credential'],
    operatorCredential: config['operator-credential'],
    engineFingerprint: config['engine-fingerprint'],
    trustOnFirstUse: config['trust-on-first-use'],
    maxPairingBytes: config['max-pairing-bytes'],
    idleSessionMs: config['idle-session-ms'],
    stateCache: keptStateLimits(config),
    tls: config['tls-cert'] && config['tls-key'] ? { cert: config['tls-cert'], key: config['tls-key'] } : undefined,
    maxSessions: config['max-sessions'],
    maxPairings: config['max-pairings'],
    rendezvousTimeoutMs: config['rendezvous-timeout-ms'],
    maxFrameBytes: config['max-frame-bytes'],
    heartbeatMs: config['heartbeat-ms'],
    deadPeerMs: config['dead-peer-ms'],
    backend: compute.backend,
    log,
  });
  process.stdout.write(`permllm dealer identity ${server.fingerprint}\n`);
  process.stdout.write(`permllm dealer listening on ${server.url}\n`);
  const why = await stop.stopped;
  log(`stopping (${why})`);
  await server.shutdown(config['shutdown-grace-ms']);
  exitSoon(0);
  return 0;
}
