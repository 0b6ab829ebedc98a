/**
 * The gateway's masked-model store against a real engine server (in this process, real sockets
 * on 127.0.0.1): a download is verified against the model card's sha256 and cached; a partial
 * download resumes with a Range request (only the rest is sent); a damaged cache file is
 * detected by its digest and downloaded again; the served stream equals X − U computed
 * directly from the pairing key.
 */
import { readFile, rm, stat, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../model/load-model.js';
import { startEngineServer, type EngineServer } from '../../engine/server/engine-server.js';
import { loadOrCreatePairingKey } from '../../engine/server/pairing-key-store.js';
import { startDealerServer, type DealerServer } from '../../dealer/server/dealer-server.js';
import { MaskedModelStore } from '../../gateway/remote/masked-model-store.js';
import { PAPER_PROFILE, PERMLLM_PROFILE, RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import { maskedRingModel } from '../../protocol/session/ring-pairing.js';
import type { FixedPointWeight } from '../../model/fixed-point/fixed-point-weights.js';
import type { RingRoleWeight } from '../../protocol/subprotocols/ring/ring-mul-w.js';
import { maskedModel } from '../../protocol/session/pairing.js';
import { ControlClient } from '../../protocol/transport/control-client.js';
import { SharedKey } from '../../crypto/key-agreement.js';
import type { PrivateWeight } from '../../protocol/model/private-weights.js';
import { MaskedModelSource } from '../../engine/server/masked-model-source.js';
import { parseMaskedModel } from '../../protocol/transport/masked-model-format.js';
import type { ModelCard } from '../../protocol/transport/model-card.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir } from '../helpers/processes.js';
import { dealerTrustOptions, engineTrustOptions } from '../helpers/trust-options.js';

const quiet = () => undefined;
const silentBar = () => ({ update: quiet, finish: quiet });
let dir: string;
let dealer: DealerServer;
let engine: EngineServer;
let client: ControlClient;
let card: ModelCard;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-cache-test-'));
  const trust = await prepareLocalTrust(path.join(dir, 'state'));
  dealer = await startDealerServer({ host: '127.0.0.1', port: 0, ...dealerTrustOptions(trust), log: quiet });
  engine = await startEngineServer({ model: await loadModel(defaultModelDir), profile: RING64_PROFILE, dealerUrl: dealer.url, host: '127.0.0.1', port: 0, ...engineTrustOptions(trust), log: quiet });
  client = new ControlClient(engine.url, { token: trust.userCredential });
  card = engine.card;
});

afterAll(async () => {
  await client?.close();
  await engine?.close();
  await dealer?.close();
  await rm(dir, { recursive: true, force: true });
});

const served = async () => Number(/permllm_engine_masked_model_bytes_total (\d+)/.exec(await engine.metrics.registry.metrics())?.[1] ?? 0);

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('masked model stream', () => {
  it.each([PERMLLM_PROFILE, PAPER_PROFILE])('equals maskedModel() for tensors spanning many chunks, from any byte offset ($name)', async (profile) => {
    const weight = (name: string, outDim: number, inDim: number): PrivateWeight => {
      const data = new Float64Array(outDim * inDim).map((_, i) => Math.sin(i) * 0.5);
      return { name, op: 'linear', outDim, inDim, scale: 1, hasBias: false, data };
    };
    const weights = new Map([weight('a', 300, 1000), weight('b', 7, 13), weight('c', 513, 600)].map((w) => [w.name, w]));
    const key = SharedKey.random();
    const source = new MaskedModelSource({ kind: 'float', weights }, key, profile, { modelHash: 'f'.repeat(64), pairingId: 'e'.repeat(32) });
    await source.prepare();
    const whole = await readAll(source.stream());
    expect(whole.length).toBe(source.totalBytes);
    const parsed = parseMaskedModel(new Uint8Array(whole));
    for (const [name, w] of maskedModel(key, profile, weights)) {
      expect(Buffer.from(parsed.weights.get(name)!.data.buffer, parsed.weights.get(name)!.data.byteOffset, w.data.byteLength).equals(Buffer.from(w.data.buffer))).toBe(true);
    }
    for (const start of [1, 4097, source.layout.offsets[1]! - 3, source.layout.offsets[2]! + (1 << 20) + 5]) {
      expect((await readAll(source.stream(start))).equals(whole.subarray(start))).toBe(true);
    }
  });
});

const ringBytes = (w: RingRoleWeight) => {
  if (w.data.kind !== 'ring') throw new Error(`${w.spec.name} is not a ring matrix`);
  return Buffer.from(w.data.bytes.buffer, w.data.bytes.byteOffset, w.data.bytes.byteLength);
};

describe('ring64 masked model stream', () => {
  it('equals maskedRingModel() for tensors spanning many chunks, from any byte offset', async () => {
    const weight = (name: string, outDim: number, inDim: number): FixedPointWeight => {
      const data = new Int16Array(outDim * inDim).map((_, i) => Math.round(Math.sin(i) * 30000));
      return { name, outDim, inDim, data, blocks: [{ rows: outDim, exponent: 12 }] };
    };
    const weights = new Map([weight('a', 300, 1000), weight('b', 7, 13), weight('c', 513, 600)].map((w) => [w.name, w]));
    const key = SharedKey.random();
    const source = new MaskedModelSource({ kind: 'ring', weights }, key, RING64_PROFILE, { modelHash: 'f'.repeat(64), pairingId: 'e'.repeat(32) });
    await source.prepare();
    const whole = await readAll(source.stream());
    expect(whole.length).toBe(source.totalBytes);
    const parsed = parseMaskedModel(new Uint8Array(whole));
    expect(parsed.weights.size).toBe(0);
    for (const [name, w] of maskedRingModel(key, weights)) expect(ringBytes(parsed.ringWeights!.get(name)!).equals(ringBytes(w))).toBe(true);
    for (const start of [1, 4099, source.layout.offsets[1]! - 3, source.layout.offsets[2]! + (1 << 20) + 5]) {
      expect((await readAll(source.stream(start))).equals(whole.subarray(start))).toBe(true);
    }
  });
});

