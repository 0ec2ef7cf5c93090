import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { pack, unpack } from 'msgpackr';
import { Duplex } from 'node:stream';
import { AgentServer, type AgentServerOptions } from '../src/agent/agent-server.js';
import { AgentConnection } from '../src/agent/agent-connection.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import type { AgentHandler, HandlerContext } from '../src/agent/handler.js';
import { block } from '../src/agent/reply.js';
import type { AnyEvent, CancelMessage, EventKind, HealthStatus } from '../src/protocol/types.js';
import { RawProxyClient, expectedReply, json, sampleEvents, tempSocketDir } from './support/raw-proxy-client.js';

const dir = tempSocketDir();
after(() => dir.remove());
let socketSeq = 0;

async function startServer(o: Partial<AgentServerOptions> = {}): Promise<{ server: AgentServer; path: string }> {
  const path = dir.path(`agent-${socketSeq++}.sock`);
  const server = new AgentServer({ agentId: 'test-agent', ...o });
  server.on('handlerError', () => {});
  // Closed after the test however it ends (close() is idempotent): a failed assertion must not
  // leave a listener that keeps the file alive until its timeout.
  after(() => server.close());
  await server.listen(path);
  return { server, path };
}

/** Replies are keyed by cid because they may arrive in any order. */
async function collectReplies(client: RawProxyClient, n: number): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < n; i++) {
    const r = await client.nextJson();
    out.set(r['correlation_id'] as string, r);
  }
  return out;
}

test('handshake: success answer carries every capability key and the negotiated encoding', async () => {
  const { server, path } = await startServer({ name: 'Test Agent', version: '9.9.9' });
  const client = await RawProxyClient.connect(path);
  client.send(
    0x01,
    json({ supported_versions: [2], proxy_id: 'zentinel-proxy', proxy_version: '1.0.0', config: null, supported_encodings: ['json'] }),
  );
  const f = await client.next();
  assert.equal(f.type, 0x02);
  assert.equal(
    f.payload.toString('utf8'),
    '{"protocol_version":2,"capabilities":{"agent_id":"test-agent","name":"Test Agent",' +
      '"version":"9.9.9","supported_events":[1,2,3,4,5,6,7],' +
      ('"features":{"streaming_body":true,"websocket":true,"guardrails":true,"config_push":true,' +
        '"metrics_export":true,"concurrent_requests":100,') +
      ('"cancellation":true,"flow_control":false,"health_reporting":true},' +
        '"limits":{"max_body_size":10485760,"max_concurrency":100,"preferred_chunk_size":65536}},') +
      '"success":true,"error":null,"encoding":"json"}',
  );
  assert.equal(server.connections, 1);
  await client.close();
  await server.close();
});

test('handshake refusal: unsupported version, then the agent closes', async () => {
  const { server, path } = await startServer();
  const client = await RawProxyClient.connect(path);
  const res = await client.handshake({ supported_versions: [1] });
  assert.deepEqual(
    { protocol_version: res['protocol_version'], success: res['success'], error: res['error'] },
    { protocol_version: 0, success: false, error: 'unsupported protocol version' },
  );
  assert.deepEqual((res['capabilities'] as Record<string, unknown>)['supported_events'], [1]);
  await client.closed;
  await server.close();
});

test('handshake refusal: msgpack required but the proxy offers only JSON', async () => {
  const { server, path } = await startServer({ encoding: 'msgpack' });
  const client = await RawProxyClient.connect(path);
  const res = await client.handshake({ supported_encodings: ['json'] });
  assert.equal(res['success'], false);
  assert.equal(res['error'], 'msgpack required but not offered');
  assert.equal(res['encoding'], 'json');
  await client.closed;
  await server.close();
});

test('a first frame other than 0x01 is a protocol error that closes the connection', async () => {
  const { server, path } = await startServer();
  const errors: Error[] = [];
  server.on('error', (e: Error) => errors.push(e));
  const client = await RawProxyClient.connect(path);
  client.send(0x10, json(sampleEvents('x')[0]![1]));
  await client.closed;
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as { code?: string }).code, 'ZAP_PROTOCOL_ERROR');
  assert.match(errors[0]!.message, /Expected HandshakeRequest as first frame, got RequestHeaders \(0x10\)/);
  await server.close();
});

