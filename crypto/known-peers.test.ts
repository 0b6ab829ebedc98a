import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, FINGERPRINT_PATTERN, SigningIdentity } from './identity.js';
import { acceptPeerIdentity, IdentityRefusedError } from './known-peers.js';

let dir: string;
const quiet = () => undefined;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-known-peers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('identities', () => {
  it('are created once, 0600, and fingerprinted like ssh-keygen -l (SHA256:base64, no padding)', async () => {
    const first = await SigningIdentity.loadOrCreate(path.join(dir, 'id'));
    const again = await SigningIdentity.loadOrCreate(path.join(dir, 'id'));
    expect(first.created && !again.created).toBe(true);
    expect(again.identity.fingerprint).toBe(first.identity.fingerprint);
    expect(first.identity.fingerprint).toMatch(FINGERPRINT_PATTERN);
    expect(fingerprintOf(first.identity.publicKey)).toBe(first.identity.fingerprint);
    const { mode } = await import('node:fs/promises').then((fs) => fs.stat(first.file));
    expect(mode & 0o777).toBe(0o600);
    const message = new TextEncoder().encode('statement');
    const signature = first.identity.sign(message);
    expect(again.identity.peer.verifies(message, signature)).toBe(true);
    expect(SigningIdentity.generate().peer.verifies(message, signature)).toBe(false);
    expect(again.identity.peer.verifies(new TextEncoder().encode('statemenT'), signature)).toBe(false);
  });
});

describe('pinning', () => {
  const honest = SigningIdentity.generate().peer;
  const other = SigningIdentity.generate().peer;

  it('a configured fingerprint is the only one accepted', async () => {
    const policy = { pinned: honest.fingerprint, trustOnFirstUse: true, storeFile: path.join(dir, 'pinned.json') };
    await acceptPeerIdentity('dealer x', honest, policy, '--dealer-fingerprint', quiet);
    await expect(acceptPeerIdentity('dealer x', other, policy, '--dealer-fingerprint', quiet)).rejects.toThrow(IdentityRefusedError);
  });

  it('without a pin: refused unless trust-on-first-use, then recorded, and a changed key is refused', async () => {
    const storeFile = path.join(dir, 'tofu.json');
    await expect(acceptPeerIdentity('engine y', honest, { trustOnFirstUse: false, storeFile }, '--engine-fingerprint', quiet)).rejects.toThrow(/no identity is pinned/);
    const logs: string[] = [];
    await acceptPeerIdentity('engine y', honest, { trustOnFirstUse: true, storeFile }, '--engine-fingerprint', (l) => logs.push(l));
    expect(logs[0]).toContain('on first use');
    expect(JSON.parse(await readFile(storeFile, 'utf8'))).toEqual({ 'engine y': honest.fingerprint });
    await acceptPeerIdentity('engine y', honest, { trustOnFirstUse: false, storeFile }, '--engine-fingerprint', quiet);
    await expect(acceptPeerIdentity('engine y', other, { trustOnFirstUse: true, storeFile }, '--engine-fingerprint', quiet)).rejects.toThrow(/was recorded for it/);
  });
});
