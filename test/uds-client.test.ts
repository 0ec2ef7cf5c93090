// Proxy-side UDS connection against our AgentServer and against raw misbehaving peers, over real
// Unix sockets: every event kind and decision, pipelining, timeout, cancel, abort, crash, garbage.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { AgentServer } from '../src/agent/agent-server.js';
import type { AgentHandler } from '../src/agent/handler.js';
import { connectUdsAgent } from '../src/connection/uds-agent-client.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { MessageType } from '../src/protocol/message-type.js';
import type { EventKind } from '../src/protocol/types.js';
import { ALL_EVENT_KINDS, requestHeaders, sampleDomainEvent } from './support/events.js';
import { checkPongsMatchTheirPing, type SeenPing } from './support/ping-pairs.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

async function startAgent(handler: AgentHandler, extra: { encoding?: 'json' | 'msgpack' | 'prefer-msgpack' } = {}) {
  const path = socketPath();
  const server = new AgentServer({ agentId: 'test-agent', handler, ...extra });
  await server.listen(path);
  after(() => server.close());
  return { path, server };
}

/** A raw peer that answers the handshake then runs `onEvent` for each frame it receives. */
async function startRawAgent(onEvent: (socket: Socket, type: number, payload: Buffer) => void): Promise<{ path: string; server: Server }> {
  const path = socketPath('raw');
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let shook = false;
    const decoder = new FrameDecoder((type, payload) => {
      if (!shook) {
        shook = true;
        const hs = {
          protocol_version: 2,
          capabilities: { agent_id: 'raw', name: 'raw', version: '0', supported_events: [1] },
          success: true,
          error: null,
          encoding: 'json',
        };
        socket.write(encodeFrame(MessageType.HandshakeResponse, Buffer.from(JSON.stringify(hs))));
        return;
      }
      onEvent(socket, type, payload);
    });
    socket.on('data', (c: Buffer) => decoder.push(c));
    socket.on('error', () => {});
  });
  server.listen(path);
  await once(server, 'listening');
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { path, server };
}

function allowFor(cid: string): Buffer {
  return Buffer.from(JSON.stringify({ version: 2, decision: 'allow', audit: { custom: { correlation_id: cid } } }));
}

