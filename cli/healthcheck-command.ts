/**
 * `permllm healthcheck`: exit 0 when a role's /healthz answers 200 within the timeout, else 1
 * (2 for a bad flag or variable). The image's Docker HEALTHCHECK runs it; each service sets
 * PERMLLM_HEALTHCHECK_URL (and PERMLLM_CA_FILE for https with a private CA). bin/permllm.mjs
 * answers the plain case (no flags, well-formed variables) itself, with the same probe
 * (cli/healthcheck-probe.mjs), before the TypeScript loader; this command takes everything else.
 */
import { healthcheckConfigSchema, healthcheckFlags } from '../config/healthcheck-config.js';
import { readCommandLine, usageText } from '../config/parse-flags.js';
import { type HealthcheckTarget, defaultHealthcheckUrl, probeHealthz } from './healthcheck-probe.mjs';

const USAGE = usageText('healthcheck', 'Probe a role\'s /healthz (for Docker HEALTHCHECK): exit 0 when it answers 200.', healthcheckFlags);

/** The probe's target from the command line and environment, or the exit code (usage, problems). */
export function healthcheckTarget(argv: string[], env: NodeJS.ProcessEnv = process.env): HealthcheckTarget | { exitCode: number } {
  const read = readCommandLine('healthcheck', USAGE, argv, healthcheckFlags, healthcheckConfigSchema, [], env);
  if ('exitCode' in read) return read;
  const { config } = read;
  return { url: config.url ?? defaultHealthcheckUrl(env), ca: config.ca, timeoutMs: config['timeout-ms'] };
}

export async function run(argv: string[]): Promise<number> {
  const target = healthcheckTarget(argv);
  return 'exitCode' in target ? target.exitCode : probeHealthz(target);
}
