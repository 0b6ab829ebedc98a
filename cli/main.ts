/**
 * `permllm <command> [flags]`: one binary for every role. Each command lives in its own file
 * under cli/ and exports `run(argv): Promise<number>` (the exit code). Commands are imported
 * lazily so that `permllm generate` does not load the HTTP stack and vice versa.
 */
type CommandModule = { run(argv: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  generate: { summary: 'one completion in one process (private unless --plaintext)', load: () => import('./generate-command.js') },
  engine: { summary: 'the model owner\'s server (P0)', load: () => import('./engine-command.js') },
  dealer: { summary: 'the helper\'s server (P2)', load: () => import('./dealer-command.js') },
  gateway: { summary: 'the user\'s OpenAI-compatible gateway (P1) for a remote engine and dealer', load: () => import('./gateway-command.js') },
  identity: { summary: 'print (creating it if needed) the identity fingerprint in a state folder', load: () => import('./identity-command.js') },
  credentials: { summary: 'issue, revoke or list the engine\'s user credentials', load: () => import('./credentials-command.js') },
  start: { summary: 'engine, dealer and gateway on this machine (npm start)', load: () => import('./start-command.js') },
  bench: { summary: 'private vs plaintext: time, flights, bytes, emulated links', load: () => import('./bench-command.js') },
  healthcheck: { summary: 'probe a role\'s /healthz (Docker HEALTHCHECK): exit 0 when healthy', load: () => import('./healthcheck-command.js') },
  synthesize: { summary: 'write a synthetic model (seeded weights, real tokenizer) as a Hugging Face folder', load: () => import('./synthesize-command.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: permllm <command> [flags]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`permllm: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (error) {
    process.stderr.write(`permllm ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
