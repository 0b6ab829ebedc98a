/**
 * Hostile and broken peers against the real engine and dealer processes: garbage, truncated,
 * out-of-order, replayed, mislabelled and oversized frames, and replayed session ids. Each ends
 * that session only (a close code and reason to the offender, a log line at the server); the
 * processes keep serving, and a normal private session through the real gateway still works.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { dealerSessionUrl, engineSessionUrl } from '../../protocol/transport/session-endpoints.js';
import { complete } from '../helpers/openai-requests.js';
import { killAllRoles, startThreeParties, waitFor, type ThreeParties } from '../helpers/processes.js';
import { helloFrame, rawPeer, truncatedFrame } from '../helpers/raw-peer.js';
import { gatewayTrustOptions } from '../helpers/trust-options.js';

let parties: ThreeParties;
let pairingId: string;
let reference: string;
const sid = () => randomBytes(16).toString('hex');

beforeAll(async () => {
  parties = await startThreeParties();
  await parties.waitUntilReady();
  const card = (await (await fetch(`${parties.engine.url}/v1/model-card`, { headers: { authorization: `Bearer ${parties.token}` } })).json()) as { pairing: { id: string } };
  pairingId = card.pairing.id;
  reference = (await complete(parties.baseURL, { prompt: 'Once upon a time', max_tokens: 6 })).text;
});

afterAll(async () => {
  await parties?.stop();
  await killAllRoles();
});

/** Sends `frames` on a fresh engine session and returns how the engine closed it. */
async function engineSession(frames: Uint8Array[], sessionId = sid()) {
  const peer = await rawPeer(engineSessionUrl(parties.engine.url, sessionId, pairingId), parties.token);
  for (const f of frames) peer.send(f);
  return peer.closed;
}

async function expectStillServing() {
  expect(parties.engine.running && parties.dealer.running).toBe(true);
  expect((await complete(parties.baseURL, { prompt: 'Once upon a time', max_tokens: 6 })).text).toBe(reference);
}

describe('hostile peers at the engine', () => {
  it('garbage bytes end that session with ProtocolViolation and a log line', async () => {
    const closed = await engineSession([randomBytes(200)]);
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toContain('malformed frame');
    await waitFor('the engine log line', async () => (/ended \(protocol_violation\): protocol violation by gateway: malformed frame/.test(parties.engine.stderr()) ? true : undefined));
  });

  it('a peer speaking the old wire format (frame version 1) is refused cleanly, naming both versions', async () => {
    const id = sid();
    const old = helloFrame(id);
    old[2] = 1; // version byte (protocol/wire/frame.ts)
    const closed = await engineSession([old], id);
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toContain('unsupported version 1 (this build speaks 2)');
  });

  it('a truncated frame (a part longer than the frame) is refused', async () => {
    const closed = await engineSession([truncatedFrame()]);
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toContain('runs past the end');
  });

  it('an out-of-order frame (sequence number ahead) is refused', async () => {
    const id = sid();
    const closed = await engineSession([helloFrame(id, 1)], id);
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toContain('expected 0');
  });

  it('a Hello for another session than the connection\'s is refused', async () => {
    const closed = await engineSession([helloFrame(sid())]);
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toContain('Hello for session');
  });

  it('a replayed session id is refused before any session starts (409)', async () => {
    const id = sid();
    await engineSession([randomBytes(32)], id);
    const refused = await rawPeer(engineSessionUrl(parties.engine.url, id, pairingId), parties.token).catch((e: { status?: number }) => e);
    expect((refused as { status?: number }).status).toBe(409);
  });

  it('a stale pairing id is refused before any session starts (409)', async () => {
    const refused = await rawPeer(engineSessionUrl(parties.engine.url, sid(), 'f'.repeat(32)), parties.token).catch((e: { status?: number }) => e);
    expect((refused as { status?: number }).status).toBe(409);
  });

  it('a frame replayed mid-session by the gateway ends that session; the gateway reports it', async () => {
    // The real gateway code in this process, with one frame to the engine sent twice.
    const backend = await RemoteBackend.connect({
      engineUrl: parties.engine.url,
      dealerUrl: parties.dealer.url,
      cacheDir: parties.cacheDir,
      ...gatewayTrustOptions(parties.trust),
      log: () => undefined,
      interceptLink: (peer, link) => (peer === 'engine' ? replayNthSend(link, 3) : link),
    });
    try {
      const events = backend.generate({
        promptTokens: backend.modelInfo.tokenizer.encode('Once upon a time', { addBos: true }),
        maxTokens: 4,
        sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 },
        adjustments: {},
        signal: new AbortController().signal,
      });
      const error = await (async () => {
        for await (const _ of events) {
          // tokens before the replay, if any
        }
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/replayed or out of order/);
    } finally {
      await backend.close();
    }
    await expectStillServing();
  });
});