test('every event kind reaches its handler method and is answered', async () => {
  const seen: Array<[EventKind, AnyEvent, string]> = [];
  const record = (kind: EventKind) => (e: AnyEvent, ctx: HandlerContext) => {
    seen.push([kind, e, ctx.correlationId]);
    return { routingMetadata: { kind } };
  };
  const handler: AgentHandler = {
    onRequestHeaders: record('request_headers'),
    onRequestBodyChunk: record('request_body_chunk'),
    onResponseHeaders: record('response_headers'),
    onResponseBodyChunk: record('response_body_chunk'),
    onRequestComplete: record('request_complete'),
    onWebSocketFrame: record('websocket_frame'),
    onGuardrailInspect: record('guardrail_inspect'),
    onConfigure: record('configure'),
  };
  const { server, path } = await startServer({ handler });
  const { client } = await RawProxyClient.open(path);
  const kinds: EventKind[] = [
    'request_headers',
    'request_body_chunk',
    'response_headers',
    'response_body_chunk',
    'request_complete',
    'websocket_frame',
    'guardrail_inspect',
    'configure',
  ];
  sampleEvents('').forEach(([type], i) => client.send(type, json(sampleEvents(`c-${i}`)[i]![1])));
  const replies = await collectReplies(client, 8);
  kinds.forEach((kind, i) => {
    assert.deepEqual(replies.get(`c-${i}`), expectedReply(`c-${i}`, { routing_metadata: { kind } }));
  });
  assert.deepEqual(
    seen.map(([k, , cid]) => [k, cid]),
    kinds.map((k, i) => [k, `c-${i}`]),
  );
  assert.deepEqual(seen[0]![1], {
    metadata: {
      correlationId: 'c-0',
      requestId: 'c-0',
      clientIp: '192.0.2.10',
      clientPort: 51514,
      serverName: 'shop.example',
      protocol: 'HTTP/1.1',
      tlsVersion: 'TLSv1.3',
      tlsCipher: 'TLS_AES_128_GCM_SHA256',
      routeId: 'checkout',
      upstreamId: 'shop-backend',
      timestamp: '2026-01-01T00:00:00.000Z',
    },
    method: 'POST',
    uri: '/cart?step=2',
    headers: { host: ['shop.example'], accept: ['text/html', 'application/json'] },
  });
  assert.equal(Buffer.from((seen[1]![1] as { data: Uint8Array }).data).toString('utf8'), 'name=bob&age=7');
  await client.close();
  await server.close();
});

test('a handler without methods answers Allow; the reply bytes are the §6.9.1 shape', async () => {
  const { server, path } = await startServer({ handler: {} });
  const { client } = await RawProxyClient.open(path);
  client.send(0x12, json(sampleEvents('req-7')[2]![1]));
  const f = await client.next();
  assert.equal(
    f.payload.toString('utf8'),
    '{"version":2,"decision":"allow","request_headers":[],"response_headers":[],"routing_metadata":{},' +
      '"audit":{"tags":[],"rule_ids":[],"confidence":null,"reason_codes":[],"custom":{"correlation_id":"req-7"}},' +
      '"needs_more":false,"request_body_mutation":null,"response_body_mutation":null,"websocket_decision":null,"correlation_id":"req-7"}',
  );
  await client.close();
  await server.close();
});

test('a handler that throws (or rejects) is answered Block 500 "Agent error"; the connection stays', async () => {
  const handler: AgentHandler = {
    onRequestHeaders() {
      throw new Error('boom');
    },
    async onResponseHeaders() {
      throw new Error('async boom');
    },
  };
  const { server, path } = await startServer({ handler });
  const failures: string[] = [];
  server.on('handlerError', (_e: unknown, cid: string) => failures.push(cid));
  const { client } = await RawProxyClient.open(path);
  client.send(0x10, json(sampleEvents('t-1')[0]![1]));
  client.send(0x12, json(sampleEvents('t-2')[2]![1]));
  const replies = await collectReplies(client, 2);
  const agentError = { decision: { block: { status: 500, body: 'Agent error', headers: null } } };
  assert.deepEqual(replies.get('t-1'), expectedReply('t-1', agentError));
  assert.deepEqual(replies.get('t-2'), expectedReply('t-2', agentError));
  assert.deepEqual(failures.sort(), ['t-1', 't-2']);
  client.send(0x14, json(sampleEvents('t-3')[4]![1]));
  assert.deepEqual(await client.nextJson(), expectedReply('t-3'));
  await client.close();
  await server.close();
});