describe('UDS client ↔ AgentServer', () => {
  test('every event kind gets its reply, in both encodings', async () => {
    const seen: EventKind[] = [];
    const handler: AgentHandler = {
      onRequestHeaders: (e) => (seen.push('request_headers'), { requestHeaders: [{ op: 'set', name: 'x-uri', value: e.uri }] }),
      onRequestBodyChunk: () => void seen.push('request_body_chunk'),
      onResponseHeaders: () => void seen.push('response_headers'),
      onResponseBodyChunk: () => void seen.push('response_body_chunk'),
      onRequestComplete: () => void seen.push('request_complete'),
      onWebSocketFrame: () => (seen.push('websocket_frame'), { websocketDecision: { type: 'drop' } }),
      onGuardrailInspect: () => void seen.push('guardrail_inspect'),
      onConfigure: () => void seen.push('configure'),
    };
    for (const encoding of ['json', 'msgpack'] as const) {
      seen.length = 0;
      const { path } = await startAgent(handler, { encoding: 'prefer-msgpack' });
      const conn = await connectUdsAgent(path, { encoding });
      assert.equal(conn.encoding, encoding);
      for (const kind of ALL_EVENT_KINDS) {
        const cid = `${encoding}-${kind}`;
        const reply = await conn.send(kind, sampleDomainEvent(kind, cid) as never, cid);
        assert.equal(reply.decision.type, 'allow', kind);
        if (kind === 'request_headers') assert.deepEqual(reply.requestHeaders, [{ op: 'set', name: 'x-uri', value: '/' }]);
        if (kind === 'websocket_frame') assert.deepEqual(reply.websocketDecision, { type: 'drop' });
      }
      assert.deepEqual(seen, [...ALL_EVENT_KINDS]);
      conn.close();
    }
  });

  test('every decision variant round-trips', async () => {
    const { path } = await startAgent({
      onRequestHeaders: (e) => {
        switch (e.uri) {
          case '/block':
            return { decision: { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-reason': 'policy' } } };
          case '/redirect':
            return { decision: { type: 'redirect', url: 'https://login.example/', status: 302 } };
          case '/challenge':
            return { decision: { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } } };
          default:
            return { audit: { tags: ['ok'], ruleIds: ['r1'] } };
        }
      },
    });
    const conn = await connectUdsAgent(path);
    const block = await conn.send('request_headers', requestHeaders('b', '/block'), 'b');
    assert.deepEqual(block.decision, { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-reason': 'policy' } });
    const redirect = await conn.send('request_headers', requestHeaders('r', '/redirect'), 'r');
    assert.deepEqual(redirect.decision, { type: 'redirect', url: 'https://login.example/', status: 302 });
    const challenge = await conn.send('request_headers', requestHeaders('c', '/challenge'), 'c');
    assert.deepEqual(challenge.decision, { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } });
    const allow = await conn.send('request_headers', requestHeaders('a', '/'), 'a');
    assert.deepEqual(allow.decision, { type: 'allow' });
    assert.deepEqual(allow.audit.tags, ['ok']);
    assert.equal(allow.audit.custom['correlation_id'], 'a');
    conn.close();
  });

  test('2 000 pipelined requests with random delays all settle with their own reply', async () => {
    const { path } = await startAgent({
      onRequestHeaders: async (e) => {
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20)));
        return { requestHeaders: [{ op: 'set', name: 'x-echo', value: e.metadata.correlationId }] };
      },
    });
    const conn = await connectUdsAgent(path);
    const order: string[] = [];
    const calls = Array.from({ length: 2000 }, (_, i) =>
      conn.send('request_headers', requestHeaders(`p-${i}`), `p-${i}`).then((r) => {
        order.push(`p-${i}`);
        return r;
      }),
    );
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-echo', value: `p-${i}` }]));
    assert.notDeepEqual(
      order,
      [...order].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))),
      'replies came out of order',
    );
    assert.equal(conn.inFlight, 0);
    conn.close();
  });

  test('a second event of the same cid waits for the first (one outstanding per cid)', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const { path } = await startAgent({
      onRequestBodyChunk: async () => {
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await new Promise((r) => setTimeout(r, 5));
        concurrent--;
      },
    });
    const conn = await connectUdsAgent(path);
    const chunks = Array.from({ length: 5 }, (_, i) =>
      conn.send('request_body_chunk', { ...sampleDomainEvent('request_body_chunk', 'same'), chunkIndex: i }, 'same'),
    );
    await Promise.all(chunks);
    assert.equal(maxConcurrent, 1);
    conn.close();
  });

  test('timeout rejects with ZAP_TIMEOUT and sends Cancel(timeout); the late reply is discarded', async () => {
    const cancels: unknown[] = [];
    const { path } = await startRawAgent((socket, type, payload) => {
      const body = JSON.parse(payload.toString()) as { correlation_id: string; reason?: number };
      if (type === MessageType.Cancel) {
        cancels.push(body);
        // answer the cancelled call anyway, late
        socket.write(encodeFrame(MessageType.AgentResponse, allowFor(body.correlation_id)));
      }
    });
    const conn = await connectUdsAgent(path);
    const late: string[] = [];
    conn.on('late-reply', (cid) => late.push(cid));
    await assert.rejects(conn.send('request_headers', requestHeaders('t1'), 't1', { timeoutMs: 50 }), {
      code: 'ZAP_TIMEOUT',
      correlationId: 't1',
    });
    await waitFor(() => late.length === 1);
    assert.equal(cancels.length, 1);
    assert.equal((cancels[0] as { correlation_id: string }).correlation_id, 't1');
    assert.equal((cancels[0] as { reason: number }).reason, 1); // UDS numbering: 1 = Timeout
    assert.deepEqual(late, ['t1']);
    assert.equal(conn.closed, false);
    conn.close();
  });

  test('abort settles with an AbortError at once and sends Cancel with the signal reason', async () => {
    const cancels: unknown[] = [];
    const { path } = await startAgent({
      onRequestHeaders: (_e, ctx) =>
        new Promise((resolve) => ctx.signal.addEventListener('abort', () => (cancels.push(ctx.signal.reason), resolve({})))),
    });
    const conn = await connectUdsAgent(path);
    const ac = new AbortController();
    const pending = conn.send('request_headers', requestHeaders('ab'), 'ab', { signal: ac.signal });
    setTimeout(() => ac.abort('upstream_error'), 20);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof AgentPoolError);
      assert.equal(err.name, 'AbortError');
      assert.equal(err.code, 'ABORT_ERR');
      assert.equal(err.cause, 'upstream_error');
      return true;
    });
    await waitFor(() => cancels.length === 1);
    assert.deepEqual(cancels, ['upstream_error']);
    // an already-aborted signal never reaches the socket
    await assert.rejects(conn.send('request_headers', requestHeaders('x'), 'x', { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' });
    conn.close();
  });

  test('ping is answered byte for byte', async () => {
    // Our agent: the Pong echoes the Ping (its wire bytes are checked in agent-server.test.ts).
    const { path } = await startAgent({});
    const conn = await connectUdsAgent(path);
    const t0 = Date.now();
    const rtt = await conn.ping();
    assert.ok(rtt >= 0 && rtt <= Date.now() - t0, `rtt ${rtt} within the measured round trip`);
    conn.close();
  });

  test('ping is answered byte for byte: each Pong settles the ping whose bytes it echoes, no other', async () => {
    const pings: Buffer[] = [];
    const sockets: Socket[] = [];
    const { path } = await startRawAgent((socket, type, payload) => {
      if (type !== MessageType.Ping) return;
      pings.push(Buffer.from(payload));
      sockets.push(socket);
    });
    const conn = await connectUdsAgent(path);
    // The peer echoes the k-th Ping's bytes, unchanged, as its Pong.
    await checkPongsMatchTheirPing(
      conn,
      () => pings.map((p) => JSON.parse(p.toString('utf8')) as SeenPing),
      (k) => sockets[k]!.write(encodeFrame(MessageType.Pong, pings[k]!)),
    );
    conn.close();
  });

  test('initial Configure is delivered after the handshake; a rejected config fails the connection', async () => {
    const configs: unknown[] = [];
    const { path } = await startAgent({
      onConfigure: (e) => {
        configs.push({ config: e.config, initial: e.isInitial, id: e.correlationId });
        return (e.config as { ok?: boolean }).ok === false
          ? { decision: { type: 'block', status: 500, body: 'Configuration rejected', headers: null } }
          : {};
      },
    });
    const conn = await connectUdsAgent(path, { config: { ok: true, level: 2 } });
    assert.deepEqual(configs, [{ config: { ok: true, level: 2 }, initial: true, id: 'push-1' }]);
    conn.close();
    await assert.rejects(connectUdsAgent(path, { config: { ok: false } }), { code: 'ZAP_HANDSHAKE_FAILED' });
  });

  test('msgpack required by us but not accepted by the agent fails the handshake', async () => {
    const { path } = await startAgent({}, { encoding: 'json' });
    await assert.rejects(connectUdsAgent(path, { encoding: 'msgpack' }), { code: 'ZAP_HANDSHAKE_FAILED' });
  });
});

