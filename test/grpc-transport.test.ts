// gRPC transport, our client ↔ our AgentServer over loopback TCP: every event kind and decision,
// pipelining, out-of-order completion, timeout, cancel, ping, agent control messages, connection
// set-up rules (own HTTP/2 connection each, connect and handshake deadlines, size limit).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { GrpcAgentStream } from '../src/agent/grpc-agent-stream.js';
import type { AgentHandler } from '../src/agent/handler.js';
import { connectGrpcAgent } from '../src/connection/grpc-agent-client.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import type { CancelMessage, EventKind, HealthStatus, LogMessage } from '../src/protocol/types.js';
import { ALL_EVENT_KINDS, requestHeaders, sampleDomainEvent } from './support/events.js';
import { startGrpcAgent, waitFor } from './support/grpc-agents.js';
import { checkPongsMatchTheirPing, type SeenPing } from './support/ping-pairs.js';

describe('gRPC client ↔ AgentServer', () => {
  test('every event kind reaches its handler method and gets its reply', async () => {
    const seen: EventKind[] = [];
    const handler: AgentHandler = {
      onRequestHeaders: (e, ctx) => (
        seen.push('request_headers'),
        { requestHeaders: [{ op: 'set', name: 'x-uri', value: `${e.uri} ${ctx.transport}` }] }
      ),
      onRequestBodyChunk: (e) => (seen.push('request_body_chunk'), { audit: { tags: [e.data.toString()] } }),
      onResponseHeaders: (e) => (
        seen.push('response_headers'),
        { responseHeaders: [{ op: 'add', name: 'x-status', value: String(e.status) }] }
      ),
      onResponseBodyChunk: (e) => (seen.push('response_body_chunk'), { needsMore: !e.isLast }),
      onRequestComplete: (e) => (seen.push('request_complete'), { audit: { ruleIds: [String(e.durationMs)] } }),
      onWebSocketFrame: (e) => (
        seen.push('websocket_frame'),
        e.opcode === 'text' ? {} : { decision: { type: 'block', status: 400, body: null, headers: null } }
      ),
      onGuardrailInspect: (e) => (seen.push('guardrail_inspect'), { audit: { reasonCodes: [e.inspectionType] } }),
      onConfigure: (e) => (seen.push('configure'), { audit: { custom: { level: String((e.config as { level: number }).level) } } }),
    };
    const { endpoint } = await startGrpcAgent(handler);
    const conn = await connectGrpcAgent(endpoint);
    assert.equal(conn.encoding, 'protobuf');
    const replies = new Map<EventKind, Awaited<ReturnType<typeof conn.send>>>();
    for (const kind of ALL_EVENT_KINDS)
      replies.set(kind, await conn.send(kind, sampleDomainEvent(kind, `k-${kind}`) as never, `k-${kind}`));
    assert.deepEqual(seen, [...ALL_EVENT_KINDS]);
    assert.deepEqual(replies.get('request_headers')!.requestHeaders, [{ op: 'set', name: 'x-uri', value: '/ grpc' }]);
    assert.deepEqual(replies.get('request_body_chunk')!.audit.tags, ['hello']);
    assert.deepEqual(replies.get('response_headers')!.responseHeaders, [{ op: 'add', name: 'x-status', value: '200' }]);
    assert.equal(replies.get('response_body_chunk')!.needsMore, false);
    assert.deepEqual(replies.get('request_complete')!.audit.ruleIds, ['42']);
    assert.deepEqual(replies.get('websocket_frame')!.decision, { type: 'allow' });
    assert.deepEqual(replies.get('guardrail_inspect')!.audit.reasonCodes, ['prompt_injection']);
    assert.deepEqual(replies.get('configure')!.audit.custom, { level: '2' });
    for (const r of replies.values()) assert.equal(r.synthetic, undefined);
    conn.close();
  });

  test('every decision variant round-trips', async () => {
    const { endpoint } = await startGrpcAgent({
      onRequestHeaders: (e) => {
        switch (e.uri) {
          case '/block':
            return { decision: { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-reason': 'policy' } } };
          case '/block-bare':
            return { decision: { type: 'block', status: 429, body: null, headers: null } };
          case '/redirect':
            return { decision: { type: 'redirect', url: 'https://login.example/', status: 302 } };
          case '/challenge':
            return { decision: { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } } };
          default:
            return { audit: { tags: ['ok'], ruleIds: ['r1'], confidence: 0.5, custom: { n: 'v' } } };
        }
      },
    });
    const conn = await connectGrpcAgent(endpoint);
    const d = async (uri: string) => (await conn.send('request_headers', requestHeaders(uri, uri), uri)).decision;
    assert.deepEqual(await d('/block'), { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-reason': 'policy' } });
    assert.deepEqual(await d('/block-bare'), { type: 'block', status: 429, body: null, headers: null });
    assert.deepEqual(await d('/redirect'), { type: 'redirect', url: 'https://login.example/', status: 302 });
    assert.deepEqual(await d('/challenge'), { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } });
    const allow = await conn.send('request_headers', requestHeaders('a'), 'a');
    assert.deepEqual(allow.decision, { type: 'allow' });
    assert.deepEqual(allow.audit, { tags: ['ok'], ruleIds: ['r1'], confidence: 0.5, reasonCodes: [], custom: { n: 'v' } });
    conn.close();
  });

  test('1 000 pipelined requests on one stream, completing out of order, each gets its own reply', async () => {
    const { endpoint } = await startGrpcAgent({
      onRequestHeaders: async (e) => {
        const i = Number(e.metadata.correlationId.slice(2));
        await new Promise((r) => setTimeout(r, (i * 7) % 23)); // later requests often finish first
        return { requestHeaders: [{ op: 'set', name: 'x-echo', value: e.metadata.correlationId }] };
      },
    });
    const conn = await connectGrpcAgent(endpoint);
    const order: number[] = [];
    const calls = Array.from({ length: 1000 }, (_, i) =>
      conn.send('request_headers', requestHeaders(`p-${i}`), `p-${i}`).then((r) => (order.push(i), r)),
    );
    assert.equal(conn.inFlight, 1000);
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-echo', value: `p-${i}` }]));
    assert.notDeepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'replies came out of order',
    );
    assert.equal(conn.inFlight, 0);
    conn.close();
  });

  test('a second event of the same cid waits for the first (one outstanding per cid)', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const { endpoint } = await startGrpcAgent({
      onRequestBodyChunk: async () => {
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await new Promise((r) => setTimeout(r, 5));
        concurrent--;
      },
    });
    const conn = await connectGrpcAgent(endpoint);
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        conn.send('request_body_chunk', { ...sampleDomainEvent('request_body_chunk', 'same'), chunkIndex: i }, 'same'),
      ),
    );
    assert.equal(maxConcurrent, 1);
    conn.close();
  });

  test('timeout: ZAP_TIMEOUT, CancelRequest(timeout) reaches the handler, the connection stays', async () => {
    const cancels: CancelMessage[] = [];
    const { endpoint } = await startGrpcAgent({
      onRequestHeaders: (e, ctx) =>
        e.uri === '/hang' ? new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({}))) : {},
      onCancel: (c) => cancels.push(c),
    });
    const conn = await connectGrpcAgent(endpoint);
    await assert.rejects(conn.send('request_headers', requestHeaders('t1', '/hang'), 't1', { timeoutMs: 50 }), {
      code: 'ZAP_TIMEOUT',
      correlationId: 't1',
    });
    await waitFor(() => cancels.length === 1);
    assert.equal(cancels[0]!.correlationId, 't1');
    assert.equal(cancels[0]!.reason, 'timeout');
    assert.equal(conn.closed, false);
    assert.equal((await conn.send('request_headers', requestHeaders('t2'), 't2')).decision.type, 'allow');
    conn.close();
  });

  test('abort and cancel(): AbortError at once, CancelRequest with the reason (gRPC numbering), late reply discarded', async () => {
    const cancels: CancelMessage[] = [];
    const aborted: unknown[] = [];
    const started: string[] = [];
    const finished: string[] = [];
    const { endpoint } = await startGrpcAgent({
      onRequestHeaders: (e, ctx) => {
        if (e.uri === '/marker') return {};
        started.push(ctx.correlationId);
        return new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => aborted.push(ctx.signal.reason));
          // answers anyway; our SDK drops replies of cancelled events
          setTimeout(() => {
            finished.push(ctx.correlationId);
            resolve({});
          }, 150);
        });
      },
      onCancel: (c) => cancels.push(c),
    });
    const conn = await connectGrpcAgent(endpoint);
    const late: string[] = [];
    conn.on('late-reply', (cid) => late.push(cid));
    const ac = new AbortController();
    const pending = conn.send('request_headers', requestHeaders('ab'), 'ab', { signal: ac.signal });
    await waitFor(() => started.includes('ab'));
    ac.abort('upstream_error');
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof AgentPoolError);
      assert.equal(err.code, 'ABORT_ERR');
      assert.equal(err.name, 'AbortError');
      return true;
    });
    const manual = conn.send('request_headers', requestHeaders('m'), 'm');
    await waitFor(() => started.includes('m'));
    assert.equal(conn.cancel('m', 'blocked_by_agent'), true);
    assert.equal(conn.cancel('nobody', 'manual'), false);
    await assert.rejects(manual, { code: 'ABORT_ERR', correlationId: 'm' });
    await waitFor(() => cancels.length === 2);
    assert.deepEqual(
      cancels.map((c) => [c.correlationId, c.reason]),
      [
        ['ab', 'upstream_error'],
        ['m', 'blocked_by_agent'],
      ],
    );
    assert.deepEqual(aborted, ['upstream_error', 'blocked_by_agent']);
    // Both handlers have returned; a reply the SDK wrote for them would come before the marker's.
    await waitFor(() => finished.length === 2);
    assert.equal((await conn.send('request_headers', requestHeaders('mk', '/marker'), 'mk')).decision.type, 'allow');
    assert.deepEqual(late, []); // the SDK does not answer cancelled events
    assert.equal(conn.inFlight, 0);
    conn.close();
  });

  test('events still queued behind a full write buffer are withdrawn on abort: nothing is sent for them', async () => {
    const seen: string[] = [];
    const cancels: string[] = [];
    const { endpoint } = await startGrpcAgent({
      onRequestHeaders: (e) => void seen.push(e.metadata.correlationId),
      onCancel: (c) => cancels.push(c.correlationId),
    });
    const conn = await connectGrpcAgent(endpoint, { channelBufferSize: 1 });
    const ac = new AbortController();
    const kept = Array.from({ length: 5 }, (_, i) => conn.send('request_headers', requestHeaders(`k${i}`), `k${i}`));
    const dropped = Array.from({ length: 20 }, (_, i) =>
      conn.send('request_headers', requestHeaders(`d${i}`), `d${i}`, { signal: ac.signal }),
    );
    ac.abort('client_disconnect'); // same tick: the d* events never left the connection's queue
    for (const p of dropped) await assert.rejects(p, { code: 'ABORT_ERR' });
    await Promise.all(kept);
    assert.equal((await conn.send('request_headers', requestHeaders('last'), 'last')).decision.type, 'allow');
    assert.deepEqual(seen, ['k0', 'k1', 'k2', 'k3', 'k4', 'last']);
    assert.deepEqual(cancels, []);
    conn.close();
  });

  test('a ping the agent never answers times out with ZAP_TIMEOUT; the connection stays', async () => {
    const { startPlainServer, plainHandshakeOk } = await import('./support/grpc-plain-peer.js');
    const { address } = await startPlainServer({
      onStreamMessage: (call, msg) => {
        if (msg['message'] === 'handshake') call.write(plainHandshakeOk('mute'));
      },
    });
    const conn = await connectGrpcAgent(address);
    await assert.rejects(conn.ping(50), { code: 'ZAP_TIMEOUT' });
    assert.equal(conn.closed, false);
    conn.close();
  });

  test('ping → pong: each Pong settles the ping of its own sequence, no other', async () => {
    const { startPlainServer, plainHandshakeOk } = await import('./support/grpc-plain-peer.js');
    const pings: SeenPing[] = [];
    let stream: { write(m: unknown): unknown } | undefined;
    const { address } = await startPlainServer({
      onStreamMessage: (call, msg) => {
        if (msg['message'] === 'handshake') call.write(plainHandshakeOk('pinged'));
        if (msg['message'] === 'ping') {
          stream = call;
          pings.push(msg['ping']);
        }
      },
    });
    const conn = await connectGrpcAgent(address);
    await checkPongsMatchTheirPing(
      conn,
      () => pings,
      (k) => stream!.write({ pong: { sequence: pings[k]!.sequence, ping_timestamp_ms: pings[k]!.timestamp_ms, timestamp_ms: Date.now() } }),
    );
    conn.close();
  });

  test('an already aborted signal rejects without sending anything', async () => {
    let calls = 0;
    const { endpoint } = await startGrpcAgent({ onRequestHeaders: () => void calls++ });
    const conn = await connectGrpcAgent(endpoint);
    await assert.rejects(conn.send('request_headers', requestHeaders('x'), 'x', { signal: AbortSignal.abort('client_disconnect') }), {
      code: 'ABORT_ERR',
    });
    await conn.send('request_headers', requestHeaders('y'), 'y');
    assert.equal(calls, 1);
    conn.close();
  });

  test('handlers on a thread pool (AgentServer threads) serve gRPC the same way', async () => {
    const { endpoint } = await startGrpcAgent(null, {
      threads: { module: new URL('./support/gated-handler.ts', import.meta.url), count: 1, options: { from: 'grpc' } },
    });
    const conn = await connectGrpcAgent(endpoint);
    const slow = conn.send('request_headers', requestHeaders('s', '/slow'), 's');
    const release = await conn.send('request_headers', requestHeaders('r', '/release'), 'r');
    assert.equal(release.decision.type, 'allow');
    assert.deepEqual((await slow).decision, { type: 'block', status: 418, body: 'too late', headers: null });
    const plain = await conn.send('request_headers', requestHeaders('o'), 'o');
    assert.deepEqual(plain.requestHeaders, [{ op: 'set', name: 'x-options', value: '{"from":"grpc"}' }]);
    conn.close();
  });

  test('ping → pong round trip; health, metrics, flow control, config update and log surface as events', async () => {
    const streams: GrpcAgentStream[] = [];
    const { endpoint, server } = await startGrpcAgent({});
    server.on('connection', (s: GrpcAgentStream) => streams.push(s));
    const conn = await connectGrpcAgent(endpoint);
    const t0 = Date.now();
    const rtt = await conn.ping(2_000);
    assert.ok(rtt >= 0 && rtt <= Date.now() - t0, `rtt ${rtt} within the measured round trip`);
    const got: Record<string, unknown[]> = { health: [], metrics: [], flow: [], update: [], log: [] };
    conn.on('health', (h) => got['health']!.push(h));
    conn.on('metrics', (m) => got['metrics']!.push(m));
    conn.on('flow-control', (f) => got['flow']!.push(f));
    conn.on('config-update', (u) => got['update']!.push(u));
    conn.on('log', (l) => got['log']!.push(l));
    await waitFor(() => streams.length === 1 && streams[0]!.established);
    const health: HealthStatus = {
      agentId: 'grpc-agent',
      state: 2,
      message: 'rules reloading',
      load: null,
      resources: null,
      validUntilMs: 1_767_225_630_000,
      timestampMs: 1_767_225_600_000,
      disabledFeatures: ['guardrails'],
      timeoutMultiplier: 1.5,
      drainEtaMs: null,
      unhealthyReason: null,
      recoverable: true,
    };
    server.reportHealth(health);
    server.reportMetrics({
      agentId: 'grpc-agent',
      timestampMs: 1,
      intervalMs: 10_000,
      counters: [{ name: 'agent_requests_total', labels: { route: 'a' }, value: 7 }],
      gauges: [],
      histograms: [
        {
          name: 'h',
          labels: {},
          sum: 0.5,
          count: 2,
          buckets: [
            { le: 0.1, count: 1 },
            { le: Infinity, count: 2 },
          ],
        },
      ],
    } as never);
    const s = streams[0]!;
    s.sendFlowControl({ correlationId: null, action: 1, bufferAvailable: null, timestampMs: 2 });
    s.sendConfigUpdate({
      updateType: { type: 'list_update', listId: 'ips', add: ['198.51.100.7'], remove: [] },
      requestId: 'cu-1',
      timestampMs: 3,
    });
    const log: LogMessage = { level: 3, message: 'slow rule', correlationId: 'c-9', fields: { rule: 'r1' }, timestampMs: 4 };
    s.sendLog(log);
    await waitFor(() => got['log']!.length === 1);
    assert.deepEqual(got['health'], [health]);
    const metrics = got['metrics']![0] as { counters: Array<{ value: number }>; histograms: Array<{ buckets: Array<{ le: number }> }> };
    assert.equal(metrics.counters[0]!.value, 7);
    assert.equal(metrics.histograms[0]!.buckets[1]!.le, Infinity);
    assert.deepEqual(got['flow'], [{ correlationId: null, action: 1, bufferAvailable: null, timestampMs: 2 }]);
    assert.deepEqual((got['update']![0] as { updateType: unknown }).updateType, {
      type: 'list_update',
      listId: 'ips',
      add: ['198.51.100.7'],
      remove: [],
    });
    assert.deepEqual(got['log'], [log]);
    conn.close();
  });

  test('the initial Configure is acknowledged by the agent; a rejection fails the handshake', async () => {
    const configs: unknown[] = [];
    const { endpoint } = await startGrpcAgent({
      onConfigure: (e) => (
        configs.push([e.config, e.isInitial, e.configVersion]),
        (e.config as { ok: boolean }).ok ? {} : { decision: { type: 'block', status: 400, body: null, headers: null } }
      ),
    });
    const conn = await connectGrpcAgent(endpoint, { config: { ok: true }, initialPushId: 'push-7' });
    assert.deepEqual(configs, [[{ ok: true }, true, 'push-7']]);
    // A push whose version differs from the caller's cid is matched by its config_version.
    const r = await conn.send(
      'configure',
      { correlationId: 'push-8', config: { ok: true }, configVersion: 'v2', isInitial: false },
      'push-8',
    );
    assert.equal(r.decision.type, 'allow');
    assert.equal(r.synthetic, undefined);
    conn.close();
    await assert.rejects(connectGrpcAgent(endpoint, { config: { ok: false } }), { code: 'ZAP_HANDSHAKE_FAILED', message: /rejected/ });
  });

  test('without config_push the agent is not waited for: Configure resolves with an Allow once written', async () => {
    const configs: unknown[] = [];
    const { endpoint } = await startGrpcAgent(
      { onConfigure: (e) => void configs.push(e.config) },
      { capabilities: { features: { configPush: false } } },
    );
    const conn = await connectGrpcAgent(endpoint, { config: { a: 1 } });
    const r = await conn.send('configure', { correlationId: 'p2', config: { a: 2 }, configVersion: 'p2', isInitial: false }, 'p2');
    assert.equal(r.decision.type, 'allow');
    assert.equal(conn.inFlight, 0); // nothing waits for an answer that a Rust agent never sends
    await waitFor(() => configs.length === 2);
    assert.deepEqual(configs, [{ a: 1 }, { a: 2 }]);
    conn.close();
  });

  test('an event over grpcMaxSendBytes fails with ZAP_FRAME_TOO_LARGE and the stream stays usable', async () => {
    const { endpoint } = await startGrpcAgent({});
    const conn = await connectGrpcAgent(endpoint, { maxSendBytes: 1024 });
    const big = { ...sampleDomainEvent('request_body_chunk', 'big'), data: Buffer.alloc(2048, 1) };
    await assert.rejects(conn.send('request_body_chunk', big, 'big'), { code: 'ZAP_FRAME_TOO_LARGE' });
    assert.equal((await conn.send('request_headers', requestHeaders('small'), 'small')).decision.type, 'allow');
    conn.close();
  });

  test('each connection has its own HTTP/2 connection (no shared subchannel)', async () => {
    const streams: GrpcAgentStream[] = [];
    const { endpoint, server } = await startGrpcAgent({});
    server.on('connection', (s: GrpcAgentStream) => streams.push(s));
    const conns = await Promise.all([1, 2, 3].map(() => connectGrpcAgent(endpoint)));
    await waitFor(() => streams.length === 3);
    assert.equal(new Set(streams.map((s) => s.peer)).size, 3, streams.map((s) => s.peer).join(', '));
    for (const c of conns) c.close();
  });

  test('closing the connection fails what is in flight with ZAP_CONNECTION_LOST and ends the stream on the agent', async () => {
    const streams: GrpcAgentStream[] = [];
    const { endpoint, server } = await startGrpcAgent({ onRequestHeaders: () => new Promise(() => {}) });
    server.on('connection', (s: GrpcAgentStream) => streams.push(s));
    const conn = await connectGrpcAgent(endpoint);
    const pending = Array.from({ length: 10 }, (_, i) => conn.send('request_headers', requestHeaders(`h${i}`), `h${i}`));
    conn.close();
    for (const p of pending) await assert.rejects(p, { code: 'ZAP_CONNECTION_LOST' });
    await assert.rejects(conn.send('request_headers', requestHeaders('after'), 'after'), { code: 'ZAP_CONNECTION_LOST' });
    await assert.rejects(conn.ping(), { code: 'ZAP_CONNECTION_LOST' });
    await waitFor(() => server.connections === 0);
    assert.equal(streams.length, 1);
  });

  test('agent server closing ends the stream: in-flight calls settle with ZAP_CONNECTION_LOST', async () => {
    let got = 0;
    const { endpoint, server } = await startGrpcAgent({ onRequestHeaders: () => (got++, new Promise(() => {})) });
    const conn = await connectGrpcAgent(endpoint);
    const closed = once(conn, 'close');
    const pending = Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => conn.send('request_headers', requestHeaders(`s${i}`), `s${i}`)),
    );
    await waitFor(() => server.connections === 1 && got === 20);
    await server.close();
    const results = await pending;
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.equal((r.reason as AgentPoolError).code, 'ZAP_CONNECTION_LOST');
    }
    const [err] = (await closed) as [AgentPoolError];
    assert.equal(err.code, 'ZAP_CONNECTION_LOST');
  });
});

