// ReverseConnector (agent side of spec §9): what it registers with, back-off and its reset,
// permanent vs transient refusals, and frames that arrive in the same read as the reply.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { ReverseConnector, type ReverseConnectorOptions } from '../src/agent/reverse-connector.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { jsonBytes, waitUntil } from './support/reverse-raw-agent.js';
import { socketPath } from './support/tmp.js';

function connector(o: Omit<ReverseConnectorOptions, 'backoff'> & { backoff?: ReverseConnectorOptions['backoff'] }) {
  const c = new ReverseConnector({ ...o, backoff: { initialMs: 10, multiplier: 2, maxMs: 40, jitter: 0, ...o.backoff } });
  after(() => c.close());
  const retries: Array<{ attempt: number; delayMs: number; code: string }> = [];
  c.on('retry', (r) => retries.push({ attempt: r.attempt, delayMs: r.delayMs, code: r.error.code }));
  return { c, retries };
}

/** Connector behaviour, not listener policy: the opt-out, and the ad-hoc ids admitted undeclared. */
const OPEN = { insecureAllowUnauthenticated: true, allowUndeclaredAgents: true } as const;

function listeningPool() {
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.destroy());
  const refused: string[] = [];
  pool.on('reverse-refused', (_id, e) => refused.push(e));
  return { pool, refused };
}

/** A one-connection stand-in proxy: records the registration, answers with `reply` bytes. */
async function rawProxy(
  path: string,
): Promise<{ accepted: Promise<{ socket: Socket; frames: Array<{ type: number; payload: Buffer }> }> }> {
  const server = createServer();
  after(() => server.close());
  await new Promise<void>((r) => server.listen(path, r));
  const accepted = once(server, 'connection').then((args) => {
    const socket = args[0] as Socket;
    const frames: Array<{ type: number; payload: Buffer }> = [];
    const decoder = new FrameDecoder((type, payload) => frames.push({ type, payload: Buffer.from(payload) }));
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    after(() => socket.destroy());
    return { socket, frames };
  });
  return { accepted };
}

