/**
 * Issue 10's attacks, tried with real processes and only what a deployment hands out: each is
 * refused, and an honest session still completes afterwards (same greedy text as before).
 *
 * One honest system (dealer, engine, gateway as `npm start` sets them up) serves every test;
 * a second engine–dealer pair (its own identities, the engine on the benchmark profile) plays the
 * swapped parties and the weak engine. The engine's own identity key is read from its state
 * folder where a test needs a correctly signed message (to show that exactly the signature, or
 * exactly the shape check, is what refuses).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLocalTrust, type LocalTrust } from '../../cli/local-trust.js';
import { SigningIdentity } from '../../crypto/identity.js';
import { KeyExchange, SharedKey } from '../../crypto/key-agreement.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { encodeSessionParams } from '../../protocol/session/session-params.js';
import { digestOf, sessionStatement } from '../../protocol/session/session-statement.js';
import { PAIRING_IDENTITY_HEADER, PAIRING_SIGNATURE_HEADER, pairingIdOf, pairingStatement } from '../../protocol/transport/pairing-request.js';
import { dealerSessionUrl, engineSessionUrl } from '../../protocol/transport/session-endpoints.js';
import { decodeFrame, encodeFrame, MessageKind } from '../../protocol/wire/frame.js';
import { complete } from '../helpers/openai-requests.js';
import { binPath, defaultModelDir, killAllRoles, repoRoot, startRole, startThreeParties, waitFor, waitForReadiness, type RoleProcess, type ThreeParties } from '../helpers/processes.js';
import { rawPeer, sessionParams } from '../helpers/raw-peer.js';
import { gatewayTrustOptions } from '../helpers/trust-options.js';

let parties: ThreeParties;
let pairingId: string;
let reference: string;
let card: { config: Record<string, unknown>; weights: Record<string, unknown>[]; modelHash: string; maskProfile: string; fixedPoint?: { plan: unknown; weights: unknown[] } };
let engineKey: SigningIdentity;
let dir: string;
const sid = () => randomBytes(16).toString('hex');
const PROMPT = { prompt: 'Once upon a time', max_tokens: 6 };

const status = async (url: string, credential?: string, init: RequestInit = {}) =>
  (await fetch(url, { ...init, headers: { ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }), ...(init.headers as Record<string, string> | undefined) } })).status;

const refusedStatus = async (url: string, credential: string | undefined) => ((await rawPeer(url, credential).catch((e: unknown) => e)) as { status?: number }).status;

async function expectHonestSession() {
  expect(parties.engine.running && parties.dealer.running && parties.gateway.running).toBe(true);
  expect((await complete(parties.baseURL, PROMPT)).text).toBe(reference);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-trust-'));
  parties = await startThreeParties({ args: { engine: ['--idle-session-ms', '3000', '--max-sessions', '16'], dealer: ['--idle-session-ms', '6000'] } });
  await parties.waitUntilReady();
  card = (await (await fetch(`${parties.engine.url}/v1/model-card`, { headers: { authorization: `Bearer ${parties.token}` } })).json()) as typeof card & { pairing: { id: string } };
  pairingId = (card as unknown as { pairing: { id: string } }).pairing.id;
  reference = (await complete(parties.baseURL, PROMPT)).text;
  engineKey = (await SigningIdentity.loadOrCreate(parties.trust.dirs.engine)).identity;
});

afterAll(async () => {
  await parties?.stop();
  await killAllRoles();
  await rm(dir, { recursive: true, force: true });
});

/** The engine side of a dealer session, as raw peers: the gateway's Hello first, then `engineParts` from "the engine". */
async function dealerSession(id: string, engineParts: (hello: Uint8Array, share: Uint8Array) => Uint8Array[], credential = parties.trust.linkCredential, maxNewTokens = 2) {
  const gateway = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'gateway'), undefined);
  const engine = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'engine'), credential);
  const hello = encodeSessionParams({ ...sessionParams(id), maxNewTokens });
  gateway.send(encodeFrame({ kind: MessageKind.Hello, seq: 0, step: 0, depth: 0, offline: true, parts: [hello, new KeyExchange().publicKey] }));
  const share = new KeyExchange().publicKey;
  // The kind of the first protocol frame the dealer sends the engine side (-1: it closed instead).
  const firstFromDealer = new Promise<number>((resolve) => {
    const onMessage = (data: Buffer, binary: boolean) => {
      if (!binary) return; // the link's own control messages (window announcement)
      engine.ws.off('message', onMessage);
      resolve(decodeFrame(new Uint8Array(data), 1 << 20).kind);
    };
    engine.ws.on('message', onMessage);
    void engine.closed.then(() => resolve(-1));
  });
  engine.send(encodeFrame({ kind: MessageKind.Hello, seq: 0, step: 0, depth: 0, offline: true, parts: engineParts(hello, share) }));
  return { gateway, engine, firstFromDealer };
}

