/**
 * A runnable gateway on the plaintext backend, for trying the API before the private system is
 * wired into `npm start`:
 *
 *   npx tsx gateway/http/serve-plaintext-gateway.ts [--model PATH] [--host 127.0.0.1] [--port 8080] [--api-key KEY]
 *
 * Runs until SIGINT/SIGTERM. The model defaults to $PERMLLM_MODEL, else ../shared/models/stories260K.
 */
import { parseArgs } from 'node:util';
import { defaultModelPath } from '../../model/load-model.js';
import { PlaintextBackend } from '../pipeline/plaintext-backend.js';
import { startGatewayServer } from './start-gateway-server.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'api-key': { type: 'string' },
  },
});

const backend = await PlaintextBackend.load(values.model ?? defaultModelPath());
const server = await startGatewayServer({
  backend,
  host: values.host,
  port: Number(values.port),
  ...(values['api-key'] === undefined ? {} : { apiKey: values['api-key'] }),
});
process.stderr.write(`permllm gateway (plaintext, model ${backend.modelInfo.id}) on ${server.baseURL}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
