/**
 * The engine's user credentials (protocol/transport/credentials.ts): issued by the engine's
 * operator (`permllm credentials issue`), one per user, each with its own cap on concurrent
 * sessions, revocable. Stored as SHA-256 digests only, in `<state>/credentials/users.json`
 * (0600); the running engine re-reads the file when it changes, so issuing and revoking take
 * effect without a restart.
 */
import { randomBytes } from 'node:crypto';
import { statSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { matchesDigest, newSecret, secretDigest, type Principal } from '../../protocol/transport/credentials.js';

export interface UserCredentialRecord {
  id: string;
  name: string;
  /** SHA-256 of the secret, hex. */
  sha256: string;
  maxSessions: number;
  created: string;
  revoked?: string;
}

interface StoreFile {
  version: 1;
  users: UserCredentialRecord[];
}

const ID_IN_SECRET = /^permllm-user-([0-9a-f]{8})-/;

export function userCredentialFile(stateDir: string): string {
  return path.join(stateDir, 'credentials', 'users.json');
}

async function readStore(file: string): Promise<StoreFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as StoreFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.users)) throw new Error(`${file} is not a permllm user credential file`);
    return parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: [] };
    throw error;
  }
}

async function writeStore(file: string, store: StoreFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const staging = `${file}.${process.pid}.tmp`;
  await writeFile(staging, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  await chmod(staging, 0o600);
  await rename(staging, file);
}

/** Issues a credential; the secret is returned once and never stored. */
export async function issueUserCredential(stateDir: string, name: string, maxSessions: number): Promise<{ record: UserCredentialRecord; secret: string }> {
  const file = userCredentialFile(stateDir);
  const store = await readStore(file);
  const id = randomBytes(4).toString('hex');
  const secret = newSecret('user', id);
  const record: UserCredentialRecord = { id, name, sha256: secretDigest(secret).toString('hex'), maxSessions, created: new Date().toISOString() };
  store.users.push(record);
  await writeStore(file, store);
  return { record, secret };
}

/** Revokes every live credential with this id or name; returns how many. */
export async function revokeUserCredential(stateDir: string, idOrName: string): Promise<number> {
  const file = userCredentialFile(stateDir);
  const store = await readStore(file);
  let n = 0;
  for (const user of store.users) {
    if ((user.id === idOrName || user.name === idOrName) && user.revoked === undefined) {
      user.revoked = new Date().toISOString();
      n++;
    }
  }
  if (n > 0) await writeStore(file, store);
  return n;
}

export async function listUserCredentials(stateDir: string): Promise<UserCredentialRecord[]> {
  return (await readStore(userCredentialFile(stateDir))).users;
}

/** The running engine's view of the store: re-read when the file's mtime changes. */
export class UserCredentialStore {
  private users: UserCredentialRecord[] = [];
  private seenMtime = -1;
  private checkedAt = 0;

  constructor(private readonly file: string) {
    this.refresh(true);
  }

  private refresh(force = false): void {
    const now = Date.now();
    if (!force && now - this.checkedAt < 250) return;
    this.checkedAt = now;
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      this.users = [];
      this.seenMtime = -1;
      return;
    }
    if (mtime === this.seenMtime) return;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as StoreFile;
      this.users = Array.isArray(parsed.users) ? parsed.users : [];
      this.seenMtime = mtime;
    } catch {
      // A half-written file (another process renaming into place): keep the last good list.
    }
  }

  get count(): number {
    this.refresh();
    return this.users.filter((u) => u.revoked === undefined).length;
  }

  /** The live (not revoked) credential `secret` belongs to. */
  authenticate(secret: string): Principal | undefined {
    this.refresh();
    const id = ID_IN_SECRET.exec(secret)?.[1];
    if (id === undefined) return undefined;
    const user = this.users.find((u) => u.id === id);
    if (!user || user.revoked !== undefined) return undefined;
    return matchesDigest(secret, Buffer.from(user.sha256, 'hex')) ? { kind: 'user', id: user.id, name: user.name, maxSessions: user.maxSessions } : undefined;
  }
}
