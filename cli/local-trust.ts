/**
 * Zero set-up trust for three parties on one machine (`npm start`, tests): creates (or reuses)
 * the engine's and the dealer's identities, the dealer's link credential, both operator
 * credentials and one user credential for the local gateway, under one base folder, and says
 * which flags and environment variables hand each party what it needs. Nothing here is
 * trust-on-first-use: every party gets the others' fingerprints pinned.
 *
 *   <base>/engine/   identity.pem, operator-credential, credentials/users.json, pairings/
 *   <base>/dealer/   identity.pem, operator-credential, link-credential
 *   <base>/gateway/  user-credential (the secret; the engine keeps only its digest), known peers
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SigningIdentity } from '../crypto/identity.js';
import { issueUserCredential, userCredentialFile, UserCredentialStore } from '../engine/server/user-credential-store.js';
import { linkCredentialFile, loadOrCreateSecretFile, operatorCredentialFile } from '../protocol/transport/credentials.js';

type Party = 'engine' | 'dealer' | 'gateway';

export interface LocalTrust {
  dirs: Record<Party, string>;
  /** Environment of each party's process (secrets never go on command lines). */
  env: Record<Party, Record<string, string>>;
  fingerprints: { engine: string; dealer: string };
  operator: { engine: string; dealer: string };
  userCredential: string;
  linkCredential: string;
  /** Where the files are, for the start-up message. */
  files: string[];
}

async function userCredentialFor(engineDir: string, file: string): Promise<string> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (new UserCredentialStore(userCredentialFile(engineDir)).authenticate(secret)) return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { secret } = await issueUserCredential(engineDir, 'local-gateway', 8);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return secret;
}

export async function prepareLocalTrust(base: string): Promise<LocalTrust> {
  const dirs: Record<Party, string> = { engine: path.join(base, 'engine'), dealer: path.join(base, 'dealer'), gateway: path.join(base, 'gateway') };
  const engine = await SigningIdentity.loadOrCreate(dirs.engine);
  const dealer = await SigningIdentity.loadOrCreate(dirs.dealer);
  const link = await loadOrCreateSecretFile(linkCredentialFile(dirs.dealer), 'link');
  const engineOperator = await loadOrCreateSecretFile(operatorCredentialFile(dirs.engine), 'operator');
  const dealerOperator = await loadOrCreateSecretFile(operatorCredentialFile(dirs.dealer), 'operator');
  const userFile = path.join(dirs.gateway, 'user-credential');
  const user = await userCredentialFor(dirs.engine, userFile);
  const fingerprints = { engine: engine.identity.fingerprint, dealer: dealer.identity.fingerprint };
  return {
    dirs,
    env: {
      dealer: { PERMLLM_STATE_DIR: dirs.dealer, PERMLLM_ENGINE_FINGERPRINT: fingerprints.engine },
      engine: { PERMLLM_STATE_DIR: dirs.engine, PERMLLM_DEALER_FINGERPRINT: fingerprints.dealer, PERMLLM_DEALER_CREDENTIAL: link.secret },
      gateway: { PERMLLM_STATE_DIR: dirs.gateway, PERMLLM_CREDENTIAL: user, PERMLLM_ENGINE_FINGERPRINT: fingerprints.engine, PERMLLM_DEALER_FINGERPRINT: fingerprints.dealer },
    },
    fingerprints,
    operator: { engine: engineOperator.secret, dealer: dealerOperator.secret },
    userCredential: user,
    linkCredential: link.secret,
    files: [engine.file, dealer.file, linkCredentialFile(dirs.dealer), operatorCredentialFile(dirs.engine), operatorCredentialFile(dirs.dealer), userCredentialFile(dirs.engine), userFile],
  };
}
