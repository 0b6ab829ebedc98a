/**
 * `permllm credentials issue|revoke|list`: the engine operator's user credentials
 * (engine/server/user-credential-store.ts), edited in the engine's state folder; a running
 * engine picks the change up at once.
 *
 *   permllm credentials issue --name alice [--max-sessions 2] [--state-dir DIR]   prints the secret once
 *   permllm credentials revoke --name alice|ID [--state-dir DIR]
 *   permllm credentials list [--state-dir DIR]
 */
import { z } from 'zod';
import { defaultStateDir, positiveIntSchema } from '../config/common-schemas.js';
import { readCommandLine, usageText, type FlagDefinitions } from '../config/parse-flags.js';
import { issueUserCredential, listUserCredentials, revokeUserCredential, userCredentialFile } from '../engine/server/user-credential-store.js';

const flags: FlagDefinitions = {
  name: { type: 'string', value: 'NAME', help: 'issue: who the credential is for; revoke: that name or the credential id' },
  'max-sessions': { type: 'string', value: 'N', help: 'issue: sessions this credential may run at once (default 4)' },
  'state-dir': { type: 'string', env: 'PERMLLM_STATE_DIR', value: 'DIR', help: 'the engine\'s state folder (default ~/.local/state/permllm/engine)' },
};

const schema = z.object({
  name: z.string().min(1).max(100).regex(/^[^\s]+$/, 'no whitespace').optional(),
  'max-sessions': positiveIntSchema.default(4),
  'state-dir': z.string().min(1).default(defaultStateDir('engine')),
});

const USAGE = `${usageText('credentials', 'User credentials of this engine: issue (prints the secret once), revoke, list.', flags)}\nactions: permllm credentials issue|revoke|list [flags]\n`;

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'issue' && action !== 'revoke' && action !== 'list') {
    process.stderr.write(`permllm credentials: expected issue, revoke or list\n\n${USAGE}`);
    return 2;
  }
  const read = readCommandLine('credentials', USAGE, rest, flags, schema);
  if ('exitCode' in read) return read.exitCode;
  const { config } = read;
  const dir = config['state-dir'];
  if (action === 'list') {
    for (const u of await listUserCredentials(dir)) process.stdout.write(`${u.id}  ${u.name}  max-sessions ${u.maxSessions}  created ${u.created}${u.revoked ? `  REVOKED ${u.revoked}` : ''}\n`);
    return 0;
  }
  if (config.name === undefined) {
    process.stderr.write(`permllm credentials ${action}: --name is required\n`);
    return 2;
  }
  if (action === 'issue') {
    const { record, secret } = await issueUserCredential(dir, config.name, config['max-sessions']);
    process.stderr.write(`issued credential ${record.id} for ${record.name} (max ${record.maxSessions} sessions) in ${userCredentialFile(dir)}; hand over the secret below once, it is not stored:\n`);
    process.stdout.write(`${secret}\n`);
    return 0;
  }
  const n = await revokeUserCredential(dir, config.name);
  process.stderr.write(n > 0 ? `revoked ${n} credential(s)\n` : `no live credential named or numbered ${config.name}\n`);
  return n > 0 ? 0 : 1;
}
