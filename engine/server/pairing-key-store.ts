/**
 * The engine's pairing keys, one per (model, dealer), persisted in the engine's state folder
 * so that the masked model gateways cached stays valid across restarts (see
 * protocol/transport/pairing-request.ts for what the key means). Files are created 0600 in a
 * 0700 folder, written to a temporary name and renamed into place.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SharedKey } from '../../crypto/key-agreement.js';
import { pairingIdOf } from '../../protocol/transport/pairing-request.js';

export interface PairingKey {
  key: SharedKey;
  /** Public id (pairingIdOf). */
  id: string;
  file: string;
  /** True when this call generated the key. */
  created: boolean;
}

interface PairingFile {
  version: 1;
  modelHash: string;
  dealer: string;
  key: string;
}

/**
 * `dealerName` says which dealer the key is for: by default the dealer URL's origin, so that
 * pointing the engine at another dealer pairs afresh instead of handing it the same key.
 */
export async function loadOrCreatePairingKey(stateDir: string, modelHash: string, dealerName: string): Promise<PairingKey> {
  const dealer = dealerName;
  const name = createHash('sha256').update(`${modelHash}\n${dealer}`).digest('hex').slice(0, 24);
  const dir = path.join(stateDir, 'pairings');
  const file = path.join(dir, `${name}.json`);
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<PairingFile>;
    const bytes = Buffer.from(String(stored.key ?? ''), 'base64');
    if (stored.version !== 1 || stored.modelHash !== modelHash || stored.dealer !== dealer || bytes.length !== 32) {
      throw new Error(`pairing key file ${file} is damaged or belongs to another model or dealer; delete it to pair afresh`);
    }
    const key = new SharedKey(new Uint8Array(bytes));
    return { key, id: pairingIdOf(key), file, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = SharedKey.random();
  const content: PairingFile = { version: 1, modelHash, dealer, key: Buffer.from(key.exportBytes()).toString('base64') };
  const staging = `${file}.${process.pid}.tmp`;
  await writeFile(staging, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  await chmod(staging, 0o600);
  await rename(staging, file);
  return { key, id: pairingIdOf(key), file, created: true };
}