describe('UDS client failures', () => {
  test('connect to a missing socket fails with ZAP_CONNECT_FAILED', async () => {
    await assert.rejects(connectUdsAgent(socketPath('missing')), { code: 'ZAP_CONNECT_FAILED' });
  });

  test('an agent that never answers the handshake times out', async () => {
    const path = socketPath('silent');
    const server = createServer(() => {});
    server.listen(path);
    await once(server, 'listening');
    after(() => server.close());
    await assert.rejects(connectUdsAgent(path, { handshakeTimeoutMs: 50 }), (err: unknown) => {
      assert.ok(err instanceof AgentPoolError);
      assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
      assert.match(err.message, /handshake timeout/);
      return true;
    });
  });

  test('a malformed frame closes that connection with ZAP_PROTOCOL_ERROR; other connections keep working', async () => {
    let n = 0;
    const { path } = await startRawAgent((socket, type, payload) => {
      const cid = (JSON.parse(payload.toString()) as { correlation_id: string }).correlation_id;
      if (cid.startsWith('bad')) socket.write(Buffer.from([0, 0, 0, 3, 0x99, 1, 2]));
      else if (!cid.startsWith('hold')) socket.write(encodeFrame(MessageType.AgentResponse, allowFor(cid)));
      n++;
      void type;
    });
    const good = await connectUdsAgent(path);
    const bad = await connectUdsAgent(path);
    const inflight = bad.send('request_headers', requestHeaders('hold-1'), 'hold-1', { timeoutMs: 5_000 });
    const closed = once(bad, 'close');
    await assert.rejects(bad.send('request_headers', requestHeaders('bad-1'), 'bad-1'), (err: unknown) => {
      assert.ok(err instanceof AgentPoolError);
      assert.equal(err.code, 'ZAP_PROTOCOL_ERROR');
      assert.match(err.message, /Unknown message type: 0x99/);
      return true;
    });
    await assert.rejects(inflight, { code: 'ZAP_PROTOCOL_ERROR' });
    await closed;
    assert.equal(bad.closed, true);
    const ok = await good.send('request_headers', requestHeaders('fine'), 'fine');
    assert.equal(ok.decision.type, 'allow');
    assert.ok(n >= 2);
    good.close();
  });

  test('a reply with a bad shape fails only its call; an unroutable reply is dropped', async () => {
    const { path } = await startRawAgent((socket, _type, payload) => {
      const cid = (JSON.parse(payload.toString()) as { correlation_id: string }).correlation_id;
      if (cid === 'shape') {
        socket.write(encodeFrame(MessageType.AgentResponse, Buffer.from(JSON.stringify({ decision: 'allow', correlation_id: cid }))));
      } else {
        socket.write(encodeFrame(MessageType.AgentResponse, Buffer.from(JSON.stringify({ version: 2, decision: 'allow' }))));
        socket.write(encodeFrame(MessageType.AgentResponse, allowFor(cid)));
      }
    });
    const conn = await connectUdsAgent(path);
    let unroutable = 0;
    conn.on('unroutable-reply', () => unroutable++);
    await assert.rejects(conn.send('request_headers', requestHeaders('shape'), 'shape'), {
      code: 'ZAP_PROTOCOL_ERROR',
      correlationId: 'shape',
    });
    const ok = await conn.send('request_headers', requestHeaders('fine'), 'fine');
    assert.equal(ok.decision.type, 'allow');
    assert.equal(unroutable, 1);
    assert.equal(conn.closed, false);
    conn.close();
  });

  test('an agent closing half-way through a frame fails every in-flight call with a typed error', async () => {
    const { path } = await startRawAgent((socket, _type, payload) => {
      const cid = (JSON.parse(payload.toString()) as { correlation_id: string }).correlation_id;
      if (cid === 'c-9') socket.end(Buffer.from([0, 0, 0, 50, 0x20, 0x7b]));
    });
    const conn = await connectUdsAgent(path);
    const calls = Array.from({ length: 10 }, (_, i) => conn.send('request_headers', requestHeaders(`c-${i}`), `c-${i}`));
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof AgentPoolError);
      assert.equal(r.reason.code, 'ZAP_PROTOCOL_ERROR');
    }
    await assert.rejects(conn.send('request_headers', requestHeaders('after'), 'after'), { code: 'ZAP_PROTOCOL_ERROR' });
  });

  test('an event too large for one frame fails only that call', async () => {
    const { path } = await startAgent({});
    const conn = await connectUdsAgent(path);
    const huge = { ...sampleDomainEvent('request_body_chunk', 'big'), data: Buffer.alloc(13 * 1024 * 1024) };
    await assert.rejects(conn.send('request_body_chunk', huge, 'big'), { code: 'ZAP_FRAME_TOO_LARGE' });
    const ok = await conn.send('request_headers', requestHeaders('small'), 'small');
    assert.equal(ok.decision.type, 'allow');
    conn.close();
  });
});