test('1000 pipelined requests with random handler delays: all answered, out of order', async () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const handler: AgentHandler = {
    async onRequestHeaders(e) {
      await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
      return block(403, e.uri);
    },
  };
  const { server, path } = await startServer({ handler });
  const { client } = await RawProxyClient.open(path);
  const frames: Buffer[] = [];
  const base = sampleEvents('x')[0]![1];
  for (let i = 0; i < 1000; i++) {
    const cid = `p-${i}`;
    frames.push(
      json({ ...base, metadata: { ...(base['metadata'] as object), correlation_id: cid }, uri: `/item/${i}`, correlation_id: cid }),
    );
  }
  for (const payload of frames) client.send(0x10, payload);
  const order: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = await client.nextJson();
    const cid = r['correlation_id'] as string;
    order.push(cid);
    assert.deepEqual(r['decision'], { block: { status: 403, body: `/item/${cid.slice(2)}`, headers: null } });
  }
  assert.equal(new Set(order).size, 1000);
  assert.notDeepEqual(
    order,
    frames.map((_, i) => `p-${i}`),
  );
  await client.close();
  await server.close();
});

test('Cancel aborts the handler signal with the reason and drops the reply', async () => {
  const cancels: CancelMessage[] = [];
  let reason: unknown = 'not aborted';
  const handler: AgentHandler = {
    onRequestHeaders(e, ctx) {
      if (e.uri !== '/slow') return undefined;
      return new Promise((resolve) => {
        ctx.signal.addEventListener('abort', () => {
          reason = ctx.signal.reason;
          resolve(block(418, 'too late'));
        });
      });
    },
    onCancel(c) {
      cancels.push(c);
    },
  };
  const { server, path } = await startServer({ handler });
  const { client } = await RawProxyClient.open(path);
  const base = sampleEvents('slow-1')[0]![1];
  client.send(0x10, json({ ...base, uri: '/slow' }));
  client.send(0x40, json({ correlation_id: 'slow-1', reason: 1, timestamp_ms: 1767225600000 }));
  client.send(0x10, json(sampleEvents('fast-1')[0]![1]));
  const r = await client.nextJson();
  assert.equal(r['correlation_id'], 'fast-1');
  assert.equal(reason, 'timeout');
  assert.deepEqual(cancels, [{ correlationId: 'slow-1', reason: 'timeout', timestampMs: 1767225600000 }]);
  // Nothing else was sent: a Ping's Pong is the very next frame.
  client.send(0x41, json({ sequence: 0, timestamp_ms: 1 }));
  assert.equal((await client.next()).type, 0x42);
  await client.close();
  await server.close();
});

test('Ping is answered with the identical payload bytes as 0x42 (GV-01)', async () => {
  const { server, path } = await startServer();
  const { client } = await RawProxyClient.open(path);
  const before = Buffer.concat(client.received).length;
  const ping = Buffer.from('0000002c417b2273657175656e6365223a312c2274696d657374616d705f6d73223a313736373232353630303030307d', 'hex');
  client.sendRaw(ping);
  await client.next();
  const pong = Buffer.concat(client.received).subarray(before);
  const expected = Buffer.from(ping);
  expected[4] = 0x42;
  assert.deepEqual(pong, expected);
  await client.close();
  await server.close();
});

test('a malformed frame (type 0x99) closes only that connection', async () => {
  const { server, path } = await startServer({ handler: { onRequestHeaders: () => block(403) } });
  const errors: Error[] = [];
  server.on('error', (e: Error) => errors.push(e));
  const { client: bad } = await RawProxyClient.open(path);
  const { client: good } = await RawProxyClient.open(path);
  assert.equal(server.connections, 2);
  bad.sendRaw(Buffer.from([0, 0, 0, 1, 0x99]));
  await bad.closed;
  assert.equal(errors[0]?.message, 'Invalid message format: Unknown message type: 0x99');
  good.send(0x10, json(sampleEvents('still-1')[0]![1]));
  assert.deepEqual(await good.nextJson(), expectedReply('still-1', { decision: { block: { status: 403, body: null, headers: null } } }));
  assert.equal(server.connections, 1);
  await good.close();
  await server.close();
});