describe('roles: nobody joins a session as a party it is not', () => {
  it('dual-role join: a user cannot take the engine side at the dealer (with its credential or none)', async () => {
    const id = sid();
    const gateway = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'gateway'), undefined);
    expect(await refusedStatus(dealerSessionUrl(parties.dealer.url, id, pairingId, 'engine'), parties.token)).toBe(401);
    expect(await refusedStatus(dealerSessionUrl(parties.dealer.url, id, pairingId, 'engine'), undefined)).toBe(401);
    gateway.ws.close();
    await expectHonestSession();
  });

  it('the dealer\'s link credential cannot join as the gateway, nor open anything at the engine (no X − U for the dealer)', async () => {
    const link = parties.trust.linkCredential;
    expect(await refusedStatus(dealerSessionUrl(parties.dealer.url, sid(), pairingId, 'gateway'), link)).toBe(403);
    for (const credential of [link, parties.trust.operator.dealer]) {
      expect(await status(`${parties.engine.url}/v1/masked-model`, credential)).toBe(401);
      expect(await status(`${parties.engine.url}/v1/model-card`, credential)).toBe(401);
      expect(await refusedStatus(engineSessionUrl(parties.engine.url, sid(), pairingId), credential)).toBe(401);
    }
    // The user's credential does open the masked model (what users are given).
    expect(await status(`${parties.engine.url}/v1/masked-model`, parties.token)).toBe(200);
    await expectHonestSession();
  });

  it('the engine operator\'s own credential cannot open a session: sessions are counted against user credentials only', async () => {
    expect(await refusedStatus(engineSessionUrl(parties.engine.url, sid(), pairingId), parties.trust.operator.engine)).toBe(403);
    await expectHonestSession();
  });

  it('a user credential cannot read or change pairings at the dealer', async () => {
    const path = `${parties.dealer.url}/v1/pairings/${pairingId}`;
    expect(await status(path, parties.token)).toBe(401);
    expect(await status(path, parties.token, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } })).toBe(401);
    expect(await status(path, parties.trust.linkCredential)).toBe(200);
  });

  it('metrics are operator-only; a user\'s readiness shows no session counts', async () => {
    expect(await status(`${parties.engine.url}/metrics`, parties.token)).toBe(403);
    expect(await status(`${parties.engine.url}/metrics`)).toBe(401);
    expect(await status(`${parties.dealer.url}/metrics`, parties.token)).toBe(401);
    expect(await status(`${parties.dealer.url}/metrics`, parties.trust.linkCredential)).toBe(403);
    expect(await status(`${parties.engine.url}/metrics`, parties.trust.operator.engine)).toBe(200);
    expect(await status(`${parties.dealer.url}/metrics`, parties.trust.operator.dealer)).toBe(200);
    const asUser = (await (await fetch(`${parties.engine.url}/readyz`, { headers: { authorization: `Bearer ${parties.token}` } })).json()) as Record<string, unknown>;
    const asOperator = (await (await fetch(`${parties.engine.url}/readyz`, { headers: { authorization: `Bearer ${parties.trust.operator.engine}` } })).json()) as Record<string, unknown>;
    expect(asUser['activeSessions']).toBeUndefined();
    expect(asOperator['activeSessions']).toBe(0);
    // Wrong credentials are counted.
    const metrics = await (await fetch(`${parties.engine.url}/metrics`, { headers: { authorization: `Bearer ${parties.trust.operator.engine}` } })).text();
    expect(await status(`${parties.engine.url}/readyz`, 'permllm-user-00000000-not-a-real-credential')).toBe(401);
    const after = await (await fetch(`${parties.engine.url}/metrics`, { headers: { authorization: `Bearer ${parties.trust.operator.engine}` } })).text();
    const count = (text: string) => Number(/permllm_engine_errors_total\{kind="unknown_credential"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(count(after)).toBe(count(metrics) + 1);
  });
});

