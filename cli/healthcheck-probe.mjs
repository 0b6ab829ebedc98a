// @ts-check
/**
 * `permllm healthcheck` (the image's Docker HEALTHCHECK) in plain JavaScript, so that
 * bin/permllm.mjs can answer the common case before it sets up the TypeScript loader: a probe
 * every 15 s cost about 0.5 s of CPU through tsx, the probe itself a tenth of that.
 *
 * One source of truth for both paths (cli/healthcheck-command.ts is the other):
 * - what is probed: the environment variables and defaults below, from which
 *   config/healthcheck-config.ts builds its flags;
 * - how: probeHealthz(), which both paths call (exit 0 on HTTP 200, else 1 with one line on
 *   stderr); /healthz is public, so no credential is sent; an https URL trusts the CA file's
 *   certificates only when one is given, else the default roots;
 * - PEM files are read by config/pem-file.mjs, as every other PEM flag.
 * fastHealthcheck() takes only the plain case (no command-line arguments, every environment
 * value well-formed) and answers undefined for anything else, which the TypeScript command then
 * handles with its full validation, messages and exit code 2 (tests/cli/healthcheck.test.ts
 * checks that the two agree).
 */
import http from 'node:http';
import https from 'node:https';
import { readPemFile } from '../config/pem-file.mjs';

/** The environment variable of each `permllm healthcheck` flag. */
export const HEALTHCHECK_ENV = Object.freeze({
  url: 'PERMLLM_HEALTHCHECK_URL',
  ca: 'PERMLLM_CA_FILE',
  timeoutMs: 'PERMLLM_HEALTHCHECK_TIMEOUT_MS',
});

/** --timeout-ms when neither the flag nor its variable is given. */
export const DEFAULT_HEALTHCHECK_TIMEOUT_MS = 3000;

/**
 * What is probed without --url: the role's own /healthz on loopback, http://127.0.0.1:$PORT/healthz
 * with PORT defaulting to 8080 (an empty PORT counts as unset).
 * @param {Record<string, string | undefined>} env
 * @returns {string}
 */
export function defaultHealthcheckUrl(env) {
  return `http://127.0.0.1:${env['PORT'] || '8080'}/healthz`;
}

/**
 * @typedef {{ url: string, ca?: string | undefined, timeoutMs: number }} HealthcheckTarget
 * `url` to probe, `ca` the PEM text to trust for https (else the default roots), `timeoutMs`
 * the whole probe's deadline.
 */

/**
 * GET `url` once, without keep-alive; 0 when it answers 200 within `timeoutMs`, else 1 after one
 * line on `stderr` saying why. Never throws.
 * @param {HealthcheckTarget} target
 * @param {{ write(text: string): unknown }} [stderr]
 * @returns {Promise<number>}
 */
export function probeHealthz({ url, ca, timeoutMs }, stderr = process.stderr) {
  return new Promise((resolve) => {
    let settled = false;
    /** @param {number} code @param {string} [problem] */
    const finish = (code, problem) => {
      if (settled) return;
      settled = true;
      if (problem !== undefined) stderr.write(`permllm healthcheck: ${problem}\n`);
      resolve(code);
    };
    let target;
    try {
      target = new URL(url);
    } catch {
      finish(1, `${url}: not a URL`);
      return;
    }
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (client === undefined) {
      finish(1, `${url}: only http and https can be probed`);
      return;
    }
    /** @type {https.RequestOptions} */
    const options = { agent: false, signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } };
    if (ca !== undefined) options.ca = ca;
    try {
      const request = client.get(target, options, (response) => {
        const status = response.statusCode ?? 0;
        response.destroy();
        finish(status === 200 ? 0 : 1, status === 200 ? undefined : `${url} answered ${status}`);
      });
      request.on('error', (error) => {
        const timedOut = error.name === 'AbortError' || error.name === 'TimeoutError';
        finish(1, `${url}: ${timedOut ? `no answer within ${timeoutMs} ms` : error.message}`);
      });
    } catch (error) {
      finish(1, `${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/**
 * The probe's target from the environment alone, when the command line is empty and every
 * value is well-formed; undefined otherwise (the TypeScript command then parses, validates and
 * reports). Empty variables count as unset, as everywhere in config/parse-flags.ts.
 * @param {readonly string[]} argv the arguments after `healthcheck`
 * @param {Record<string, string | undefined>} env
 * @returns {HealthcheckTarget | undefined}
 */
export function plainHealthcheckTarget(argv, env) {
  if (argv.length > 0) return undefined;
  const value = (/** @type {string} */ name) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const url = value(HEALTHCHECK_ENV.url) ?? defaultHealthcheckUrl(env);
  if (!/^https?:$/.test(safeProtocol(url))) return undefined;
  const timeoutText = value(HEALTHCHECK_ENV.timeoutMs);
  const timeoutMs = timeoutText === undefined ? DEFAULT_HEALTHCHECK_TIMEOUT_MS : Number(timeoutText);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) return undefined;
  const caFile = value(HEALTHCHECK_ENV.ca);
  if (caFile === undefined) return { url, timeoutMs };
  const pem = readPemFile(caFile);
  return 'text' in pem ? { url, ca: pem.text, timeoutMs } : undefined;
}

/** @param {string} url */
function safeProtocol(url) {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

/**
 * bin/permllm.mjs's fast path: the exit code of the probe, or undefined when the TypeScript
 * command must run instead (flags, --help, a malformed variable).
 * @param {readonly string[]} argv
 * @param {Record<string, string | undefined>} env
 * @returns {Promise<number | undefined>}
 */
export async function fastHealthcheck(argv, env) {
  const target = plainHealthcheckTarget(argv, env);
  return target === undefined ? undefined : probeHealthz(target);
}
