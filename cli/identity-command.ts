/**
 * `permllm identity --state-dir DIR`: prints the fingerprint of the identity in a state folder,
 * creating it first if there is none, so that operators can exchange fingerprints before either
 * server starts (docs/deploy.md). The engine and the dealer use the same file (identity.pem).
 */
import { z } from 'zod';
import { readCommandLine, usageText, type FlagDefinitions } from '../config/parse-flags.js';
import { SigningIdentity } from '../crypto/identity.js';

const flags: FlagDefinitions = {
  'state-dir': { type: 'string', env: 'PERMLLM_STATE_DIR', value: 'DIR', help: 'the engine\'s or the dealer\'s state folder' },
};
const schema = z.object({ 'state-dir': z.string().min(1) });
const USAGE = usageText('identity', 'Print (creating it if needed) the identity fingerprint kept in a state folder.', flags);

export async function run(argv: string[]): Promise<number> {
  const read = readCommandLine('identity', USAGE, argv, flags, schema);
  if ('exitCode' in read) return read.exitCode;
  const { identity, file, created } = await SigningIdentity.loadOrCreate(read.config['state-dir']);
  process.stderr.write(`${created ? 'created' : 'loaded'} ${file}\n`);
  process.stdout.write(`${identity.fingerprint}\n`);
  return 0;
}
