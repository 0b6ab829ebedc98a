/**
 * Pinning of the other parties' identities, as SSH's known_hosts does it: a fingerprint given in
 * the configuration is the only one accepted; without one, a fingerprint recorded earlier in
 * `<state>/known-peers.json` is; without either, the first key seen is recorded only when
 * trust-on-first-use was asked for explicitly. A key that differs from the pinned or recorded one
 * is refused, and the error says both fingerprints and how to re-pin.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PeerKey } from './identity.js';

export interface PinPolicy {
  /** The fingerprint configured for this peer (flag or environment variable). */
  pinned?: string | undefined;
  /** Record the first key seen when nothing is pinned or recorded. */
  trustOnFirstUse: boolean;
  /** The known-peers file (JSON: name → fingerprint). */
  storeFile: string;
}

/** The peer presented a key this party does not (or no longer) trust. */
export class IdentityRefusedError extends Error {
  override readonly name = 'IdentityRefusedError';
}

export function knownPeersFile(stateDir: string): string {
  return path.join(stateDir, 'known-peers.json');
}

async function readStore(file: string): Promise<Record<string, string>> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`known peers file ${file} is unreadable: ${(error as Error).message}`);
  }
}

/**
 * Accepts `presented` as the identity of `name` (e.g. "dealer http://10.0.0.2:8082") or throws
 * IdentityRefusedError. `flag` names the option that pins it, for the error message.
 */
export async function acceptPeerIdentity(name: string, presented: PeerKey, policy: PinPolicy, flag: string, log: (line: string) => void): Promise<void> {
  const seen = presented.fingerprint;
  if (policy.pinned !== undefined) {
    if (policy.pinned !== seen) throw new IdentityRefusedError(`the ${name} presented identity ${seen}, not the pinned ${policy.pinned} (${flag}): refused`);
    return;
  }
  const store = await readStore(policy.storeFile);
  const recorded = store[name];
  if (recorded !== undefined) {
    if (recorded !== seen) {
      throw new IdentityRefusedError(
        `the ${name} presented identity ${seen}, but ${recorded} was recorded for it in ${policy.storeFile}: refused (if the key was changed on purpose, pin the new one with ${flag} or delete that entry)`,
      );
    }
    return;
  }
  if (!policy.trustOnFirstUse) {
    throw new IdentityRefusedError(`no identity is pinned for the ${name}; it presents ${seen}: pin it with ${flag} ${seen} (or pass --trust-on-first-use)`);
  }
  store[name] = seen;
  await mkdir(path.dirname(policy.storeFile), { recursive: true, mode: 0o700 });
  const staging = `${policy.storeFile}.${process.pid}.tmp`;
  await writeFile(staging, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  await rename(staging, policy.storeFile);
  log(`trusting the ${name} on first use: identity ${seen} recorded in ${policy.storeFile}`);
}