describe('authenticated key agreement', () => {
  it('a key share signed by any key but the paired engine\'s is refused; the same share signed by it is accepted', async () => {
    const forger = SigningIdentity.generate();
    const id = sid();
    const forged = await dealerSession(id, (hello, share) => [hello, share, forger.sign(sessionStatement('engine-to-dealer', id, pairingId, [digestOf(hello), share]))]);
    const closed = await forged.engine.closed;
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toMatch(/not signed by the engine/);
    // Control: the identical message signed with the engine's real identity gets the dealer's key share.
    const good = sid();
    const honest = await dealerSession(good, (hello, share) => [hello, share, engineKey.sign(sessionStatement('engine-to-dealer', good, pairingId, [digestOf(hello), share]))]);
    expect(await honest.firstFromDealer).toBe(MessageKind.KeyShare);
    honest.gateway.ws.close();
    honest.engine.ws.close();
    await expectHonestSession();
  });

  it('a replayed engine key share (signed for another session) is refused', async () => {
    const first = sid();
    const second = sid();
    let recorded: Uint8Array[] = [];
    const a = await dealerSession(first, (hello, share) => {
      recorded = [share, engineKey.sign(sessionStatement('engine-to-dealer', first, pairingId, [digestOf(hello), share]))];
      return [hello, ...recorded];
    });
    expect(await a.firstFromDealer).toBe(MessageKind.KeyShare);
    a.gateway.ws.close();
    a.engine.ws.close();
    const b = await dealerSession(second, (hello) => [hello, ...recorded]);
    const closed = await b.engine.closed;
    expect(closed.code).toBe(CloseCode.ProtocolViolation);
    expect(closed.reason).toMatch(/not signed by the engine/);
    // The same session id again is refused before any session starts.
    expect(await refusedStatus(dealerSessionUrl(parties.dealer.url, first, pairingId, 'gateway'), undefined)).toBe(409);
  });

  it('a man in the middle of the gateway\'s dealer link (forged share, or one replayed from an earlier session) is refused before anything depending on the prompt is sent', async () => {
    let mode: 'honest' | 'forge' | 'replay' = 'honest';
    let recorded: Uint8Array | undefined;
    let tampered = 0;
    let promptFramesToEngine = 0;
    const backend = await RemoteBackend.connect({
      engineUrl: parties.engine.url,
      dealerUrl: parties.dealer.url,
      cacheDir: parties.cacheDir,
      ...gatewayTrustOptions(parties.trust),
      log: () => undefined,
      interceptLink: (peer, link) => (peer === 'dealer' ? middleman(link) : countSends(link)),
    });
    function countSends(link: MessageLink): MessageLink {
      const harmless = new Set([MessageKind.Hello, MessageKind.Error, MessageKind.End]);
      return { send: (f) => (harmless.has(decodeFrame(f, 1 << 30).kind) || promptFramesToEngine++, link.send(f)), receive: (s) => link.receive(s), close: (r) => link.close(r), get isClosed() { return link.isClosed; } };
    }
    function middleman(link: MessageLink): MessageLink {
      let first = true;
      return {
        send: (f) => link.send(f),
        async receive(signal) {
          const data = await link.receive(signal);
          if (!first) return data;
          first = false;
          const frame = decodeFrame(data, 1 << 20);
          if (frame.kind !== MessageKind.KeyShare) return data;
          if (mode === 'honest') recorded = data;
          if (mode === 'forge') {
            tampered++;
            return encodeFrame({ ...frame, parts: [new KeyExchange().publicKey, ...frame.parts.slice(1)] });
          }
          if (mode === 'replay' && recorded) {
            tampered++;
            return recorded;
          }
          return data;
        },
        close: (r) => link.close(r),
        get isClosed() {
          return link.isClosed;
        },
      };
    }
    const generate = async () => {
      const ids: number[] = [];
      for await (const e of backend.generate({ promptTokens: backend.modelInfo.tokenizer.encode('Once upon a time', { addBos: true }), maxTokens: 4, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, signal: new AbortController().signal })) {
        if (e.type === 'token') ids.push(e.id);
      }
      return ids;
    };
    try {
      const honest = await generate();
      expect(honest.length).toBe(4);
      for (const attack of ['forge', 'replay'] as const) {
        mode = attack;
        promptFramesToEngine = 0;
        const error = await generate().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/not signed by the dealer's pinned identity/);
        // Nothing but the Hello (lengths, no prompt content) and the error went to the engine.
        expect(promptFramesToEngine).toBe(0);
      }
      expect(tampered).toBe(2);
      mode = 'honest';
      expect(await generate()).toEqual(honest);
    } finally {
      await backend.close();
    }
    await expectHonestSession();
  });
});