describe('ReverseConnector', () => {
  test('registers with version, id, token, full capabilities and metadata', async () => {
    const path = socketPath('raw');
    const { accepted } = await rawProxy(path);
    const { c } = connector({ endpoint: path, agentId: 'meta', authToken: 'tok', version: '9.9.9', metadata: { zone: 'eu' } });
    await c.start();
    const { frames } = await accepted;
    await waitUntil(() => frames.length === 1, 'the registration frame');
    assert.equal(frames[0]!.type, 0x01);
    const body = JSON.parse(frames[0]!.payload.toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['protocol_version', 'agent_id', 'capabilities', 'auth_token', 'metadata']);
    assert.equal(body['protocol_version'], 2);
    assert.equal(body['agent_id'], 'meta');
    assert.equal(body['auth_token'], 'tok');
    const caps = body['capabilities'] as Record<string, Record<string, unknown>>;
    assert.equal(caps['agent_id'] as unknown, 'meta');
    assert.equal(caps['version'] as unknown, '9.9.9');
    assert.equal(Object.keys(caps['features']!).length, 9);
    assert.equal(Object.keys(caps['limits']!).length, 3);
    const meta = body['metadata'] as Record<string, unknown>;
    assert.equal(meta['version'], '9.9.9');
    assert.equal(meta['hostname'], hostname());
    assert.equal(meta['pid'], process.pid);
    assert.ok(!Number.isNaN(Date.parse(meta['started_at'] as string)));
    assert.equal(meta['zone'], 'eu');
  });

  test('frames in the same read as the reply, or split after it, are served (ping → pong, event → reply)', async () => {
    const path = socketPath('raw');
    const { accepted } = await rawProxy(path);
    const { c } = connector({
      endpoint: `unix:${path}`,
      agentId: 'eager',
      handler: { onRequestHeaders: (e) => ({ audit: { tags: [e.uri] } }) },
    });
    await c.start();
    const { socket, frames } = await accepted;
    await waitUntil(() => frames.length === 1, 'the registration frame');
    const success = { success: true, error: null, proxy_id: 'zentinel-proxy', proxy_version: '1.0.0', connection_id: 'eager-1' };
    const ping = encodeFrame(0x41, Buffer.from('{"sequence":1,"timestamp_ms":1767225600000}'));
    const event = encodeFrame(
      0x10,
      jsonBytes({
        metadata: {
          correlation_id: 'e-1',
          request_id: 'e-1',
          client_ip: '192.0.2.1',
          client_port: 1,
          server_name: null,
          protocol: 'HTTP/1.1',
          tls_version: null,
          tls_cipher: null,
          route_id: null,
          upstream_id: null,
          timestamp: '2026-01-01T00:00:00Z',
        },
        method: 'GET',
        uri: '/same-read',
        headers: {},
      }),
    );
    // Reply, a whole ping and the first half of an event in one write; the rest later.
    const all = Buffer.concat([encodeFrame(0x02, jsonBytes(success)), ping, event]);
    const cut = all.length - Math.floor(event.length / 2);
    socket.write(all.subarray(0, cut));
    await once(c, 'registered');
    socket.write(all.subarray(cut));
    await waitUntil(() => frames.length === 3, 'the pong and the reply');
    assert.equal(frames[1]!.type, 0x42);
    assert.deepEqual(frames[1]!.payload, ping.subarray(5));
    assert.equal(frames[2]!.type, 0x20);
    const reply = JSON.parse(frames[2]!.payload.toString()) as { correlation_id: string; audit: { tags: string[] } };
    assert.equal(reply.correlation_id, 'e-1');
    assert.deepEqual(reply.audit.tags, ['/same-read']);
  });

  test('exponential back-off while the proxy is away, then registration; reset after a healthy connection', async () => {
    const path = socketPath('later');
    const { c, retries } = connector({ endpoint: `unix:${path}`, agentId: 'patient', backoff: { healthyAfterMs: 0 } });
    await c.start();
    await waitUntil(() => retries.length >= 5, '5 retries');
    assert.deepEqual(
      retries.slice(0, 5).map((r) => [r.attempt, r.delayMs, r.code]),
      [
        [1, 10, 'ZAP_CONNECT_FAILED'],
        [2, 20, 'ZAP_CONNECT_FAILED'],
        [3, 40, 'ZAP_CONNECT_FAILED'],
        [4, 40, 'ZAP_CONNECT_FAILED'],
        [5, 40, 'ZAP_CONNECT_FAILED'],
      ],
    );
    const { pool } = listeningPool();
    await pool.listenReverse({ path, ...OPEN });
    await c.whenRegistered();
    const before = retries.length;
    await pool.destroy();
    // The connection was healthy (healthyAfterMs 0): the next delay starts over.
    await waitUntil(() => retries.length > before, 'a retry after the loss');
    assert.deepEqual([retries[before]!.attempt, retries[before]!.delayMs], [1, 10]);
  });

  test('a short-lived connection does not reset the back-off', async () => {
    const path = socketPath('flaky');
    const { c, retries } = connector({ endpoint: path, agentId: 'flaky', backoff: { healthyAfterMs: 60_000 } });
    await c.start();
    await waitUntil(() => retries.length >= 3, '3 retries');
    const { pool } = listeningPool();
    await pool.listenReverse({ path, ...OPEN });
    await c.whenRegistered();
    const before = retries.length;
    await pool.destroy();
    await waitUntil(() => retries.length > before, 'a retry after the loss');
    // Still at the cap: the failures before the registration count on.
    assert.deepEqual([retries[before]!.attempt, retries[before]!.delayMs], [before + 1, 40]);
  });

  test('a permanent refusal stops every retry and is reported as a typed error', async () => {
    const { pool, refused } = listeningPool();
    const handle = await pool.listenReverse({ path: socketPath('auth'), authTokens: 'right', allowUndeclaredAgents: true });
    const { c, retries } = connector({ endpoint: `unix:${handle.path}`, agentId: 'wrong-token', authToken: 'wrong', connections: 3 });
    const refusals: Array<{ error: string; permanent: boolean }> = [];
    c.on('refused', (r) => refusals.push({ error: r.error, permanent: r.permanent }));
    const failed = once(c, 'failed') as Promise<[AgentPoolError]>;
    await c.start();
    const [err] = await failed;
    assert.ok(err instanceof AgentPoolError);
    assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
    assert.match(err.message, /Invalid message format: Authentication failed$/);
    assert.equal(c.failure, err);
    await assert.rejects(c.whenRegistered(), (e: unknown) => e === err);
    // The three slots dialled at once; several back-off periods later none has tried again.
    await waitUntil(() => refused.length === 3, 'the three first attempts to reach the listener');
    // Positive marker: a connector with the same back-off, started now against a path nobody
    // listens on, retries by itself; its third retry comes after 10 + 20 + 40 ms of back-off, later
    // than any retry of the refused slots would have (10 ms, at most 40).
    const marker = connector({ endpoint: socketPath('nobody'), agentId: 'marker' });
    await marker.c.start();
    await waitUntil(() => marker.retries.length >= 3, 'three retries of the marker connector');
    assert.equal(refused.length, 3);
    assert.equal(retries.length, 0);
    assert.ok(refusals.length >= 1 && refusals.length <= 3);
    assert.ok(refusals.every((r) => r.permanent && r.error === 'Invalid message format: Authentication failed'));
  });

  test('the per-agent limit is a transient refusal: the extra slot keeps retrying, the others serve', async () => {
    const { pool } = listeningPool();
    const handle = await pool.listenReverse({ path: socketPath('lim'), maxConnectionsPerAgent: 1, ...OPEN });
    const { c, retries } = connector({
      endpoint: `unix:${handle.path}`,
      agentId: 'one',
      connections: 2,
      handler: { onRequestHeaders: () => ({ audit: { tags: ['one'] } }) },
    });
    const refusals: Array<{ error: string; permanent: boolean }> = [];
    c.on('refused', (r) => refusals.push({ error: r.error, permanent: r.permanent }));
    await c.start();
    await waitUntil(() => refusals.length >= 2, 'two refusals');
    assert.deepEqual(refusals[0], { error: 'Connection failed: Agent one already has maximum connections (1)', permanent: false });
    assert.equal(c.failure, null);
    assert.equal(c.registeredConnections, 1);
    assert.ok(retries.some((r) => r.code === 'ZAP_HANDSHAKE_FAILED'));
    await waitUntil(() => pool.agentIds().includes('one') && pool.agentStats('one').healthyConnections === 1, 'one ready');
    const r = await pool.sendRequestHeaders('one', 'o-1', requestHeaders('o-1'));
    assert.deepEqual(r.audit.tags, ['one']);
  });

  test('options are validated', () => {
    assert.throws(() => new ReverseConnector({ endpoint: 'nowhere', agentId: 'a' }), /Invalid reverse endpoint/);
    assert.throws(() => new ReverseConnector({ endpoint: '/x.sock', agentId: '' }), /agentId is required/);
    assert.throws(() => new ReverseConnector({ endpoint: '/x.sock', agentId: 'a', connections: 0 }), /connections/);
    assert.throws(() => new ReverseConnector({ endpoint: '/x.sock', agentId: 'a', tls: {} }), /TCP endpoints only/);
  });
});