describe('masked model download and cache', () => {
  it('downloads, verifies and caches X − U exactly as the pairing key defines it', async () => {
    const store = new MaskedModelStore({ cacheDir: path.join(dir, 'a'), engine: client, log: quiet, progress: silentBar });
    const stored = await store.load(card);
    expect(stored.downloaded).toBe(true);
    expect(stored.tokenizer.encode('Once upon a time', { addBos: true })).toEqual((await loadModel(defaultModelDir)).tokenizer.encode('Once upon a time', { addBos: true }));
    // What the gateway got is X − U for the engine's persisted pairing key, tensor by tensor.
    const model = await loadModel(defaultModelDir);
    const pairing = await loadOrCreatePairingKey(path.join(dir, 'state', 'engine'), card.modelHash, new URL(dealer.url).origin);
    expect(pairing.id).toBe(card.pairing.id);
    // ring64 (the engine's default): X − U mod 2^64 over the int16 weights of the same plan.
    expect(card.shareDtype).toBe('ring64');
    const fixedPoint = await fixedPointModelOf(model);
    expect(card.fixedPoint!.plan).toEqual(fixedPoint.plan);
    const expected = maskedRingModel(pairing.key, fixedPoint.weights);
    expect(stored.weights.size).toBe(0);
    expect(stored.ringWeights!.size).toBe(expected.size);
    for (const [name, w] of expected) expect(ringBytes(stored.ringWeights!.get(name)!).equals(ringBytes(w))).toBe(true);
    expect(stored.ringWeights!.get('lm_head')!.bias).toBeUndefined();
    // 8 bytes per parameter of Z_2^64 plus the header.
    const params = [...expected.values()].reduce((n, w) => n + w.spec.outDim * w.spec.inDim, 0);
    console.log(`ring64 masked model: ${card.maskedModel.bytes} bytes for ${params} parameters (${(card.maskedModel.bytes / params).toFixed(3)} B/param)`);

    const again = await new MaskedModelStore({ cacheDir: path.join(dir, 'a'), engine: client, log: quiet, progress: silentBar }).load(card);
    expect(again.downloaded).toBe(false);
  });

  it('resumes a partial download with a Range request', async () => {
    const complete = await readFile(path.join(new MaskedModelStore({ cacheDir: path.join(dir, 'a'), engine: client, log: quiet }).folderFor(card), 'masked-model.bin'));
    const store = new MaskedModelStore({ cacheDir: path.join(dir, 'b'), engine: client, log: quiet, progress: silentBar });
    const folder = store.folderFor(card);
    await rm(folder, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(folder, { recursive: true });
    const half = Math.floor(complete.length / 2);
    await writeFile(path.join(folder, 'masked-model.bin.partial'), complete.subarray(0, half));
    await writeFile(path.join(folder, 'masked-model.bin.partial.json'), JSON.stringify({ sha256: card.maskedModel.sha256 }));
    const before = await served();
    const labels: string[] = [];
    const resumed = await new MaskedModelStore({
      cacheDir: path.join(dir, 'b'),
      engine: client,
      log: quiet,
      progress: (label) => {
        labels.push(label);
        return silentBar();
      },
    }).load(card);
    expect(resumed.downloaded).toBe(true);
    expect(labels[0]).toMatch(/^resuming/);
    expect((await served()) - before).toBe(complete.length - half);
    expect((await readFile(path.join(folder, 'masked-model.bin'))).equals(complete)).toBe(true);
  });

  it('detects a damaged cache file by its digest and downloads it again', async () => {
    const store = new MaskedModelStore({ cacheDir: path.join(dir, 'a'), engine: client, log: quiet, progress: silentBar });
    const file = path.join(store.folderFor(card), 'masked-model.bin');
    const bytes = await readFile(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    await writeFile(file, bytes);
    const reloaded = await store.load(card);
    expect(reloaded.downloaded).toBe(true);
    expect((await stat(file)).size).toBe(card.maskedModel.bytes);
  });

  it('refuses a masked model that does not match the card', async () => {
    const store = new MaskedModelStore({ cacheDir: path.join(dir, 'c'), engine: client, log: quiet, progress: silentBar });
    const wrong: ModelCard = { ...card, maskedModel: { ...card.maskedModel, sha256: '0'.repeat(64) } };
    await expect(store.load(wrong)).rejects.toThrow(/different masked model|sha256/);
  });

  it('refuses a ring64 masked model whose ring specs differ from the card\'s plan specs', async () => {
    const store = new MaskedModelStore({ cacheDir: path.join(dir, 'a'), engine: client, log: quiet, progress: silentBar });
    const [first, ...rest] = card.fixedPoint!.weights;
    const shifted = { ...first!, blocks: first!.blocks.map((b) => ({ ...b, exponent: b.exponent + 1 })) };
    const wrong: ModelCard = { ...card, fixedPoint: { ...card.fixedPoint!, weights: [shifted, ...rest] } };
    await expect(store.load(wrong)).rejects.toThrow(/ring tensors differ/);
  });
});
