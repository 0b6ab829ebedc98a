/**
 * The networked private system as a GenerationBackend, for suites written against that
 * interface (the gateway API conformance suite: PERMLLM_API_TEST_BACKEND=tests/helpers/networked-backend.ts).
 * A real dealer and a real engine run as child processes (stories260K); the gateway side is
 * the RemoteBackend in the test process, talking to them over real sockets. One system per
 * test worker; the processes exit with the worker (IPC channel).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GenerationBackend } from '../../gateway/pipeline/generation-backend.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir, startRole, waitForReadiness } from './processes.js';
import { gatewayTrustOptions } from './trust-options.js';

const shared = new Map<string, Promise<RemoteBackend>>();

async function start(modelDir: string): Promise<RemoteBackend> {
  const dir = await mkdtemp(path.join(tmpdir(), 'permllm-networked-'));
  const trust = await prepareLocalTrust(path.join(dir, 'state'));
  const dealer = await startRole('dealer', ['--port', '0'], { env: trust.env.dealer });
  const engine = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', modelDir, '--probe-interval-ms', '300'], { env: trust.env.engine });
  await waitForReadiness(engine.url, true, trust.userCredential);
  return RemoteBackend.connect({
    engineUrl: engine.url,
    dealerUrl: dealer.url,
    cacheDir: path.join(dir, 'cache'),
    ...gatewayTrustOptions(trust),
    probeIntervalMs: 500,
    log: () => undefined,
    progress: () => ({ update: () => undefined, finish: () => undefined }),
  });
}

export function createBackend(): Promise<GenerationBackend> {
  return createNetworkedBackend(defaultModelDir);
}

/** The networked private system serving the model in `modelDir` (one per model per test worker). */
export function createNetworkedBackend(modelDir: string): Promise<RemoteBackend> {
  let backend = shared.get(modelDir);
  if (!backend) {
    backend = start(modelDir);
    shared.set(modelDir, backend);
  }
  return backend;
}