test('frames an agent may not receive (§3) close the connection: 0x20 from the proxy', async () => {
  const { server, path } = await startServer();
  const errors: Error[] = [];
  server.on('error', (e: Error) => errors.push(e));
  const { client } = await RawProxyClient.open(path);
  client.send(0x20, json({ version: 2, decision: 'allow' }));
  await client.closed;
  assert.equal((errors[0] as { code?: string }).code, 'ZAP_PROTOCOL_ERROR');
  await server.close();
});

test('an undecodable event is still answered: Allow for the best-effort cid (§6.10)', async () => {
  const { server, path } = await startServer({ handler: { onRequestBodyChunk: () => block(403) } });
  const { client } = await RawProxyClient.open(path);
  client.send(0x11, json({ correlation_id: 'bad-1', data: 17, is_last: true }));
  client.send(0x15, json({ correlation_id: 'bad-ws', opcode: 'shout', data: '', client_to_server: true }));
  client.send(0x10, json({ metadata: { correlation_id: 'bad-hdr' }, method: 7 }));
  const replies = await collectReplies(client, 3);
  assert.deepEqual(replies.get('bad-1'), expectedReply('bad-1'));
  assert.deepEqual(replies.get('bad-ws'), expectedReply('bad-ws', { websocket_decision: 'allow' }));
  assert.deepEqual(replies.get('bad-hdr'), expectedReply('bad-hdr'));
  client.send(0x11, Buffer.from('not json at all', 'utf8'));
  assert.deepEqual(await client.nextJson(), expectedReply(''));
  await client.close();
  await server.close();
});

test('msgpack negotiation: events and replies in MessagePack, Ping and Cancel stay JSON', async () => {
  let seenData: Buffer | undefined;
  let onAbort: (reason: unknown) => void = () => {};
  const aborted = new Promise((resolve) => (onAbort = resolve));
  const { server, path } = await startServer({
    encoding: 'prefer-msgpack',
    handler: {
      onRequestHeaders(_e, ctx) {
        ctx.signal.addEventListener('abort', () => onAbort(ctx.signal.reason));
        return new Promise(() => {});
      },
      onRequestBodyChunk(e) {
        seenData = Buffer.from(e.data);
        return block(413, 'too big', { 'x-limit': '4' });
      },
    },
  });
  const { client, handshake } = await RawProxyClient.open(path, ['msgpack', 'json']);
  assert.equal(handshake['encoding'], 'msgpack');
  client.send(
    0x11,
    pack({
      correlation_id: 'mp-1',
      data: Buffer.from([0, 0xff, 0x10, 0x80]),
      is_last: true,
      total_size: null,
      chunk_index: 0,
      bytes_received: 4,
    }),
  );
  const f = await client.next();
  assert.equal(f.type, 0x20);
  assert.deepEqual(
    unpack(f.payload),
    expectedReply('mp-1', { decision: { block: { status: 413, body: 'too big', headers: { 'x-limit': '4' } } } }),
  );
  assert.deepEqual(seenData, Buffer.from([0, 0xff, 0x10, 0x80]));
  // Cancel stays JSON after MessagePack was negotiated (§4.4).
  client.send(0x10, pack({ ...sampleEvents('mp-2')[0]![1], uri: '/wait' }));
  client.send(0x40, json({ correlation_id: 'mp-2', reason: 4, timestamp_ms: 1 }));
  assert.equal(await aborted, 'proxy_shutdown');
  const ping = json({ sequence: 3, timestamp_ms: 5 });
  client.send(0x41, ping);
  const pong = await client.next();
  assert.deepEqual([pong.type, pong.payload], [0x42, ping]);
  await client.close();
  await server.close();
});