describe('gRPC connection set-up', () => {
  test('nothing listening: ZAP_CONNECT_FAILED fast, with the reason', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(connectGrpcAgent(`127.0.0.1:${port}`, { connectTimeoutMs: 4_000 }), (err: unknown) => {
      assert.ok(err instanceof AgentPoolError, 'typed error');
      assert.equal(err.code, 'ZAP_CONNECT_FAILED');
      // Fails on the refusal itself, not by running out the connect timeout.
      assert.match(err.message, /ECONNREFUSED/);
      assert.doesNotMatch(err.message, /timed out|timeout/i);
      return true;
    });
  });

  test('a peer that accepts TCP but never speaks HTTP/2 fails the connect within connectTimeoutMs', async () => {
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
    await assert.rejects(connectGrpcAgent(`http://127.0.0.1:${port}`, { connectTimeoutMs: 300 }), {
      code: 'ZAP_CONNECT_FAILED',
      message: /timed out after 300 ms/,
    });
    await waitFor(() => sockets.size === 0); // the half-open connection is released, not leaked
  });

  test('an agent that never answers the handshake: ZAP_HANDSHAKE_FAILED after handshakeTimeoutMs', async () => {
    const { startPlainServer } = await import('./support/grpc-plain-peer.js');
    const { address } = await startPlainServer({ onStreamMessage: () => {} });
    await assert.rejects(connectGrpcAgent(address, { handshakeTimeoutMs: 150 }), {
      code: 'ZAP_HANDSHAKE_FAILED',
      message: /handshake timeout/,
    });
  });

  test('handshake answers are checked in spec order with the spec texts', async () => {
    const { startPlainServer, plainHandshakeOk } = await import('./support/grpc-plain-peer.js');
    const answers = [
      { response: { correlation_id: 'x', allow: {} } },
      { handshake: { success: false, error: 'agent is full' } },
      { ...plainHandshakeOk('a'), handshake: { ...plainHandshakeOk('a')['handshake'], protocol_version: 1 } },
    ];
    let n = 0;
    const { address } = await startPlainServer({ onStreamMessage: (call) => void call.write(answers[n++]!) });
    for (const message of [
      'Invalid handshake response',
      'Handshake failed: agent is full',
      'Protocol version mismatch: expected 2, got 1',
    ]) {
      await assert.rejects(connectGrpcAgent(address), { code: 'ZAP_HANDSHAKE_FAILED', message });
    }
  });

  test('our agent refuses a proxy that does not offer version 2', async () => {
    const { plainClient, plainStream } = await import('./support/grpc-plain-peer.js');
    const { endpoint } = await startGrpcAgent({});
    const stream = plainStream(plainClient(endpoint.replace('grpc://', '')));
    stream.call.write({ handshake: { supported_versions: [1], proxy_id: 'old', proxy_version: '0.1' } });
    const reply = await stream.next();
    assert.equal(reply['handshake']['success'] ?? false, false); // proto3: false is not written
    assert.equal(reply['handshake']['error'], 'unsupported protocol version');
    assert.equal((await stream.status).code, 0);
  });
});
