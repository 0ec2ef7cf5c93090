// `zap agent --listen <gRPC endpoint>` and `zap call <gRPC endpoint>`, both as real child processes
// of the compiled CLI (build first: npx tsc -p tsconfig.build.json).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTestPkiFiles } from './support/test-pki-files.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

async function startAgent(args: string[]): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`agent exited early with ${code}: ${err}`)));
  });
  return { endpoint, child };
}

async function call(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'call', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

const pki = makeTestPkiFiles();

describe('zap call ↔ zap agent over gRPC', () => {
  test('cleartext: port 0 is reported with its real port; grpc:// and http:// both reach it', async () => {
    const { endpoint } = await startAgent(['--listen', '127.0.0.1:0', '--example', 'echo']);
    assert.match(endpoint, /^grpc:\/\/127\.0\.0\.1:\d+$/);
    const event = JSON.stringify({ metadata: { correlation_id: 'g-1' }, method: 'POST', uri: '/cart', headers: {} });
    const r = await call([endpoint, '--event', '-'], event);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    assert.equal(reply['decision'], 'allow');
    assert.equal(reply['correlation_id'], 'g-1');
    assert.deepEqual(reply['request_headers'], [{ set: { name: 'x-agent-echo', value: 'POST /cart' } }]);
    const hs = await call([endpoint.replace('grpc://', 'http://'), '--handshake']);
    assert.equal(hs.code, 0, hs.stderr);
    assert.equal((JSON.parse(hs.stdout) as { success: boolean }).success, true);
  });

  test('prints what the agent sent: no cid in audit.custom, no handshake encoding; --verbose adds a separate "zap" key', async () => {
    const { endpoint } = await startAgent(['--listen', '127.0.0.1:0', '--example', 'echo']);
    const event = JSON.stringify({ metadata: { correlation_id: 'g-2' }, uri: '/', headers: {} });
    const plain = JSON.parse((await call([endpoint, '--event', '-'], event)).stdout) as Record<string, unknown>;
    // Regression: audit.custom.correlation_id (the UDS JSON form) was printed though a gRPC agent never sends it.
    assert.deepEqual((plain['audit'] as { custom: unknown }).custom, {});
    assert.equal(plain['correlation_id'], 'g-2');
    assert.equal(plain['zap'], undefined);
    const verbose = JSON.parse((await call([endpoint, '--event', '-', '--verbose'], event)).stdout) as Record<string, unknown>;
    assert.deepEqual(verbose['zap'], { transport: 'grpc', encoding: 'protobuf', agent: endpoint });
    // Regression: the handshake printed "encoding":"json" while the pool reports protobuf.
    const hs = JSON.parse((await call([endpoint, '--handshake'])).stdout) as Record<string, unknown>;
    assert.equal('encoding' in hs, false);
    const hsVerbose = JSON.parse((await call([endpoint, '--handshake', '--verbose'])).stdout) as Record<string, unknown>;
    assert.equal((hsVerbose['zap'] as { encoding: string }).encoding, 'protobuf');
  });

  test('TLS with client certificates (files made at test time)', async () => {
    const { endpoint } = await startAgent([
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      pki.serverCert,
      '--tls-key',
      pki.serverKey,
      '--tls-ca',
      pki.caCert,
    ]);
    assert.match(endpoint, /^https:\/\//);
    const ok = await call([endpoint, '--ca', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey]);
    assert.equal(ok.code, 0, ok.stderr);
    const noCa = await call([endpoint, '--timeout', '2000']);
    assert.notEqual(noCa.code, 0);
    assert.match(noCa.stderr, /ZAP_(CONNECT|HANDSHAKE)_FAILED/);
  });

  test('nothing listening: one typed error line, non-zero exit', async () => {
    const r = await call(['grpc://127.0.0.1:1', '--timeout', '1000']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^ZAP_CONNECT_FAILED: /);
  });
});