describe('pairings', () => {
  const pairingBody = (key: SharedKey, overrides: Record<string, unknown> = {}) =>
    // The engine's own pairing (ring64, its default: the plan and ring weight specs from its card).
    JSON.stringify({ pairingKey: Buffer.from(key.exportBytes()).toString('base64'), modelHash: card.modelHash, profile: card.maskProfile, config: card.config, weights: card.weights, fixedPoint: card.fixedPoint, ...overrides });
  const put = (id: string, body: string, signer: SigningIdentity | undefined, credential = parties.trust.linkCredential) =>
    fetch(`${parties.dealer.url}/v1/pairings/${id}`, {
      method: 'PUT',
      body,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${credential}`,
        ...(signer ? { [PAIRING_IDENTITY_HEADER]: Buffer.from(signer.publicKey).toString('base64'), [PAIRING_SIGNATURE_HEADER]: Buffer.from(signer.sign(pairingStatement(id, body))).toString('base64') } : {}),
      },
    });

  it('a pairing flood by anyone but the pinned engine adds and evicts nothing', async () => {
    for (let i = 0; i < 12; i++) {
      const key = SharedKey.random();
      const id = pairingIdOf(key);
      const response = await put(id, pairingBody(key), SigningIdentity.generate());
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('identity_refused');
    }
    const key = SharedKey.random();
    expect((await put(pairingIdOf(key), pairingBody(key), undefined)).status).toBe(401);
    expect((await put(pairingIdOf(key), pairingBody(key), engineKey, parties.token)).status).toBe(401);
    const operator = await (await fetch(`${parties.dealer.url}/readyz`, { headers: { authorization: `Bearer ${parties.trust.operator.dealer}` } })).json();
    expect((operator as { pairings: number }).pairings).toBe(1);
    expect(await status(`${parties.dealer.url}/v1/pairings/${pairingId}`, parties.trust.linkCredential)).toBe(200);
    await expectHonestSession();
  });

  it('an oversized pairing (invented shapes) is refused before any mask is drawn, even from the pinned engine', async () => {
    const key = SharedKey.random();
    const id = pairingIdOf(key);
    const big = 1 << 16;
    const float = { profile: 'permllm-f64', fixedPoint: undefined };
    const body = pairingBody(key, { ...float, config: { ...card.config, dim: big, hiddenDim: big, vocabSize: big }, weights: [{ name: 'w', op: 'linear', outDim: big, inDim: big, scale: 1, hasBias: false }] });
    const response = await put(id, body, engineKey);
    expect(response.status).toBe(413);
    const invented = pairingBody(key, { ...float, weights: [{ name: 'w', op: 'linear', outDim: 12345, inDim: 64, scale: 1, hasBias: false }] });
    expect((await put(id, invented, engineKey)).status).toBe(400);
    // The same under ring64: the ring specs are checked against the model's widths and the byte limit.
    const fixedPoint = card.fixedPoint!;
    const ringBig = pairingBody(key, { config: { ...card.config, dim: big, hiddenDim: big, vocabSize: big }, fixedPoint: { plan: fixedPoint.plan, weights: [{ name: 'w', outDim: big, inDim: big, blocks: [{ rows: big, exponent: 12 }], hasBias: false }] } });
    expect((await put(id, ringBig, engineKey)).status).toBe(413);
    const ringInvented = pairingBody(key, { fixedPoint: { plan: fixedPoint.plan, weights: [{ name: 'w', outDim: 12345, inDim: 64, blocks: [{ rows: 12345, exponent: 12 }], hasBias: false }] } });
    expect((await put(id, ringInvented, engineKey)).status).toBe(400);
    await expectHonestSession();
  });
});

describe('bounded resources', () => {
  it('an idle session is ended, each credential has its own session cap, and a revoked credential opens nothing', async () => {
    const cli = (...args: string[]) => execFileSync(process.execPath, [binPath, 'credentials', ...args, '--state-dir', parties.trust.dirs.engine], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    const capped = cli('issue', '--name', 'capped-user', '--max-sessions', '1');
    expect(capped).toMatch(/^permllm-user-[0-9a-f]{8}-/);
    // The idle attacker joins both sides (the dealer's gateway side needs no credential), then sends nothing.
    const id = sid();
    const atDealer = await rawPeer(dealerSessionUrl(parties.dealer.url, id, pairingId, 'gateway'), undefined);
    const idle = await waitFor('the new credential to be picked up', async () => rawPeer(engineSessionUrl(parties.engine.url, id, pairingId), capped).catch(() => undefined), 40, 100);
    expect(await refusedStatus(engineSessionUrl(parties.engine.url, sid(), pairingId), capped)).toBe(429);
    const closed = await idle.closed;
    expect(closed.code).toBe(CloseCode.IdleTimeout);
    expect((await atDealer.closed).code).not.toBe(CloseCode.Normal);
    cli('revoke', '--name', 'capped-user');
    await waitFor('the revocation to be picked up', async () => ((await refusedStatus(engineSessionUrl(parties.engine.url, sid(), pairingId), capped)) === 401 ? true : undefined), 40, 100);
    expect(await status(`${parties.engine.url}/v1/masked-model`, capped)).toBe(401);
    await expectHonestSession();
  });

  it('a dealer session whose parties stop consuming is ended when idle', async () => {
    // Correctly signed (the engine's own key), then neither side acknowledges what it received:
    // the dealer fills the links' windows and stalls, and its idle limit ends the session.
    const id = sid();
    const stalled = await dealerSession(id, (hello, share) => [hello, share, engineKey.sign(sessionStatement('engine-to-dealer', id, pairingId, [digestOf(hello), share]))], parties.trust.linkCredential, 400);
    expect(await stalled.firstFromDealer).toBe(MessageKind.KeyShare);
    const [gateway, engine] = await Promise.all([stalled.gateway.closed, stalled.engine.closed]);
    expect(gateway.code).toBe(CloseCode.IdleTimeout);
    expect(engine.code).toBe(CloseCode.IdleTimeout);
    await expectHonestSession();
  });

  it('a prompt-list fan-out is refused by the gateway before any session opens (the engine\'s per-credential cap is the second line, tested above)', async () => {
    const metric = async (pattern: RegExp) => Number(pattern.exec(await (await fetch(`${parties.engine.url}/metrics`, { headers: { authorization: `Bearer ${parties.trust.operator.engine}` } })).text())?.[1] ?? 0);
    const refused429 = /permllm_engine_connections_refused_total\{status="429"\} (\d+)/;
    const before = await metric(refused429);
    // 16 prompts: past the gateway's prompt-list cap (8) and its session budget.
    const response = await fetch(`${parties.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', prompt: Array.from({ length: 16 }, () => 'Once upon a time'), max_tokens: 2, temperature: 0 }),
    });
    const body = (await response.json()) as { error: { param: string | null } };
    expect(response.status).toBe(400);
    expect(body.error.param).toBe('prompt');
    expect(await metric(/permllm_engine_sessions_active (\d+)/)).toBe(0);
    expect(await metric(refused429)).toBe(before);
    await expectHonestSession();
  });

  it('a giant frame before the Hello is cut off at the pre-Hello limit', async () => {
    const peer = await rawPeer(engineSessionUrl(parties.engine.url, sid(), pairingId), parties.token);
    peer.send(new Uint8Array(1 << 20));
    expect((await peer.closed).code).toBe(CloseCode.MessageTooBig);
    await expectHonestSession();
  });
});

