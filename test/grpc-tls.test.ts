// gRPC over TLS with a CA generated at test time (openssl): server verification, mutual TLS,
// a wrong CA, `insecure`, TLS material as files and as PEM text, the pool's TLS option checks.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { connectGrpcAgent } from '../src/connection/grpc-agent-client.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { startGrpcAgent, waitFor } from './support/grpc-agents.js';
import { makeTestPkiFiles } from './support/test-pki-files.js';

const pki = makeTestPkiFiles();

const echo = { onRequestHeaders: (e: { uri: string }) => ({ requestHeaders: [{ op: 'set' as const, name: 'x-uri', value: e.uri }] }) };

describe('gRPC over TLS', () => {
  test('https:// with the test CA: handshake and events over TLS', async () => {
    const { endpoint } = await startGrpcAgent(echo, { tls: { cert: pki.serverCert, key: pki.serverKey } });
    assert.match(endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    const conn = await connectGrpcAgent(endpoint, { tls: { ca: pki.caCert } });
    const r = await conn.send('request_headers', requestHeaders('t', '/tls'), 't');
    assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-uri', value: '/tls' }]);
    conn.close();
  });

  test('TLS material as PEM text works the same; a bare host:port with TLS options uses TLS', async () => {
    const { endpoint } = await startGrpcAgent(echo, { tls: { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey) } });
    const conn = await connectGrpcAgent(endpoint.replace('https://', ''), { tls: { ca: pki.pem(pki.caCert) } });
    assert.equal((await conn.send('request_headers', requestHeaders('p'), 'p')).decision.type, 'allow');
    conn.close();
  });

  test('a certificate from another CA is refused (ZAP_CONNECT_FAILED); insecure skips the check', async () => {
    const { endpoint } = await startGrpcAgent(echo, { tls: { cert: pki.serverCert, key: pki.serverKey } });
    await assert.rejects(connectGrpcAgent(endpoint, { tls: { ca: pki.otherCaCert }, connectTimeoutMs: 3_000 }), (err: unknown) => {
      assert.ok(err instanceof AgentPoolError);
      assert.equal(err.code, 'ZAP_CONNECT_FAILED');
      assert.match(err.message, /certificate|self-signed|verify/i);
      return true;
    });
    const conn = await connectGrpcAgent(endpoint, { tls: { insecure: true } });
    assert.equal((await conn.send('request_headers', requestHeaders('i'), 'i')).decision.type, 'allow');
    conn.close();
  });

  test('mutual TLS: an agent with a CA requires a client certificate', async () => {
    const { endpoint } = await startGrpcAgent(echo, { tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert } });
    await assert.rejects(
      connectGrpcAgent(endpoint, { tls: { ca: pki.caCert }, connectTimeoutMs: 3_000, handshakeTimeoutMs: 3_000 }),
      (err: unknown) => {
        assert.ok(err instanceof AgentPoolError);
        assert.ok(['ZAP_CONNECT_FAILED', 'ZAP_HANDSHAKE_FAILED'].includes(err.code), err.code);
        return true;
      },
    );
    const conn = await connectGrpcAgent(endpoint, { tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } });
    assert.equal((await conn.send('request_headers', requestHeaders('m'), 'm')).decision.type, 'allow');
    conn.close();
  });

  test('a TCP peer that never answers the TLS handshake fails within connectTimeoutMs and is released', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    after(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const { port } = silent.address() as { port: number };
    await assert.rejects(connectGrpcAgent(`https://127.0.0.1:${port}`, { tls: { ca: pki.caCert }, connectTimeoutMs: 300 }), {
      code: 'ZAP_CONNECT_FAILED',
    });
    await waitFor(() => sockets.size === 0);
  });

  test('AgentPool: tls option per agent; bad TLS options are ZAP_INVALID_CONFIG', async () => {
    const { endpoint } = await startGrpcAgent(echo, { tls: { cert: pki.serverCert, key: pki.serverKey } });
    const pool = new AgentPool({ workers: 0 });
    after(() => pool.close());
    assert.deepEqual(await pool.addAgent('tls', endpoint, { connectionsPerAgent: 2, tls: { ca: pki.caCert } }), { ready: 2, errors: [] });
    assert.deepEqual((await pool.sendRequestHeaders('tls', 'c1', requestHeaders('c1', '/pool'))).requestHeaders, [
      { op: 'set', name: 'x-uri', value: '/pool' },
    ]);
    await assert.rejects(pool.addAgent('bad1', endpoint, { tls: { ca: '/nonexistent/ca.pem' } }), {
      code: 'ZAP_INVALID_CONFIG',
      message: /tls.*ca/,
    });
    await assert.rejects(pool.addAgent('bad2', endpoint, { tls: { cert: pki.clientCert } }), {
      code: 'ZAP_INVALID_CONFIG',
      message: /cert and key/,
    });
    await assert.rejects(pool.addAgent('bad3', endpoint, { tls: { verify: false } as never }), {
      code: 'ZAP_INVALID_CONFIG',
      message: /verify/,
    });
  });
});
