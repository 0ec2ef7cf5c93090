// Reverse connections over TCP + TLS (spec §9.1) with a CA made at test time: with a client CA the
// listener admits only agents presenting a certificate it signed; without one, any TLS client.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { after, describe, test } from 'node:test';
import { ReverseConnector } from '../src/agent/reverse-connector.js';
import type { ReverseTlsOptions } from '../src/agent/reverse-dial.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { jsonBytes, registrationBody, tcpTarget, waitUntil } from './support/reverse-raw-agent.js';
import { makeTestPki, type TestPki } from './support/test-pki.js';
import { within } from './support/wait-for.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';

const pools = new Map<number, AgentPool>();
after(() => Promise.all([...pools.values()].map((p) => p.destroy())));

/** Registration token (TLS protects it on the wire). */
const TOKEN = 'tls-registration-token';

/** A TLS listener on the (shared, per workers value) pool; `registered` lists what it admitted. */
async function tlsPool(pki: TestPki, workers: number, verifyClients: boolean) {
  let pool = pools.get(workers);
  if (pool === undefined) pools.set(workers, (pool = new AgentPool({ workers })));
  // Agent ids are unique across this file, so what the pool admitted is what this listener admitted.
  const registered: string[] = [];
  const onRegistered = (agentId: string) => registered.push(agentId);
  pool.on('reverse-registered', onRegistered);
  after(() => pool.off('reverse-registered', onRegistered));
  const handle = await pool.listenReverse({
    tcpAddress: '127.0.0.1:0',
    tls: { cert: pki.serverCert, key: pki.serverKey, ...(verifyClients ? { ca: pki.caCert } : {}) },
    authTokens: TOKEN,
    allowUndeclaredAgents: true,
  });
  after(() => handle.close());
  return { pool, handle, registered };
}

function agent(tcpAddress: string, agentId: string, tls: ReverseTlsOptions) {
  const c = new ReverseConnector({
    endpoint: `tls://${tcpAddress}`,
    agentId,
    tls,
    authToken: TOKEN,
    handler: { onRequestHeaders: (e, ctx) => ({ audit: { tags: [ctx.transport, e.uri] } }) },
    backoff: { initialMs: 10, maxMs: 20 },
  });
  after(() => c.close());
  let failures = 0;
  c.on('retry', () => failures++);
  return { c, failures: () => failures };
}

const pki = makeTestPki();

for (const workers of [0, 1]) {
  describe(`reverse TLS (${pki.via} PKI), workers: ${workers}`, () => {
    test('client certificates required: signed by the CA → admitted; none or rogue → refused by TLS', async () => {
      const { pool, handle, registered } = await tlsPool(pki, workers, true);
      const address = handle.tcpAddress as string;
      const good = agent(address, 'good', { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
      const bare = agent(address, 'bare', { ca: pki.caCert });
      const rogue = agent(address, 'rogue', { ca: pki.caCert, cert: pki.rogueCert, key: pki.rogueKey });
      await Promise.all([good.c.start(), bare.c.start(), rogue.c.start()]);
      await waitUntil(() => good.c.registeredConnections > 0, 'good registered');
      await waitUntil(() => pool.agentIds().includes('good') && pool.agentStats('good').healthyConnections === 1, 'good ready');
      const r = await pool.sendRequestHeaders('good', 'g-1', requestHeaders('g-1', '/tls'));
      assert.deepEqual(r.audit.tags, ['reverse', '/tls']);
      // The others keep failing at the TLS layer and never reach registration.
      await waitUntil(() => bare.failures() >= 3 && rogue.failures() >= 3, 'repeated TLS failures');
      assert.equal(bare.c.registeredConnections + rogue.c.registeredConnections, 0);
      assert.deepEqual(registered, ['good']);

      // A raw TLS client without a certificate never gets a registration reply, only the close.
      const { host, port } = tcpTarget(address) as { host: string; port: number };
      const closedWithout = new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const s = tlsConnect({ host, port, ca: pki.caCert }, () => s.write(encodeFrame(0x01, jsonBytes(registrationBody('raw')))));
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('error', () => {});
        s.on('close', () => resolve(Buffer.concat(chunks)));
      });
      const received = await within(closedWithout, 'the listener to close a client without a certificate');
      assert.equal(received.length, 0);
      assert.deepEqual(registered, ['good']);
    });

    test('server-only TLS: any client that trusts the server is admitted; a cleartext client is not', async () => {
      const { pool, handle } = await tlsPool(pki, workers, false);
      const address = handle.tcpAddress as string;
      const a = agent(address, 'anon', { ca: pki.caCert });
      await a.c.start();
      await waitUntil(() => pool.agentIds().includes('anon') && pool.agentStats('anon').healthyConnections === 1, 'anon ready');
      const r = await pool.sendRequestHeaders('anon', 'a-1', requestHeaders('a-1', '/anon'));
      assert.deepEqual(r.audit.tags, ['reverse', '/anon']);
      // Cleartext registration on the TLS port: no registration happens.
      const plain = new ReverseConnector({
        endpoint: `tcp://${address}`,
        agentId: 'plain',
        registrationTimeoutMs: 300,
        backoff: { initialMs: 10, maxMs: 20 },
      });
      after(() => plain.close());
      let failures = 0;
      plain.on('retry', () => failures++);
      await plain.start();
      await waitUntil(() => failures >= 2, 'cleartext failures');
      assert.equal(plain.registeredConnections, 0);
      assert.equal(pool.agentIds().includes('plain'), false);
    });
  });
}

test('the node:crypto PKI fallback produces certificates TLS accepts and rejects as expected', async () => {
  const previous = process.env['ZAP_TEST_PKI'];
  process.env['ZAP_TEST_PKI'] = 'node';
  const fallback = makeTestPki();
  if (previous === undefined) delete process.env['ZAP_TEST_PKI'];
  else process.env['ZAP_TEST_PKI'] = previous;
  assert.equal(fallback.via, 'node:crypto');
  // Each certificate parses (an encoding slip would otherwise show only as an agent retrying forever).
  for (const pem of [fallback.caCert, fallback.serverCert, fallback.clientCert, fallback.rogueCert]) new X509Certificate(pem);
  const { handle, registered } = await tlsPool(fallback, 0, true);
  const good = agent(handle.tcpAddress as string, 'fb-good', { ca: fallback.caCert, cert: fallback.clientCert, key: fallback.clientKey });
  const rogue = agent(handle.tcpAddress as string, 'fb-rogue', { ca: fallback.caCert, cert: fallback.rogueCert, key: fallback.rogueKey });
  await Promise.all([good.c.start(), rogue.c.start()]);
  await waitUntil(() => good.c.registeredConnections > 0, 'good registered');
  await waitUntil(() => rogue.failures() >= 2, 'rogue failures');
  await waitUntil(() => registered.length === 1, 'the good registration on the pool side');
  assert.deepEqual(registered, ['fb-good']);
});
