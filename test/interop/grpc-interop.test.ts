// Interop of our gRPC transport with plain @grpc/grpc-js peers built only from proto/agent_v2.proto
// (test/support/grpc-plain-peer.ts holds no project code): what our client sends is read by a
// standard protobuf server, what a standard client sends is served by our AgentServer.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { connectGrpcAgent } from '../../src/connection/grpc-agent-client.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import { VERSION } from '../../src/version.js';
import { requestHeaders, sampleDomainEvent } from '../support/events.js';
import { startGrpcAgent, waitFor } from '../support/grpc-agents.js';
import {
  plainClient,
  plainDecode,
  plainEncode,
  plainHandshakeOk,
  plainStream,
  plainUnary,
  startPlainServer,
  startRawBytesServer,
  withoutSynthetic,
  type Msg,
} from '../support/grpc-plain-peer.js';

const EVENT_CID: Record<string, (m: Msg) => string> = {
  request_headers: (m) => m['request_headers']['metadata']['correlation_id'],
  request_body_chunk: (m) => m['request_body_chunk']['correlation_id'],
  response_headers: (m) => m['response_headers']['correlation_id'],
  response_body_chunk: (m) => m['response_body_chunk']['correlation_id'],
  request_complete: (m) => m['request_complete']['correlation_id'],
  websocket_frame: (m) => m['websocket_frame']['correlation_id'],
  guardrail: (m) => m['guardrail']['correlation_id'],
  configure: (m) => m['configure']['config_version'],
};

/** A plain agent: handshake (config_push on), pong, and an answer to every event except uri /hang. */
async function plainAgent() {
  const seen: Msg[] = [];
  const { address, calls } = await startPlainServer({
    onStreamMessage(call, msg) {
      seen.push(msg);
      const which = msg['message'] as string;
      if (which === 'handshake') return void call.write(plainHandshakeOk('plain', { config_push: true, cancellation: true }));
      if (which === 'ping')
        return void call.write({
          pong: { sequence: msg['ping']['sequence'], ping_timestamp_ms: msg['ping']['timestamp_ms'], timestamp_ms: Date.now() },
        });
      const cidOf = EVENT_CID[which];
      if (cidOf === undefined) return; // cancel: no reply by design
      if (which === 'request_headers' && msg['request_headers']['uri'] === '/hang') return;
      if (which === 'request_headers' && msg['request_headers']['uri'] === '/block') {
        return void call.write({
          response: {
            correlation_id: cidOf(msg),
            block: {
              status: 403,
              body: 'no',
              headers: [
                { name: 'x-a', value: '1' },
                { name: 'x-a', value: '2' },
              ],
            },
          },
        });
      }
      call.write({
        response: {
          correlation_id: cidOf(msg),
          allow: {},
          request_headers: [{ set: { name: 'x-kind', value: which } }],
          processing_time_ms: 3,
        },
      });
    },
  });
  return { address, seen, calls };
}

