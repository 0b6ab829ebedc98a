/**
 * deploy/scripts/tls-cert.mjs, the compose demo's self-signed certificates (node:crypto only,
 * since the image has no openssl): the certificate is well-formed, signed by its own key, names
 * exactly what it was asked to, and a TLS client that trusts it reaches that name and no other.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = path.resolve(import.meta.dirname, '../../deploy/scripts/tls-cert.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'permllm-tls-cert-'));
const certFile = path.join(dir, 'dealer.pem');
const keyFile = path.join(dir, 'dealer.key');
let server: Server;
let port: number;

/** Resolves with the TLS outcome of connecting to the server under `servername`. */
function handshake(servername: string, ca?: string): Promise<'ok' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ...(ca === undefined ? {} : { ca }) }, () => {
      socket.end();
      resolve('ok');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [script, '--cn', 'dealer', '--san', 'DNS:dealer,DNS:localhost,IP:127.0.0.1', '--days', '30', '--cert', certFile, '--key', keyFile]);
  server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy/scripts/tls-cert.mjs', () => {
  it('writes a self-signed P-256 certificate for the names asked, with its key private to the owner', () => {
    const cert = new X509Certificate(readFileSync(certFile));
    expect(cert.subject).toBe('CN=dealer');
    expect(cert.issuer).toBe('CN=dealer');
    expect(cert.subjectAltName).toBe('DNS:dealer, DNS:localhost, IP Address:127.0.0.1');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThan(31);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
  });

  it('is trusted for its own names only, and only by a client that was given it', async () => {
    const ca = readFileSync(certFile, 'utf8');
    expect(await handshake('dealer', ca)).toBe('ok');
    expect(await handshake('localhost', ca)).toBe('ok');
    expect(await handshake('engine', ca)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(await handshake('dealer')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});
