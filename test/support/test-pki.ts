// A throw-away PKI generated at test time: a CA, a server certificate for 127.0.0.1 / localhost, a
// client certificate signed by the CA, and a self-signed "rogue" client certificate. Made with the
// `openssl` command when it exists, else with node:crypto and a minimal DER writer (set
// ZAP_TEST_PKI=node to force that path). All EC P-256, valid for one day.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  via: 'openssl' | 'node:crypto';
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
}

export function makeTestPki(): TestPki {
  if (process.env['ZAP_TEST_PKI'] !== 'node' && hasOpenssl()) return viaOpenssl();
  return viaNodeCrypto();
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function viaOpenssl(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'zap-pki-'));
  try {
    const f = (name: string) => join(dir, name);
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    run('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=zap test CA');
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const who of ['server', 'client']) {
      run('req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=zap test ${who}`);
      run(
        'x509',
        '-req',
        '-in',
        f(`${who}.csr`),
        '-CA',
        f('ca.pem'),
        '-CAkey',
        f('ca.key'),
        '-CAcreateserial',
        '-out',
        f(`${who}.pem`),
        '-days',
        '1',
        '-extfile',
        f(`${who}.ext`),
      );
    }
    run('req', '-x509', ...ec, '-keyout', f('rogue.key'), '-out', f('rogue.pem'), '-days', '1', '-subj', '/CN=zap rogue');
    const r = (name: string) => readFileSync(f(name), 'utf8');
    return {
      via: 'openssl',
      caCert: r('ca.pem'),
      serverCert: r('server.pem'),
      serverKey: r('server.key'),
      clientCert: r('client.pem'),
      clientKey: r('client.key'),
      rogueCert: r('rogue.pem'),
      rogueKey: r('rogue.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- node:crypto: just enough DER for an X.509 v3 certificate --------------------------------------

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) {
    length = Buffer.from([n]);
  } else {
    const hex = n.toString(16);
    const bytes = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
    length = Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const octets = (b: Buffer) => der(0x04, b);
const bool = (v: boolean) => der(0x01, Buffer.from([v ? 0xff : 0]));
const bits = (b: Buffer) => der(0x03, Buffer.concat([Buffer.from([0]), b]));
const explicit = (n: number, content: Buffer) => der(0xa0 + n, content);

function int(bytes: Buffer): Buffer {
  return der(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (let v of rest) {
    const enc = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) enc.unshift((v & 0x7f) | 0x80);
    out.push(...enc);
  }
  return der(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const text =
    `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}` +
    `${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return der(0x17, Buffer.from(text));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn)))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

interface Party {
  cn: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

function party(cn: string): Party {
  return { cn, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
}

function certificate(subject: Party, issuer: Party, kind: 'ca' | 'server' | 'client'): string {
  const now = Date.now();
  const extensions: Buffer[] = [seq(oid('2.5.29.19'), bool(true), octets(kind === 'ca' ? seq(bool(true)) : seq()))];
  if (kind === 'server') {
    const san = seq(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost')));
    extensions.push(seq(oid('2.5.29.17'), octets(san)));
  }
  // DER wants a positive INTEGER in its fewest bytes: a first byte of 0x01–0x7f is both (a zero first
  // byte is "illegal padding" to OpenSSL, which then refuses the certificate).
  const serial = randomBytes(8);
  serial[0] = ((serial[0] as number) % 0x7f) + 1;
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(serial),
    ECDSA_SHA256,
    name(issuer.cn),
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name(subject.cn),
    subject.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const cert = seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, issuer.privateKey)));
  const b64 = cert.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

function pem(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function viaNodeCrypto(): TestPki {
  const ca = party('zap test CA');
  const server = party('zap test server');
  const client = party('zap test client');
  const rogue = party('zap rogue');
  return {
    via: 'node:crypto',
    caCert: certificate(ca, ca, 'ca'),
    serverCert: certificate(server, ca, 'server'),
    serverKey: pem(server.privateKey),
    clientCert: certificate(client, ca, 'client'),
    clientKey: pem(client.privateKey),
    rogueCert: certificate(rogue, rogue, 'ca'),
    rogueKey: pem(rogue.privateKey),
  };
}