test('reportHealth and reportMetrics go out on every established connection', async () => {
  const { server, path } = await startServer();
  const a = await RawProxyClient.open(path);
  const b = await RawProxyClient.open(path);
  const health: HealthStatus = {
    agentId: 'test-agent',
    state: 2,
    message: 'rules reloading',
    load: null,
    resources: null,
    validUntilMs: 1767225630000,
    timestampMs: 1767225600000,
    disabledFeatures: ['guardrails'],
    timeoutMultiplier: 1.5,
    drainEtaMs: null,
    unhealthyReason: null,
    recoverable: true,
  };
  server.reportHealth(health);
  server.reportMetrics({
    agentId: 'test-agent',
    timestampMs: 1,
    intervalMs: 10000,
    counters: [{ name: 'agent_requests_total', labels: {}, value: 3 }],
    gauges: [],
    histograms: [],
  });
  for (const { client } of [a, b]) {
    const h = await client.next();
    assert.equal(h.type, 0x30);
    assert.equal(
      h.payload.toString('utf8'),
      '{"agent_id":"test-agent","state":2,"message":"rules reloading","load":null,"resources":null,"valid_until_ms":1767225630000,' +
        ('"timestamp_ms":1767225600000,"disabled_features":["guardrails"],"timeout_multiplier":1.5,' +
          '"drain_eta_ms":null,"unhealthy_reason":null,"recoverable":true}'),
    );
    assert.deepEqual(await client.nextJson(0x31), {
      agent_id: 'test-agent',
      timestamp_ms: 1,
      interval_ms: 10000,
      counters: [{ name: 'agent_requests_total', labels: {}, value: 3 }],
      gauges: [],
      histograms: [],
    });
  }
  await a.client.close();
  await b.client.close();
  await server.close();
});

/** A socket file left behind by a process that died without cleaning up (SIGKILL). */
async function makeStaleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
  ]);
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.equal(existsSync(path), true);
}

test('listen: a stale socket file is replaced and removed on close', async () => {
  const stale = dir.path('stale.sock');
  await makeStaleSocket(stale);
  const server = new AgentServer({ agentId: 'a' });
  await server.listen(`unix:${stale}`);
  const { client, handshake } = await RawProxyClient.open(stale);
  assert.equal(handshake['success'], true);
  await client.close();
  await server.close();
  assert.equal(existsSync(stale), false);
});

test('listen: a live socket, a non-socket file and invalid endpoints are refused with ZAP_INVALID_CONFIG', async () => {
  const { server, path } = await startServer();
  await assert.rejects(new AgentServer({ agentId: 'b' }).listen(path), { code: 'ZAP_INVALID_CONFIG' });
  assert.equal(existsSync(path), true);
  await server.close();
  const file = dir.path('plain.sock');
  writeFileSync(file, 'x');
  await assert.rejects(new AgentServer({ agentId: 'a' }).listen(file), { code: 'ZAP_INVALID_CONFIG' });
  assert.equal(existsSync(file), true);
  // (gRPC endpoints are served now, see test/grpc-*.test.ts; https:// needs the tls option.)
  for (const endpoint of ['ftp://127.0.0.1:5000', 'https://127.0.0.1:0', 'nonsense', 'unix:']) {
    await assert.rejects(new AgentServer({ agentId: 'a' }).listen(endpoint), { code: 'ZAP_INVALID_CONFIG' }, endpoint);
  }
});

test('handshake timeout: a proxy that never sends 0x01 is disconnected', async () => {
  const { server, path } = await startServer({ handshakeTimeoutMs: 20 });
  const errors: Error[] = [];
  server.on('error', (e: Error) => errors.push(e));
  const client = await RawProxyClient.connect(path);
  await client.closed;
  assert.equal((errors[0] as { code?: string }).code, 'ZAP_HANDSHAKE_FAILED');
  assert.equal(errors[0]!.message, 'handshake timeout');
  await server.close();
});

test('AgentConnection over a plain Duplex: stops reading while the peer pushes back, resumes on drain', async () => {
  const held: Array<() => void> = [];
  const written: Buffer[] = [];
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      held.push(cb);
    },
    writev(chunks, cb) {
      for (const c of chunks) written.push(c.chunk as Buffer);
      held.push(cb);
    },
    writableHighWaterMark: 1,
  });
  const conn = new AgentConnection(duplex, {
    agentId: 'duplex',
    transport: 'reverse',
    dispatcher: { dispatch: () => block(403) },
  });
  assert.equal(conn.established, true);
  duplex.push(encodeFrame(0x10, json(sampleEvents('d-1')[0]![1])));
  await new Promise((r) => setImmediate(r));
  assert.equal(duplex.isPaused(), true);
  assert.deepEqual(
    JSON.parse(Buffer.concat(written).subarray(5).toString('utf8')),
    expectedReply('d-1', { decision: { block: { status: 403, body: null, headers: null } } }),
  );
  held.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.equal(duplex.isPaused(), false);
  conn.close();
  duplex.destroy();
});