describe('our gRPC client ↔ a plain grpc-js agent', () => {
  test('the handshake, every event kind, cancel and ping as a standard protobuf peer reads them', async () => {
    const { address, seen } = await plainAgent();
    const conn = await connectGrpcAgent(address, { config: { mode: 'strict' }, initialPushId: 'push-1' });
    assert.deepEqual(seen[0], {
      message: 'handshake',
      handshake: { supported_versions: [2], proxy_id: 'zentinel-proxy', proxy_version: VERSION, config_json: '{"mode":"strict"}' },
    });
    assert.equal(seen[1]!['message'], 'configure');
    assert.deepEqual(
      { ...withoutSynthetic(seen[1]!['configure']), timestamp_ms: 0 },
      { config_json: '{"mode":"strict"}', config_version: 'push-1', is_initial: true, timestamp_ms: 0 },
    );

    const headers = requestHeaders('rh', '/x', { accept: ['a/b', 'c/d'] });
    const r = await conn.send('request_headers', headers, 'rh');
    assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-kind', value: 'request_headers' }]);
    assert.equal(r.processingTimeMs, 3);
    const rh = seen.at(-1)!['request_headers'];
    assert.equal(rh['metadata']['correlation_id'], 'rh');
    assert.equal(rh['http_version'], 'HTTP/1.1');
    assert.equal(rh['metadata']['timestamp_ms'], Date.parse('2026-01-01T00:00:00.000Z'));
    assert.deepEqual(rh['headers'], [
      { name: 'host', value: 'shop.example' },
      { name: 'accept', value: 'a/b' },
      { name: 'accept', value: 'c/d' },
    ]);
    for (const kind of [
      'request_body_chunk',
      'response_headers',
      'response_body_chunk',
      'request_complete',
      'websocket_frame',
      'guardrail_inspect',
    ] as const) {
      const reply = await conn.send(kind, sampleDomainEvent(kind, `e-${kind}`) as never, `e-${kind}`);
      assert.equal(reply.decision.type, 'allow', kind);
    }
    const wire = seen.slice(-6);
    assert.deepEqual(
      wire.map((m) => m['message']),
      ['request_body_chunk', 'response_headers', 'response_body_chunk', 'request_complete', 'websocket_frame', 'guardrail'],
    );
    assert.deepEqual([...wire[0]!['request_body_chunk']['data']], [...Buffer.from('hello')]);
    assert.equal(wire[4]!['websocket_frame']['frame_type'], 1);
    assert.equal(wire[5]!['guardrail']['content_type'], 1);

    const block = await conn.send('request_headers', requestHeaders('b', '/block'), 'b');
    assert.deepEqual(block.decision, { type: 'block', status: 403, body: 'no', headers: { 'x-a': '2' } });

    await assert.rejects(conn.send('request_headers', requestHeaders('t', '/hang'), 't', { timeoutMs: 30 }), { code: 'ZAP_TIMEOUT' });
    await waitFor(() => seen.at(-1)!['message'] === 'cancel');
    const cancel = seen.at(-1)!['cancel'];
    assert.equal(cancel['correlation_id'], 't');
    assert.equal(cancel['reason'], 2); // gRPC numbering: 2 = Timeout

    const t0 = Date.now();
    const rtt = await conn.ping();
    const t1 = Date.now();
    assert.ok(rtt >= 0 && rtt <= t1 - t0, `rtt ${rtt} within the measured round trip`);
    const ping = seen.at(-1)!['ping'];
    assert.equal(ping['sequence'] ?? 0, 0);
    assert.ok(ping['timestamp_ms'] >= t0 && ping['timestamp_ms'] <= t1, `timestamp_ms ${ping['timestamp_ms']} is the send time`);
    conn.close();
  });

  test('control messages from a plain agent surface as events; stray replies and empty messages are tolerated', async () => {
    const { address, calls } = await plainAgent();
    const conn = await connectGrpcAgent(address);
    const got: string[] = [];
    for (const name of [
      'health',
      'metrics',
      'flow-control',
      'config-update',
      'log',
      'late-reply',
      'unroutable-reply',
      'bad-control-frame',
    ] as const) {
      conn.on(name, () => got.push(name));
    }
    const [call] = [...calls];
    call!.write({ health: { agent_id: 'plain', state: 4, unhealthy_reason: 'db down', recoverable: true, timestamp_ms: 5 } });
    call!.write({
      metrics: {
        agent_id: 'plain',
        timestamp_ms: 1,
        interval_ms: 10_000,
        histograms: [{ name: 'h', sum: 1, count: 1, buckets: [{ le: Infinity, count: 1 }] }],
      },
    });
    call!.write({ flow_control: { correlation_id: 'c1', action: 3, buffer_available: 65_536, timestamp_ms: 1 } });
    call!.write({ config_update: { request_id: 'r', timestamp_ms: 1, restart_required: { reason: 'upgrade', grace_period_ms: 1_000 } } });
    call!.write({ log: { level: 2, message: 'hello', fields: { a: 'b' }, timestamp_ms: 1 } });
    call!.write({ response: { correlation_id: 'nobody', allow: {} } });
    call!.write({ response: { allow: {} } });
    call!.write({});
    await waitFor(() => got.length === 8);
    assert.deepEqual(got, [
      'health',
      'metrics',
      'flow-control',
      'config-update',
      'log',
      'late-reply',
      'unroutable-reply',
      'bad-control-frame',
    ]);
    assert.equal(conn.closed, false);
    assert.equal((await conn.send('request_headers', requestHeaders('ok'), 'ok')).decision.type, 'allow');
    // A second handshake is a protocol violation: the connection closes.
    const closed = once(conn, 'close');
    call!.write(plainHandshakeOk('again'));
    const [err] = (await closed) as [AgentPoolError];
    assert.equal(err.code, 'ZAP_PROTOCOL_ERROR');
  });

  test('bytes that are not an AgentToProxy fail every in-flight call with ZAP_PROTOCOL_ERROR', async () => {
    let events = 0;
    const { address } = await startRawBytesServer((call, bytes) => {
      const msg = plainDecode('ProxyToAgent', bytes);
      if (msg['message'] === 'handshake') call.write(plainEncode('AgentToProxy', plainHandshakeOk('raw')));
      else if (msg['request_headers']?.['uri'] === '/poison') call.write(Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      else events++;
    });
    const conn = await connectGrpcAgent(address);
    const waiting = Promise.allSettled([1, 2, 3].map((i) => conn.send('request_headers', requestHeaders(`w${i}`), `w${i}`)));
    await waitFor(() => events === 3);
    await assert.rejects(conn.send('request_headers', requestHeaders('p', '/poison'), 'p'), { code: 'ZAP_PROTOCOL_ERROR' });
    for (const r of await waiting) {
      assert.equal(r.status, 'rejected');
      assert.equal((r.reason as AgentPoolError).code, 'ZAP_PROTOCOL_ERROR');
    }
    assert.equal(conn.closed, true);
  });

  test('a non-OK status ends the connection: calls fail with ZAP_CONNECTION_LOST naming the status', async () => {
    const { address } = await startRawBytesServer((call, bytes) => {
      const msg = plainDecode('ProxyToAgent', bytes);
      if (msg['message'] === 'handshake') call.write(plainEncode('AgentToProxy', plainHandshakeOk('raw')));
      else call.emit('error', { code: 8, details: 'agent overloaded' }); // RESOURCE_EXHAUSTED
    });
    const conn = await connectGrpcAgent(address);
    await assert.rejects(conn.send('request_headers', requestHeaders('s'), 's'), {
      code: 'ZAP_CONNECTION_LOST',
      message: /RESOURCE_EXHAUSTED.*agent overloaded/,
    });
  });
});

describe('a plain grpc-js proxy ↔ our AgentServer', () => {
  async function ourAgent() {
    const cancels: string[] = [];
    const hanging: string[] = [];
    const { endpoint } = await startGrpcAgent({
      onRequestHeaders: (e, ctx) => {
        if (e.uri === '/hang') {
          hanging.push(ctx.correlationId);
          return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({})));
        }
        if (e.uri === '/block')
          return { decision: { type: 'block', status: 403, body: 'blocked', headers: { 'x-rule': '7' } }, audit: { custom: { s: 'str' } } };
        return { requestHeaders: [{ op: 'set', name: 'x-seen', value: `${e.method} ${e.uri} ${e.headers['accept']?.join('|') ?? ''}` }] };
      },
      onConfigure: (e) => (e.config === null ? { decision: { type: 'block', status: 400, body: null, headers: null } } : {}),
      onCancel: (c) => cancels.push(`${c.correlationId}:${c.reason}`),
    });
    return { address: endpoint.replace('grpc://', ''), cancels, hanging };
  }

  const headersEvent = (cid: string, uri: string): Msg => ({
    request_headers: {
      metadata: {
        correlation_id: cid,
        request_id: cid,
        client_ip: '192.0.2.1',
        client_port: 4000,
        protocol: 'HTTP/2',
        timestamp_ms: 1_767_225_600_000,
      },
      method: 'POST',
      uri,
      http_version: 'HTTP/2',
      headers: [
        { name: 'accept', value: 'x' },
        { name: 'accept', value: 'y' },
      ],
    },
  });

  test('ProcessStream: handshake, events and decisions, ping → pong, cancel', async () => {
    const { address, cancels, hanging } = await ourAgent();
    const s = plainStream(plainClient(address));
    s.call.write({ handshake: { supported_versions: [2], proxy_id: 'plain-proxy', proxy_version: '9', config_json: '{}' } });
    const hs = (await s.next())['handshake'];
    assert.equal(hs['success'], true);
    assert.equal(hs['protocol_version'], 2);
    assert.equal(hs['capabilities']['agent_id'], 'grpc-agent');
    assert.equal(hs['capabilities']['features']['config_push'], true);

    s.call.write(headersEvent('c1', '/a'));
    const allow = (await s.next())['response'];
    assert.equal(allow['correlation_id'], 'c1');
    assert.equal(allow['decision'], 'allow');
    assert.deepEqual(allow['request_headers'], [{ operation: 'set', set: { name: 'x-seen', value: 'POST /a x|y' } }]);

    s.call.write(headersEvent('c2', '/block'));
    const blocked = (await s.next())['response'];
    assert.deepEqual(withoutSynthetic(blocked['block']), { status: 403, body: 'blocked', headers: [{ name: 'x-rule', value: '7' }] });
    assert.deepEqual(blocked['audit']['custom'], { s: 'str' }); // strings verbatim, not JSON text

    s.call.write({ configure: { config_json: '{"k":1}', config_version: 'v7', is_initial: true, timestamp_ms: 1 } });
    assert.equal((await s.next())['response']['correlation_id'], 'v7');

    s.call.write({ ping: { sequence: 41, timestamp_ms: 123 } });
    const pong = (await s.next())['pong'];
    assert.equal(pong['sequence'], 41);
    assert.equal(pong['ping_timestamp_ms'], 123);
    assert.ok(pong['timestamp_ms'] > 0);

    s.call.write(headersEvent('c3', '/hang'));
    await waitFor(() => hanging.includes('c3'));
    s.call.write({ cancel: { correlation_id: 'c3', reason: 5, timestamp_ms: 1 } });
    await waitFor(() => cancels.length === 1);
    assert.deepEqual(cancels, ['c3:proxy_shutdown']);
    s.call.end();
    assert.equal((await s.status).code, 0);
    assert.deepEqual(s.received, []); // nothing for the cancelled event
  });

  test('ProcessStream: every message is answered — empty, unknown and undecodable ones with an error log', async () => {
    const { address } = await ourAgent();
    const s = plainStream(plainClient(address));
    s.call.write({ handshake: { supported_versions: [2] } });
    assert.equal((await s.next())['handshake']['success'], true);
    s.call.write({});
    const log = (await s.next())['log'];
    assert.equal(log['level'], 4);
    assert.match(log['message'], /ZAP_PROTOCOL_ERROR: empty or unknown/);
    assert.equal(log['fields']['code'], 'ZAP_PROTOCOL_ERROR');
    // An event whose JSON text does not parse is still answered: Allow for its cid (§6.10).
    s.call.write({ guardrail: { correlation_id: 'g1', content: 'x', context_json: '{not json' } });
    const reply = (await s.next())['response'];
    assert.equal(reply['correlation_id'], 'g1');
    assert.equal(reply['decision'], 'allow');
    s.call.end();
    assert.equal((await s.status).code, 0);
  });

  test('ProcessStream: anything before the handshake ends the stream with FAILED_PRECONDITION', async () => {
    const { address } = await ourAgent();
    const s = plainStream(plainClient(address));
    s.call.write(headersEvent('early', '/'));
    const status = await s.status;
    assert.equal(status.code, 9); // FAILED_PRECONDITION
    assert.match(status.details, /handshake/);
    assert.deepEqual(s.received, []);
  });

  test('ProcessStream: a half-close still gets the replies in flight; a silent proxy meets the handshake deadline', async () => {
    const { endpoint } = await startGrpcAgent(
      { onRequestHeaders: () => new Promise((resolve) => setTimeout(() => resolve({ audit: { tags: ['late'] } }), 30)) },
      { handshakeTimeoutMs: 100 },
    );
    const client = plainClient(endpoint.replace('grpc://', ''));
    const s = plainStream(client);
    s.call.write({ handshake: { supported_versions: [2] } });
    await s.next();
    s.call.write(headersEvent('h1', '/'));
    s.call.end();
    assert.deepEqual((await s.next())['response']['audit']['tags'], ['late']);
    assert.equal((await s.status).code, 0);
    const silent = plainStream(client);
    const status = await silent.status;
    assert.equal(status.code, 4); // DEADLINE_EXCEEDED
    assert.match(status.details, /handshake/);
  });

  test('ProcessEvent (unary) answers every ProxyToAgent variant, and empty input with INVALID_ARGUMENT', async () => {
    const { address, cancels, hanging } = await ourAgent();
    const client = plainClient(address);
    const hs = await plainUnary(client, { handshake: { supported_versions: [2] } });
    assert.equal(hs.reply!['handshake']['success'], true);
    const ev = await plainUnary(client, headersEvent('u1', '/block'));
    assert.equal(ev.reply!['response']['correlation_id'], 'u1');
    assert.equal(ev.reply!['response']['block']['status'], 403);
    const pong = await plainUnary(client, { ping: { sequence: 3, timestamp_ms: 9 } });
    assert.equal(pong.reply!['pong']['sequence'], 3);
    const cfg = await plainUnary(client, { configure: { config_version: 'cv', config_json: '' } });
    assert.equal(cfg.reply!['response']['block']['status'], 400); // null config rejected by this handler
    const hang = plainUnary(client, headersEvent('u2', '/hang'));
    await waitFor(() => hanging.includes('u2'));
    const cancel = await plainUnary(client, { cancel: { correlation_id: 'u2', reason: 6 } });
    assert.equal(cancel.error, null);
    assert.deepEqual(cancel.reply, {});
    assert.equal((await hang).error?.code, 1); // CANCELLED
    assert.deepEqual(cancels, ['u2:manual']);
    const empty = await plainUnary(client, {});
    assert.equal(empty.error?.code, 3); // INVALID_ARGUMENT
    assert.match(empty.error!.details, /ZAP_PROTOCOL_ERROR/);
  });

  test('ControlStream is accepted, sends nothing, and ends cleanly', async () => {
    const { address } = await ourAgent();
    const client = plainClient(address) as unknown as { ControlStream(): grpc.ClientDuplexStream<Msg, Msg> };
    const call = client.ControlStream();
    const received: Msg[] = [];
    call.on('data', (m: Msg) => received.push(m));
    call.write({ health: { agent_id: 'x', state: 1 } });
    call.end();
    const [status] = (await once(call, 'status')) as [grpc.StatusObject];
    assert.equal(status.code, 0);
    assert.deepEqual(received, []);
  });
});
