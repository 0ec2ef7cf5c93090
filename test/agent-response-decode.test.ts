// agentResponseFromWire (§6.10 step 4): every accepted form and one clear ZAP_PROTOCOL_ERROR per bad shape;
// plus the agent-side event shape checks and best-effort cid (§6.10 last paragraph), and header-op application.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentResponseFromWire, allowResponse, bestEffortEventCorrelationId, emptyAudit } from '../src/protocol/agent-response.js';
import { applyHeaderOps } from '../src/protocol/header-ops.js';
import { jsonCodec } from '../src/protocol/payload-codec.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import type { EventKind } from '../src/protocol/types.js';

function rejects(body: unknown, pattern: RegExp): void {
  assert.throws(
    () => agentResponseFromWire(body),
    (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.ProtocolError && pattern.test(err.message),
    JSON.stringify(body),
  );
}

const base = { version: 2, decision: 'allow' };

test('allowResponse and emptyAudit are the §6.9.1 defaults, fresh each call', () => {
  assert.deepEqual(emptyAudit(), { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: {} });
  const a = allowResponse();
  assert.deepEqual(a, {
    version: 2,
    decision: { type: 'allow' },
    requestHeaders: [],
    responseHeaders: [],
    routingMetadata: {},
    audit: emptyAudit(),
    needsMore: false,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
  });
  a.requestHeaders.push({ op: 'remove', name: 'x' });
  assert.deepEqual(allowResponse().requestHeaders, []);
});

test('null for keys that only have defaults reads as the default (§4.1)', () => {
  const r = agentResponseFromWire({
    ...base,
    request_headers: null,
    response_headers: null,
    routing_metadata: null,
    audit: null,
    needs_more: null,
    request_body_mutation: null,
    response_body_mutation: null,
    websocket_decision: null,
    correlation_id: null,
  });
  assert.deepEqual(r, allowResponse());
  const audit = agentResponseFromWire({ ...base, audit: { tags: null, custom: null, confidence: 1 } }).audit;
  assert.deepEqual(audit, { ...emptyAudit(), confidence: 1 });
});

test('the body itself must be a struct', () => {
  for (const body of ['allow', 2, null, true]) rejects(body, /AgentResponse: expected an object/);
});

test('version must be an integer', () => {
  rejects({ decision: 'allow' }, /'version'/);
  rejects({ ...base, version: '2' }, /'version' must be an integer/);
  rejects({ ...base, version: 2.5 }, /'version' must be an integer/);
});

test('decision forms that are rejected', () => {
  rejects({ version: 2 }, /'decision' is required/);
  rejects({ version: 2, decision: 'deny' }, /unknown decision 'deny'/);
  rejects({ version: 2, decision: { block: { status: 403 }, allow: null } }, /exactly one variant key, got 2/);
  rejects({ version: 2, decision: {} }, /exactly one variant key, got 0/);
  rejects({ version: 2, decision: 7 }, /expected a string or a one-key object/);
  rejects({ version: 2, decision: { allow: { reason: 'x' } } }, /unexpected payload/);
  rejects({ version: 2, decision: { block: {} } }, /'status' must be an integer/);
  rejects({ version: 2, decision: { block: { status: 70000 } } }, /'status' out of range/);
  rejects({ version: 2, decision: { block: { status: 403, headers: { a: ['x'] } } } }, /'headers\.a' must be a string/);
  rejects({ version: 2, decision: { block: { status: 403, body: 5 } } }, /'body' must be a string/);
  rejects({ version: 2, decision: { redirect: { status: 302 } } }, /'url' must be a string/);
  rejects({ version: 2, decision: { challenge: { params: {} } } }, /'challenge_type' must be a string/);
  rejects({ version: 2, decision: { challenge: { challenge_type: 'c', params: { n: 1 } } } }, /'params\.n'/);
});

test('redirect without status reads as 302; a Map decision (msgpack without mapsAsObjects) is accepted', () => {
  assert.deepEqual(agentResponseFromWire({ version: 2, decision: { redirect: { url: '/login' } } }).decision, {
    type: 'redirect',
    url: '/login',
    status: 302,
  });
  const fromMaps = agentResponseFromWire(
    new Map<string, unknown>([
      ['version', 2],
      ['decision', new Map([['block', new Map<string, unknown>([['status', 401]])]])],
      ['routing_metadata', new Map([['k', 'v']])],
      ['audit', new Map([['custom', new Map([['correlation_id', 'c']])]])],
    ]),
  );
  assert.deepEqual(fromMaps.decision, { type: 'block', status: 401, body: null, headers: null });
  assert.deepEqual(fromMaps.routingMetadata, { k: 'v' });
  assert.deepEqual(fromMaps.audit.custom, { correlation_id: 'c' });
});

test('header op forms: tagged map, positional payload, bare remove name, internally tagged', () => {
  const r = agentResponseFromWire({
    ...base,
    request_headers: [
      { set: { name: 'a', value: '1' } },
      { add: ['b', '2'] },
      { remove: 'c' },
      { op: 'set', name: 'd', value: '4' },
      new Map([['remove', { name: 'e' }]]),
    ],
  });
  assert.deepEqual(r.requestHeaders, [
    { op: 'set', name: 'a', value: '1' },
    { op: 'add', name: 'b', value: '2' },
    { op: 'remove', name: 'c' },
    { op: 'set', name: 'd', value: '4' },
    { op: 'remove', name: 'e' },
  ]);
});

test('header op shapes that are rejected name the list and index', () => {
  rejects({ ...base, request_headers: {} }, /request_headers: must be an array/);
  rejects({ ...base, response_headers: ['set'] }, /response_headers\[0\]: a header op must be an object/);
  rejects({ ...base, request_headers: [{ rename: { name: 'a' } }] }, /request_headers\[0\]: unknown header op 'rename'/);
  rejects({ ...base, request_headers: [{ set: { name: 'a' } }] }, /request_headers\[0\]\.set: key 'value'/);
  rejects({ ...base, request_headers: [{ set: { name: 'a', value: '1' }, add: {} }] }, /exactly one key/);
});

test('audit, routing_metadata and needs_more type checks', () => {
  rejects({ ...base, audit: { tags: 'sqli' } }, /AgentResponse\.audit: key 'tags' must be an array of strings/);
  rejects({ ...base, audit: { confidence: 'high' } }, /'confidence' must be a number/);
  rejects({ ...base, audit: { custom: ['x'] } }, /'custom' must be an object/);
  rejects({ ...base, audit: 'none' }, /AgentResponse\.audit: expected an object/);
  rejects({ ...base, routing_metadata: { k: 1 } }, /'routing_metadata\.k' must be a string/);
  rejects({ ...base, needs_more: 'yes' }, /'needs_more' must be a boolean/);
});

test('custom keeps any JSON value', () => {
  const custom = { correlation_id: 'c', n: 1.5, list: [1, { a: null }], flag: false };
  assert.deepEqual(agentResponseFromWire({ ...base, audit: { custom } }).audit.custom, custom);
});

test('body mutation shapes', () => {
  assert.deepEqual(agentResponseFromWire({ ...base, request_body_mutation: {} }).requestBodyMutation, {
    data: null,
    chunkIndex: 0,
  });
  rejects({ ...base, request_body_mutation: { data: 5 } }, /request_body_mutation: key 'data' must be a string/);
  rejects({ ...base, response_body_mutation: { data: '', chunk_index: -1 } }, /'chunk_index' out of range/);
  rejects({ ...base, response_body_mutation: { data: new Uint8Array([1]) } }, /'data' must be a string, got bytes/);
  rejects({ ...base, response_body_mutation: 'drop' }, /response_body_mutation: expected an object/);
});

test('websocket decision forms', () => {
  const ws = (v: unknown) => agentResponseFromWire({ ...base, websocket_decision: v }).websocketDecision;
  assert.deepEqual(ws('allow'), { type: 'allow' });
  assert.deepEqual(ws({ allow: null }), { type: 'allow' });
  assert.deepEqual(ws('drop'), { type: 'drop' });
  assert.deepEqual(ws({ drop: null }), { type: 'drop' });
  assert.deepEqual(ws({ close: { code: 1008, reason: 'policy' } }), { type: 'close', code: 1008, reason: 'policy' });
  assert.equal(ws(undefined), null);
  rejects({ ...base, websocket_decision: 'close' }, /websocket_decision\.close: expected an object/);
  rejects({ ...base, websocket_decision: { close: { code: 1008 } } }, /'reason' must be a string/);
  rejects({ ...base, websocket_decision: 'block' }, /unknown websocket_decision 'block'/);
  rejects({ ...base, websocket_decision: { drop: 1 } }, /unexpected payload/);
});

test('top-level correlation_id: a string is kept, another type ignored', () => {
  assert.equal(agentResponseFromWire({ ...base, correlation_id: 'c-1' }).correlationId, 'c-1');
  assert.equal('correlationId' in agentResponseFromWire({ ...base, correlation_id: 17 }), false);
});

test('bestEffortEventCorrelationId (§6.10): top level, then metadata (map or positional), else ""', () => {
  assert.equal(bestEffortEventCorrelationId({ correlation_id: 'a', metadata: { correlation_id: 'b' } }), 'a');
  assert.equal(bestEffortEventCorrelationId({ correlation_id: 3, metadata: { correlation_id: 'b' } }), 'b');
  assert.equal(bestEffortEventCorrelationId({ metadata: ['m', 'r'] }), 'm');
  assert.equal(bestEffortEventCorrelationId(new Map([['correlation_id', 'x']])), 'x');
  for (const junk of [null, 'str', 5, [], {}, { metadata: 7 }, new Uint8Array([1])]) {
    assert.equal(bestEffortEventCorrelationId(junk), '');
  }
  // The agent-side flow: an undecodable event still yields the cid for its Allow reply.
  const body = jsonCodec.decodeValue(Buffer.from('{"correlation_id":"req-3","opcode":"shout"}'));
  assert.throws(() => jsonCodec.decodeEvent('websocket_frame', Buffer.from(JSON.stringify(body))), AgentPoolError);
  assert.equal(bestEffortEventCorrelationId(body), 'req-3');
});

test('event shapes the agent SDK rejects, each naming the message and key', () => {
  const bad: [EventKind, unknown, RegExp][] = [
    ['request_body_chunk', { correlation_id: 'c', data: 'AA==' }, /RequestBodyChunk: key 'is_last' must be a boolean/],
    ['request_body_chunk', { correlation_id: 'c', data: '@@', is_last: true }, /'data' must be valid base64/],
    ['response_body_chunk', { data: 'AA==', is_last: true }, /ResponseBodyChunk: key 'correlation_id'/],
    ['websocket_frame', { correlation_id: 'c', opcode: 'shout' }, /unknown opcode 'shout'/],
    ['guardrail_inspect', { correlation_id: 'c', inspection_type: 'toxicity', content: '' }, /unknown inspection_type/],
    ['response_headers', { correlation_id: 'c', status: 200, headers: { a: 'x' } }, /header 'a' must be an array of strings/],
    ['response_headers', { correlation_id: 'c', status: 200, headers: { a: [1] } }, /header 'a' must be an array of strings/],
    ['response_headers', { correlation_id: 'c', status: 200 }, /'headers' must be an object of string arrays/],
    ['request_headers', { method: 'GET', uri: '/', headers: {} }, /RequestHeaders\.metadata: expected an object/],
    ['request_complete', { correlation_id: 'c', status: 200 }, /'duration_ms' must be an integer/],
    ['configure', { correlation_id: 5 }, /Configure: key 'correlation_id' must be a string/],
    ['request_headers', [], /RequestHeaders\.metadata/],
    ['configure', 'x', /Configure: expected an object/],
  ];
  for (const [kind, wire, pattern] of bad) {
    assert.throws(
      () => jsonCodec.decodeEvent(kind, Buffer.from(JSON.stringify(wire))),
      (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.ProtocolError && pattern.test(err.message),
      `${kind} ${JSON.stringify(wire)}`,
    );
  }
  const md = { correlation_id: 'c', request_id: 'r', client_ip: 'i', client_port: 70000, protocol: 'HTTP/1.1', timestamp: 't' };
  assert.throws(
    () => jsonCodec.decodeEvent('request_headers', Buffer.from(JSON.stringify({ metadata: md, method: 'GET', uri: '/', headers: {} }))),
    /'client_port' out of range/,
  );
});

test('applyHeaderOps: case-insensitive, every spelling replaced or removed, add creates', () => {
  const headers = { Host: ['a'], 'X-Id': ['1'], 'x-id': ['2'] };
  assert.deepEqual(applyHeaderOps(headers, [{ op: 'set', name: 'x-ID', value: '3' }]), { Host: ['a'], 'X-Id': ['3'] });
  assert.deepEqual(applyHeaderOps(headers, [{ op: 'remove', name: 'X-ID' }]), { Host: ['a'] });
  assert.deepEqual(applyHeaderOps(headers, [{ op: 'add', name: 'x-id', value: '3' }]), {
    Host: ['a'],
    'X-Id': ['1', '3'],
    'x-id': ['2'],
  });
  assert.deepEqual(
    applyHeaderOps(headers, [
      { op: 'add', name: 'x-new', value: 'v' },
      { op: 'remove', name: 'nope' },
    ]),
    {
      ...headers,
      'x-new': ['v'],
    },
  );
  assert.deepEqual(headers, { Host: ['a'], 'X-Id': ['1'], 'x-id': ['2'] });
  assert.deepEqual(applyHeaderOps(headers, []), headers);
});

test('regression: a Map whose key cannot become a string is a protocol error, not a TypeError', () => {
  rejects(new Map([[Object.create(null) as object, null]]), /AgentResponse/);
  rejects({ version: 2, decision: new Map([[Object.create(null) as object, null]]) }, /AgentResponse/);
});
