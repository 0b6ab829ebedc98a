/**
 * Starts a gateway on 127.0.0.1 with an ephemeral port over a real socket, and gives the
 * official openai client for it. Every API test goes through here, so swapping the backend
 * (see test-backend.ts) re-targets the whole suite.
 */
import OpenAI from 'openai';
import type { GatewayServerOptions, GatewayServer } from '../../../gateway/http/start-gateway-server.js';
import { startGatewayServer } from '../../../gateway/http/start-gateway-server.js';
import type { GenerationBackend } from '../../../gateway/pipeline/generation-backend.js';
import { createTestBackend } from './test-backend.js';

export interface TestGateway {
  server: GatewayServer;
  backend: GenerationBackend;
  baseURL: string;
  url: string;
  /** The official client, no retries (tests assert first answers). */
  openai: OpenAI;
  close(): Promise<void>;
}

export async function startTestGateway(
  options: Partial<GatewayServerOptions> & { backend?: GenerationBackend } = {},
): Promise<TestGateway> {
  const backend = options.backend ?? (await createTestBackend());
  const server = await startGatewayServer({
    host: '127.0.0.1',
    port: 0,
    // Quiet by default: tests that provoke 5xx check the responses, not stderr.
    onServerError: () => undefined,
    ...options,
    backend,
  });
  const openai = new OpenAI({ apiKey: options.apiKey ?? 'unused', baseURL: server.baseURL, maxRetries: 0 });
  return { server, backend, baseURL: server.baseURL, url: server.url, openai, close: () => server.close() };
}
