#!/usr/bin/env node
/**
 * A self-signed TLS certificate for a compose demo, from node:crypto alone (the image has no
 * openssl): an ECDSA P-256 key and an X.509 v3 certificate, signed by that key, naming the
 * given DNS names and IP addresses in its subjectAltName, the same kind of file as
 * docs/deploy.md's `openssl req -x509 -newkey ec ...` step.
 *
 *   node tls-cert.mjs --cn dealer --san DNS:dealer,DNS:localhost,IP:127.0.0.1 \
 *     --days 365 --cert dealer.pem --key dealer.key
 *
 * The key file is written 0600. A real deployment uses certificates from its own CA instead.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';

// DER (X.690) encoding of the few ASN.1 types a certificate needs.
const der = (tag, body) => {
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : (() => {
    const bytes = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    return Buffer.from([0x80 | bytes.length, ...bytes]);
  })();
  return Buffer.concat([Buffer.from([tag]), length, body]);
};
const seq = (...items) => der(0x30, Buffer.concat(items));
const set = (...items) => der(0x31, Buffer.concat(items));
const explicit = (n, item) => der(0xa0 + n, item);
const octets = (bytes) => der(0x04, bytes);
const bits = (bytes) => der(0x03, Buffer.concat([Buffer.from([0]), bytes]));
const bool = (value) => der(0x01, Buffer.from([value ? 0xff : 0]));
const utf8 = (text) => der(0x0c, Buffer.from(text, 'utf8'));
const int = (bytes) => der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const oid = (dotted) => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const groups = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      groups.unshift((v & 0x7f) | (groups.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
};
// UTCTime (YYMMDDHHMMSSZ) until 2049, GeneralizedTime after, as RFC 5280 asks.
const time = (date) => {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
};

const generalName = (entry) => {
  const [kind, value] = [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)];
  if (kind === 'DNS' && /^[A-Za-z0-9.*-]+$/.test(value)) return der(0x82, Buffer.from(value, 'ascii'));
  if (kind === 'IP' && isIPv4(value)) return der(0x87, Buffer.from(value.split('.').map(Number)));
  throw new Error(`--san: expected DNS:name or IP:a.b.c.d, got ${JSON.stringify(entry)}`);
};

const { values } = parseArgs({
  options: { cn: { type: 'string' }, san: { type: 'string' }, days: { type: 'string', default: '365' }, cert: { type: 'string' }, key: { type: 'string' } },
});
if (!values.cn || !values.san || !values.cert || !values.key) {
  process.stderr.write('usage: tls-cert.mjs --cn NAME --san DNS:a,IP:b [--days N] --cert FILE --key FILE\n');
  process.exit(2);
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spki = publicKey.export({ type: 'spki', format: 'der' });
const name = seq(set(seq(oid('2.5.4.3'), utf8(values.cn))));
const now = Date.now();
const serial = randomBytes(16);
serial[0] &= 0x7f;
// subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1); the
// key bits are the last 65 bytes of a P-256 SPKI (uncompressed point).
const keyId = createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
const extensions = seq(
  seq(oid('2.5.29.19'), bool(true), octets(seq(bool(true)))), // basicConstraints: CA (its own trust anchor), critical
  seq(oid('2.5.29.15'), bool(true), octets(der(0x03, Buffer.from([0x02, 0x84])))), // keyUsage: digitalSignature, keyCertSign, critical
  seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1')))), // extendedKeyUsage: serverAuth
  seq(oid('2.5.29.14'), octets(octets(keyId))), // subjectKeyIdentifier
  seq(oid('2.5.29.17'), octets(seq(...values.san.split(',').map((s) => generalName(s.trim()))))), // subjectAltName
);
const tbs = seq(
  explicit(0, int(Buffer.from([2]))), // v3
  int(serial),
  ECDSA_SHA256,
  name,
  seq(time(new Date(now - 60_000)), time(new Date(now + Number(values.days) * 86_400_000))),
  name,
  spki,
  explicit(3, extensions),
);
const certificate = seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, privateKey)));
const pem = (label, body) => `-----BEGIN ${label}-----\n${body.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
writeFileSync(values.cert, pem('CERTIFICATE', certificate));
writeFileSync(values.key, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
