// The test PKI (test-pki.ts) written to files under the OS temp dir, for options and flags that take
// paths (gRPC TLS, the CLI's --tls-* flags). The self-signed rogue certificate stands in for an
// unrelated CA. Removed after the file's tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { makeTestPki } from './test-pki.js';

export interface TestPkiFiles {
  /** File paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  /** PEM text of a file. */
  pem(path: string): string;
}

export function makeTestPkiFiles(): TestPkiFiles {
  const pki = makeTestPki();
  const dir = mkdtempSync(join(tmpdir(), 'zap-pki-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return {
    caCert: file('ca.crt', pki.caCert),
    serverCert: file('server.crt', pki.serverCert),
    serverKey: file('server.key', pki.serverKey),
    clientCert: file('client.crt', pki.clientCert),
    clientKey: file('client.key', pki.clientKey),
    otherCaCert: file('other-ca.crt', pki.rogueCert),
    pem: (path) => readFileSync(path, 'utf8'),
  };
}
