// @ts-check
/**
 * Reading a PEM file flag (--ca, --tls-cert, --tls-key, $PERMLLM_CA_FILE): one rule for every
 * command, in plain JavaScript so that the healthcheck's fast path (cli/healthcheck-probe.mjs)
 * reads the CA file exactly as config/common-schemas.ts's pemFileSchema does.
 */
import { readFileSync } from 'node:fs';

/**
 * The file's text when it is readable and holds a PEM block, else the problem in words.
 * @param {string} file
 * @returns {{ text: string } | { problem: string }}
 */
export function readPemFile(file) {
  try {
    const text = readFileSync(file, 'utf8');
    return text.includes('-----BEGIN') ? { text } : { problem: `${file} is not a PEM file` };
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    return { problem: `cannot read ${file}: ${code ?? String(error)}` };
  }
}