describe('identities and protection the gateway decides', () => {
  let other: LocalTrust;
  let dealer2: RoleProcess;
  let engine2: RoleProcess;

  beforeAll(async () => {
    other = await prepareLocalTrust(path.join(dir, 'other'));
    dealer2 = await startRole('dealer', ['--port', '0'], { env: other.env.dealer });
    engine2 = await startRole('engine', ['--port', '0', '--dealer', dealer2.url, '--model', defaultModelDir, '--profile', 'paper-f32', '--probe-interval-ms', '300'], { env: other.env.engine });
    await waitForReadiness(engine2.url, true, other.userCredential);
  });

  const gatewayArgs = (engine: string, dealer: string, cache: string, extra: string[] = []) => ['--port', '0', '--engine', engine, '--dealer', dealer, '--cache-dir', path.join(dir, cache), ...extra];

  it('a swapped dealer or engine (another identity than the pinned one) is refused by the gateway', async () => {
    const swappedDealer = await startRole('gateway', gatewayArgs(parties.engine.url, dealer2.url, 'c1'), { env: parties.trust.env.gateway }).catch((e: unknown) => e);
    expect((swappedDealer as Error).message).toMatch(/the dealer .* presented identity .*not the pinned/);
    const swappedEngine = await startRole('gateway', gatewayArgs(engine2.url, parties.dealer.url, 'c2'), { env: parties.trust.env.gateway }).catch((e: unknown) => e);
    expect((swappedEngine as Error).message).toMatch(/the engine .* presented identity .*not the pinned/);
    // An engine pinned to the honest dealer, pointed at another one: not ready, never pairs with it.
    const misdirected = await startRole('engine', ['--port', '0', '--dealer', dealer2.url, '--model', defaultModelDir, '--probe-interval-ms', '300'], {
      env: { ...parties.trust.env.engine, PERMLLM_STATE_DIR: path.join(dir, 'misdirected') },
    });
    const operator = (await readFile(path.join(dir, 'misdirected', 'operator-credential'), 'utf8')).trim();
    await waitForReadiness(misdirected.url, /presented identity .*not the pinned/, operator);
    expect(dealer2.stderr().match(/holding pairing/g)).toHaveLength(1); // engine2's own, nothing from the misdirected engine
    await misdirected.stop();
    await expectHonestSession();
  });

  it('trust on first use only when asked; a key that changed afterwards is refused', async () => {
    const state = path.join(dir, 'tofu');
    const env = { PERMLLM_STATE_DIR: state, PERMLLM_CREDENTIAL: parties.token };
    const unpinned = await startRole('gateway', gatewayArgs(parties.engine.url, parties.dealer.url, 'c3'), { env }).catch((e: unknown) => e);
    expect((unpinned as Error).message).toMatch(/no identity is pinned for the engine.*--trust-on-first-use/s);
    const first = await startRole('gateway', gatewayArgs(parties.engine.url, parties.dealer.url, 'c3', ['--trust-on-first-use']), { env });
    await waitForReadiness(first.url, true);
    expect(first.stderr()).toMatch(/trusting the dealer .* on first use/);
    expect((await complete(`${first.url}/v1`, PROMPT)).text).toBe(reference);
    await first.stop();
    // Same name (the dealer's URL), another key: the dealer process is replaced by an impostor on its port.
    const impostorPort = new URL(parties.dealer.url).port;
    await parties.dealer.stop();
    const impostor = await startRole('dealer', ['--port', impostorPort], { env: other.env.dealer });
    try {
      const changed = await startRole('gateway', gatewayArgs(parties.engine.url, parties.dealer.url, 'c3', ['--trust-on-first-use']), { env }).catch((e: unknown) => e);
      expect((changed as Error).message).toMatch(/was recorded for it/);
    } finally {
      await impostor.stop();
      await parties.restart('dealer');
    }
    await waitFor('the engine to pair with the restarted dealer', async () => ((await fetch(`${parties.engine.url}/readyz`, { headers: { authorization: `Bearer ${parties.token}` } })).status === 200 ? true : undefined));
    await parties.waitUntilReady();
    await expectHonestSession();
  });

  it('the gateway refuses an engine on the benchmark profile unless --min-profile allows it', async () => {
    const refused = await startRole('gateway', gatewayArgs(engine2.url, dealer2.url, 'c4'), { env: other.env.gateway }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/mask profile paper-f32, weaker than this gateway's minimum permllm-f64/);
    const allowed = await startRole('gateway', gatewayArgs(engine2.url, dealer2.url, 'c4', ['--min-profile', 'paper-f32']), { env: other.env.gateway });
    await waitForReadiness(allowed.url, true);
    const ready = (await (await fetch(`${allowed.url}/readyz`)).json()) as { protection?: unknown };
    expect(ready.protection).toEqual({ mask_profile: 'paper-f32', min_profile: 'paper-f32' });
    const response = await fetch(`${allowed.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'stories260K', temperature: 0, ...PROMPT }) });
    expect(response.status).toBe(200);
    expect((JSON.parse(response.headers.get('x-permllm-stats') ?? '{}') as Record<string, unknown>)['mask_profile']).toBe('paper-f32');
    // The honest gateway states its own protection too.
    expect(((await (await fetch(`${parties.gateway.url}/readyz`)).json()) as { protection?: unknown }).protection).toEqual({ mask_profile: 'ring64', min_profile: 'permllm-f64' });
    await allowed.stop();
    await expectHonestSession();
  });
});