describe('hostile peers at the dealer', () => {
  const dealerPair = async (id: string) => {
    const gateway = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'gateway'), undefined);
    const engine = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'engine'), parties.trust.linkCredential);
    return { gateway, engine };
  };

  it('garbage from the gateway side ends the session: ProtocolViolation to it, PeerEnded to the engine side', async () => {
    const id = sid();
    const { gateway, engine } = await dealerPair(id);
    gateway.send(randomBytes(100));
    expect((await gateway.closed).code).toBe(CloseCode.ProtocolViolation);
    expect((await engine.closed).code).toBe(CloseCode.PeerEnded);
    await waitFor('the dealer log line', async () => (/ended \(protocol_violation\): protocol violation by gateway/.test(parties.dealer.stderr()) ? true : undefined));
  });

  it('an out-of-order frame from the engine side is refused', async () => {
    const id = sid();
    const { gateway, engine } = await dealerPair(id);
    gateway.send(helloFrame(id, 0, true));
    engine.send(helloFrame(id, 3, true));
    const closed = await engine.closed;
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toContain('expected 0');
    expect((await gateway.closed).code).toBe(CloseCode.PeerEnded);
  });

  it('an oversized message is cut off by the message size limit', async () => {
    const id = sid();
    const gateway = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'gateway'), undefined);
    gateway.send(new Uint8Array(2 << 20));
    expect((await gateway.closed).code).toBe(CloseCode.MessageTooBig);
    await waitFor('the dealer log line', async () => (/before it started: the gateway left/.test(parties.dealer.stderr()) ? true : undefined));
  });

  it('a replayed session id is refused (409)', async () => {
    const id = sid();
    const { gateway, engine } = await dealerPair(id);
    gateway.ws.close();
    engine.ws.close();
    await Promise.all([gateway.closed, engine.closed]);
    const refused = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'gateway'), undefined).catch((e: { status?: number }) => e);
    expect((refused as { status?: number }).status).toBe(409);
  });

  it('keeps serving normal sessions afterwards, and counted every violation', async () => {
    await expectStillServing();
    const metrics = async (url: string, operator: string) => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${operator}` } })).text();
    expect(await metrics(parties.engine.url, parties.trust.operator.engine)).toMatch(/permllm_engine_errors_total\{kind="protocol_violation"\} ([5-9]|\d\d)/);
    expect(await metrics(parties.dealer.url, parties.trust.operator.dealer)).toMatch(/permllm_dealer_errors_total\{kind="protocol_violation"\} [2-9]/);
  });
});

/** Wraps a link so that its `n`th frame is sent twice (a replay). */
function replayNthSend(link: MessageLink, n: number): MessageLink {
  let count = 0;
  return {
    async send(frame) {
      count++;
      await link.send(frame);
      if (count === n) await link.send(frame);
    },
    receive: (signal) => link.receive(signal),
    close: (reason) => link.close(reason),
    get isClosed() {
      return link.isClosed;
    },
  };
}
