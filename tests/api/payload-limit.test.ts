/** A 413 closes the connection: the unread rest of the body must not be taken for the next request. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ maxBodyBytes: 1024 });
});
afterAll(() => gw.close());

function request(agent: http.Agent, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; socketClosed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${gw.baseURL}/completions`);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
      const socketClosed = new Promise<void>((done) => response.socket.once('close', () => done()));
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, socketClosed }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('413', () => {
  it('answers with Connection: close and closes the socket; a new request then succeeds', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = JSON.stringify({ model: MODEL_ID, prompt: 'x'.repeat(64 * 1024), max_tokens: 1 });
      const refused = await request(agent, big);
      expect(refused.status).toBe(413);
      expect(refused.headers['connection']).toBe('close');
      await refused.socketClosed;
      const ok = await request(agent, JSON.stringify({ model: MODEL_ID, prompt: 'Once', max_tokens: 1 }));
      expect(ok.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
