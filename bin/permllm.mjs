#!/usr/bin/env node
// The permllm command. TypeScript sources run through tsx's loader (no build step), except the
// plain `permllm healthcheck` (the Docker HEALTHCHECK, no flags): cli/healthcheck-probe.mjs
// answers it in plain JavaScript, without the loader's ~0.4 s of CPU per probe, and hands
// anything else (flags, --help, a malformed variable) to the TypeScript command.
const argv = process.argv.slice(2);
let exitCode;
if (argv[0] === 'healthcheck') {
  const { fastHealthcheck } = await import('../cli/healthcheck-probe.mjs');
  exitCode = await fastHealthcheck(argv.slice(1), process.env);
}
if (exitCode === undefined) {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  exitCode = await main(argv);
}
process.exitCode = exitCode;
