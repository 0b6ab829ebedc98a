/**
 * What authenticated session start costs (issue 10): the signed handshake of
 * protocol/session/handshake.ts against the unsigned X25519 exchange it replaced (re-enacted here
 * with the same frames minus the signatures and the engine's statement to the gateway), both
 * between the three parties in one process over in-process links, plus the single operations.
 * Prints JSON: bytes per direction and in total, mean time per handshake, per operation.
 *
 *   npx tsx bench/handshake-cost.ts [--runs N]
 *
 * On a network the signed handshake adds no round trip: the engine's statement to the gateway
 * travels while the gateway waits for the dealer's share, which needs the engine's Hello first.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SigningIdentity } from '../crypto/identity.js';
import { KeyExchange } from '../crypto/key-agreement.js';
import { dealerHandshake, engineHandshake, gatewayHandshake } from '../protocol/session/handshake.js';
import { encodeSessionParams, decodeSessionParams, type SessionParams } from '../protocol/session/session-params.js';
import { localTrust } from '../protocol/session/session-trust.js';
import { inProcessLinkPair } from '../protocol/transport/in-process-link.js';
import { PartyNetwork, type PartyName } from '../protocol/transport/party-network.js';
import { MessageKind } from '../protocol/wire/frame.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' } } });
const runs = Number(values.runs);
const limits = { maxContext: 512 };

function wire() {
  const nets = Object.fromEntries((['gateway', 'engine', 'dealer'] as const).map((p) => [p, new PartyNetwork(p, { floatType: 'float64', maxFrameBytes: 1 << 20 })])) as Record<PartyName, PartyNetwork>;
  const pairs: [PartyName, PartyName][] = [['gateway', 'engine'], ['gateway', 'dealer'], ['engine', 'dealer']];
  for (const [a, b] of pairs) {
    const [ab, ba] = inProcessLinkPair();
    nets[a].connect(b, ab);
    nets[b].connect(a, ba);
  }
  return nets;
}

const params = (): SessionParams => ({ sessionId: randomBytes(16).toString('hex'), promptLength: 8, maxNewTokens: 8, profile: 'permllm-f64', lookupsPerToken: 1, optimized: true });

/** The handshake before issue 10: unsigned shares, HKDF bound to the session id only. */
async function unsigned(nets: Record<PartyName, PartyNetwork>, p: SessionParams) {
  const gateway = (async () => {
    const x = new KeyExchange();
    const hello = encodeSessionParams(p);
    nets.gateway.send('engine', MessageKind.Hello, 0, [hello], true);
    nets.gateway.send('dealer', MessageKind.Hello, 0, [hello, x.publicKey], true);
    const [share] = await nets.gateway.receive('dealer', MessageKind.KeyShare, 0);
    return x.agree(share as Uint8Array, `${p.sessionId}/k12`);
  })();
  const engine = (async () => {
    const [hello] = await nets.engine.receive('gateway', MessageKind.Hello, 0);
    const q = decodeSessionParams(hello as Uint8Array, limits);
    const x = new KeyExchange();
    nets.engine.send('dealer', MessageKind.Hello, 0, [encodeSessionParams(q), x.publicKey], true);
    const [share] = await nets.engine.receive('dealer', MessageKind.KeyShare, 0);
    return x.agree(share as Uint8Array, `${q.sessionId}/k02`);
  })();
  const dealer = (async () => {
    const [hello, g] = await nets.dealer.receive('gateway', MessageKind.Hello, 0);
    const q = decodeSessionParams(hello as Uint8Array, limits);
    const [, e] = await nets.dealer.receive('engine', MessageKind.Hello, 0);
    const toG = new KeyExchange();
    const toE = new KeyExchange();
    nets.dealer.send('gateway', MessageKind.KeyShare, 0, [toG.publicKey], true);
    nets.dealer.send('engine', MessageKind.KeyShare, 0, [toE.publicKey], true);
    await nets.dealer.flush();
    return [toG.agree(g as Uint8Array, `${q.sessionId}/k12`), toE.agree(e as Uint8Array, `${q.sessionId}/k02`)];
  })();
  await Promise.all([gateway, engine, dealer]);
}

async function signed(nets: Record<PartyName, PartyNetwork>, p: SessionParams, trust: ReturnType<typeof localTrust>) {
  await Promise.all([gatewayHandshake(nets.gateway, p, trust.gateway), engineHandshake(nets.engine, limits, trust.engine), dealerHandshake(nets.dealer, limits, trust.dealer)]);
}

function bytes(nets: Record<PartyName, PartyNetwork>) {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [from, net] of Object.entries(nets)) {
    for (const to of ['gateway', 'engine', 'dealer'] as const) {
      if (to === from) continue;
      const n = net.meter.bytesTo(to);
      if (n > 0) out[`${from}→${to}`] = n;
      total += n;
    }
  }
  return { perDirection: out, total };
}

async function measure(run: (nets: Record<PartyName, PartyNetwork>, p: SessionParams) => Promise<void>) {
  const first = wire();
  await run(first, params());
  const size = bytes(first);
  for (let i = 0; i < 20; i++) await run(wire(), params()); // warm-up
  const began = performance.now();
  for (let i = 0; i < runs; i++) await run(wire(), params());
  return { bytes: size, meanMs: (performance.now() - began) / runs };
}

function perOp(what: () => void, n = 2000) {
  for (let i = 0; i < 100; i++) what();
  const began = performance.now();
  for (let i = 0; i < n; i++) what();
  return (1000 * (performance.now() - began)) / n;
}

const trust = localTrust(randomBytes(16).toString('hex'));
const before = await measure(unsigned);
const after = await measure((nets, p) => signed(nets, p, trust));
const identity = SigningIdentity.generate();
const message = randomBytes(200);
const signature = identity.sign(message);
console.log(
  JSON.stringify(
    {
      runs,
      unsigned: before,
      signed: after,
      added: { bytes: after.bytes.total - before.bytes.total, ms: after.meanMs - before.meanMs },
      operationsMicroseconds: {
        ed25519Sign: perOp(() => identity.sign(message)),
        ed25519Verify: perOp(() => identity.peer.verifies(message, signature)),
        x25519KeyPairAndAgree: perOp(() => new KeyExchange().agree(new KeyExchange().publicKey, 'bench')),
      },
      note: 'signed = 4 Ed25519 signatures made (engine 2, dealer 2) and 4 verified (gateway 2, engine 1, dealer 1) per session; no added round trip',
    },
    null,
    2,
  ),
);
