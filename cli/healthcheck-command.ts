/**
 * `permllm healthcheck`: exit 0 when a role's /healthz answers 200 within the timeout, else 1.
 * The image's Docker HEALTHCHECK runs it; each service sets PERMLLM_HEALTHCHECK_URL (and
 * PERMLLM_CA_FILE for https with a private CA).
 */
import { Agent, request } from 'undici';
import { healthcheckConfigSchema, healthcheckFlags } from '../config/healthcheck-config.js';
import { readCommandLine, usageText } from '../config/parse-flags.js';

const USAGE = usageText('healthcheck', 'Probe a role\'s /healthz (for Docker HEALTHCHECK): exit 0 when it answers 200.', healthcheckFlags);

export async function run(argv: string[]): Promise<number> {
  const read = readCommandLine('healthcheck', USAGE, argv, healthcheckFlags, healthcheckConfigSchema);
  if ('exitCode' in read) return read.exitCode;
  const { config } = read;
  const url = config.url ?? `http://127.0.0.1:${process.env['PORT'] || '8080'}/healthz`;
  const dispatcher = new Agent(config.ca === undefined ? {} : { connect: { ca: config.ca } });
  try {
    const response = await request(url, { dispatcher, signal: AbortSignal.timeout(config['timeout-ms']) });
    await response.body.dump();
    if (response.statusCode === 200) return 0;
    process.stderr.write(`permllm healthcheck: ${url} answered ${response.statusCode}\n`);
    return 1;
  } catch (error) {
    process.stderr.write(`permllm healthcheck: ${url}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await dispatcher.close();
  }
}
