/**
 * The trust flags every server command shares (README "Security", docs/deploy.md): pinned
 * fingerprints, explicit trust-on-first-use, role credentials, and the rule that plain http/ws
 * leaves the machine only with `--insecure`.
 */
import { z } from 'zod';
import { FINGERPRINT_PATTERN } from '../crypto/identity.js';
import { isLoopback, tokenSchema } from './common-schemas.js';
import type { CrossCheck, FlagDefinitions } from './parse-flags.js';

export const fingerprintSchema = z.string().regex(FINGERPRINT_PATTERN, 'expected a fingerprint like SHA256:<43 base64 characters>, as the other party prints it');

export const credentialSchema = tokenSchema;

export const insecureFlag: FlagDefinitions = {
  insecure: { type: 'boolean', help: 'allow plain http/ws to or on a non-loopback host (credentials and the pairing key would cross the network in clear)' },
};

export const tofuFlag: FlagDefinitions = {
  'trust-on-first-use': { type: 'boolean', help: 'with no fingerprint pinned, record the key the peer shows on first contact (refused if it changes later)' },
};

export const trustFlagShape = {
  insecure: z.boolean().default(false),
  'trust-on-first-use': z.boolean().default(false),
};

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
};

/** Plain http:// to a non-loopback host, in any of `flags`, is refused unless --insecure. */
export function plainLinkCheck(flags: readonly string[]): CrossCheck {
  return (raw) => {
    if (raw['insecure'] === true) return undefined;
    for (const flag of flags) {
      const value = raw[flag];
      if (typeof value !== 'string' || !/^(http|ws):\/\//i.test(value)) continue;
      const host = hostOf(value);
      if (host !== undefined && !isLoopback(host)) return { flag, message: `${value} is a plain-text link to another machine: use https:// (with --ca if needed), or pass --insecure` };
    }
    return undefined;
  };
}

/** A server on a non-loopback interface without TLS is refused unless --insecure. */
export const plainServerCheck: CrossCheck = (raw) => {
  const host = raw['host'];
  if (raw['insecure'] === true || typeof host !== 'string' || isLoopback(host) || raw['tls-cert'] !== undefined) return undefined;
  return { flag: 'host', message: `serving on ${host} without TLS would send credentials in clear: give --tls-cert/--tls-key, or pass --insecure` };
};
