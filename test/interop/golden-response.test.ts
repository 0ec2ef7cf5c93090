// Golden vectors GV-02 (payload part), GV-14, GV-15, GV-16, GV-17 (spec §15): the AgentResponse in JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../src/protocol/payload-codec.js';
import { agentResponseFromWire, allowResponse, extractCorrelationId } from '../../src/protocol/agent-response.js';
import { applyHeaderOps } from '../../src/protocol/header-ops.js';
import { applyBodyMutation, requestBodyMutation, responseBodyMutation } from '../../src/protocol/body-mutation.js';
import { ErrorCode, type AgentPoolError } from '../../src/protocol/errors.js';
import type { AgentResponse } from '../../src/protocol/types.js';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** §6.10 steps 1, 2 and 4 on one JSON payload. */
function decode(s: string): { cid: string | null; response: AgentResponse } {
  const parsed = jsonCodec.parseResponse(text(s));
  return { cid: parsed.correlationId, response: agentResponseFromWire(parsed.body) };
}

function isProtocolError(err: unknown): boolean {
  return (err as AgentPoolError).code === ErrorCode.ProtocolError;
}

test('GV-02 minimal AgentResponse: frame 00 00 00 4e 20 + 77-byte payload → Allow for c-42, all else default', () => {
  const payload = '{"version":2,"decision":"allow","audit":{"custom":{"correlation_id":"c-42"}}}';
  const frame = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x4e, 0x20]), text(payload)]);
  assert.equal(frame.readUInt32BE(0), 78);
  assert.equal(frame.length - 5, 77);
  const parsed = jsonCodec.parseResponse(frame.subarray(5));
  assert.equal(parsed.correlationId, 'c-42');
  const expected = allowResponse();
  expected.audit.custom = { correlation_id: 'c-42' };
  assert.deepEqual(agentResponseFromWire(parsed.body), expected);
});

test('GV-14 "allow", {"allow":null} and {"allow":{}} all decode to Allow', () => {
  for (const decision of ['"allow"', '{"allow":null}', '{"allow":{}}']) {
    const { response } = decode(`{"version":2,"decision":${decision}}`);
    assert.deepEqual(response, allowResponse(), decision);
  }
});

test('GV-14 block with null body and headers; absent body and headers read as null too', () => {
  for (const block of ['{"status":403,"body":null,"headers":null}', '{"status":403}']) {
    const { response } = decode(`{"version":2,"decision":{"block":${block}}}`);
    assert.deepEqual(response.decision, { type: 'block', status: 403, body: null, headers: null });
  }
  const { response } = decode('{"version":2,"decision":{"block":{"status":403,"body":"Forbidden","headers":{"x-reason":"policy"}}}}');
  assert.deepEqual(response.decision, { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-reason': 'policy' } });
});

test('GV-14 redirect', () => {
  const { response } = decode('{"version":2,"decision":{"redirect":{"url":"https://login.example/","status":302}}}');
  assert.deepEqual(response.decision, { type: 'redirect', url: 'https://login.example/', status: 302 });
});

test('GV-14 challenge with {} params; params missing is malformed', () => {
  const { response } = decode('{"version":2,"decision":{"challenge":{"challenge_type":"captcha","params":{}}}}');
  assert.deepEqual(response.decision, { type: 'challenge', challengeType: 'captcha', params: {} });
  assert.throws(() => decode('{"version":2,"decision":{"challenge":{"challenge_type":"captcha"}}}'), isProtocolError);
});

test('GV-14 missing version → ZAP_PROTOCOL_ERROR (the cid is still extracted first)', () => {
  const parsed = jsonCodec.parseResponse(text('{"decision":"allow","audit":{"custom":{"correlation_id":"c-1"}}}'));
  assert.equal(parsed.correlationId, 'c-1');
  assert.throws(
    () => agentResponseFromWire(parsed.body),
    (err: AgentPoolError) => isProtocolError(err) && /'version'/.test(err.message),
  );
});

test('GV-14 missing decision → ZAP_PROTOCOL_ERROR; a version other than 2 is accepted', () => {
  assert.throws(() => decode('{"version":2}'), isProtocolError);
  assert.equal(decode('{"version":3,"decision":"allow"}').response.version, 3);
});

test('GV-14 header ops set, add, remove on the same name are applied in order', () => {
  const { response } = decode(
    '{"version":2,"decision":"allow","request_headers":[{"set":{"name":"x-user","value":"alice"}},' +
      '{"add":{"name":"X-User","value":"bob"}},{"remove":{"name":"x-user"}},{"add":{"name":"x-user",' +
      '"value":"carol"}}]}',
  );
  assert.deepEqual(response.requestHeaders, [
    { op: 'set', name: 'x-user', value: 'alice' },
    { op: 'add', name: 'X-User', value: 'bob' },
    { op: 'remove', name: 'x-user' },
    { op: 'add', name: 'x-user', value: 'carol' },
  ]);
  const original = { host: ['a'], 'x-user': ['mallory', 'eve'] };
  const steps = [1, 2, 3, 4].map((n) => applyHeaderOps(original, response.requestHeaders.slice(0, n)));
  assert.deepEqual(steps, [
    { host: ['a'], 'x-user': ['alice'] },
    { host: ['a'], 'x-user': ['alice', 'bob'] },
    { host: ['a'] },
    { host: ['a'], 'x-user': ['carol'] },
  ]);
  assert.deepEqual(original, { host: ['a'], 'x-user': ['mallory', 'eve'] }, 'input untouched');
});

test('GV-15 correlation: audit only', () => {
  assert.equal(decode('{"version":2,"decision":"allow","audit":{"custom":{"correlation_id":"a"}}}').cid, 'a');
});

test('GV-15 correlation: top level only', () => {
  assert.equal(decode('{"version":2,"decision":"allow","correlation_id":"t"}').cid, 't');
});

test('GV-15 correlation: both present and different → audit wins', () => {
  assert.equal(decode('{"version":2,"decision":"allow","audit":{"custom":{"correlation_id":"a"}},"correlation_id":"t"}').cid, 'a');
});

test('GV-15 correlation: neither → null (the reply is dropped)', () => {
  assert.equal(decode('{"version":2,"decision":"allow","audit":{"custom":{}}}').cid, null);
  assert.equal(jsonCodec.parseResponse(text('[1,2]')).correlationId, null);
  assert.equal(jsonCodec.parseResponse(text('"allow"')).correlationId, null);
});

test('GV-15 correlation: non-string audit value falls back to the top level', () => {
  assert.equal(decode('{"version":2,"decision":"allow","audit":{"custom":{"correlation_id":7}},"correlation_id":"t"}').cid, 't');
  assert.equal(extractCorrelationId({ audit: { custom: { correlation_id: null } }, correlation_id: 5 }), null);
});

test('GV-15 an undecodable payload throws ZAP_PROTOCOL_ERROR (§6.10 step 1)', () => {
  assert.throws(() => jsonCodec.parseResponse(text('{"version":2,')), isProtocolError);
  assert.throws(() => jsonCodec.parseResponse(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), isProtocolError, 'BOM');
  assert.throws(() => jsonCodec.parseResponse(Buffer.from([0x22, 0xff, 0x22])), isProtocolError, 'bad UTF-8');
  assert.throws(() => jsonCodec.parseResponse(Buffer.alloc(0)), isProtocolError);
});

const GV16 =
  '{"version":2,"decision":{"block":{"status":403,"body":"Forbidden",' +
  '"headers":{"x-blocked-by":"waf"}}},"request_headers":[],' +
  '"response_headers":[{"set":{"name":"x-frame-options","value":"DENY"}}],"routing_metadata":{},' +
  '"audit":{"tags":["sqli"],"rule_ids":["942100"],"confidence":0.98,' +
  '"reason_codes":["SQLI_DETECTED"],"custom":{"correlation_id":"req-7"}},"needs_more":false,' +
  '"request_body_mutation":null,"response_body_mutation":null,"websocket_decision":null,' +
  '"correlation_id":"req-7"}';

const gv16Response: AgentResponse = {
  version: 2,
  decision: { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-blocked-by': 'waf' } },
  requestHeaders: [],
  responseHeaders: [{ op: 'set', name: 'x-frame-options', value: 'DENY' }],
  routingMetadata: {},
  audit: { tags: ['sqli'], ruleIds: ['942100'], confidence: 0.98, reasonCodes: ['SQLI_DETECTED'], custom: {} },
  needsMore: false,
  requestBodyMutation: null,
  responseBodyMutation: null,
  websocketDecision: null,
};

test('GV-16 our agent SDK writes the full §6.9.1 example, both correlation keys present', () => {
  assert.equal(jsonCodec.encodeResponse(gv16Response, 'req-7').toString('utf8'), GV16);
});

test('GV-16 decode of the same bytes', () => {
  const { cid, response } = decode(GV16);
  assert.equal(cid, 'req-7');
  assert.deepEqual(response, {
    ...gv16Response,
    audit: { ...gv16Response.audit, custom: { correlation_id: 'req-7' } },
    correlationId: 'req-7',
  });
});

test('GV-16 the cid argument overrides a handler-set custom.correlation_id; other custom entries follow', () => {
  const response: AgentResponse = {
    ...allowResponse(),
    audit: { ...allowResponse().audit, custom: { score: 3, correlation_id: 'wrong', nested: { a: [1] } } },
  };
  assert.equal(
    jsonCodec.encodeResponse(response, 'c-9').toString(),
    '{"version":2,"decision":"allow","request_headers":[],"response_headers":[],' +
      '"routing_metadata":{},"audit":{"tags":[],"rule_ids":[],"confidence":null,"reason_codes":[],' +
      '"custom":{"correlation_id":"c-9","score":3,"nested":{"a":[1]}}},"needs_more":false,' +
      '"request_body_mutation":null,"response_body_mutation":null,"websocket_decision":null,' +
      '"correlation_id":"c-9"}',
  );
});

test('GV-16 every other variant is written as the tables show', () => {
  const response: AgentResponse = {
    ...allowResponse(),
    decision: { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } },
    requestHeaders: [
      { op: 'add', name: 'x-tag', value: 'a' },
      { op: 'remove', name: 'cookie' },
    ],
    routingMetadata: { shard: '2' },
    needsMore: true,
    requestBodyMutation: requestBodyMutation('a=1', 3),
    responseBodyMutation: responseBodyMutation(Buffer.from('hello world')),
    websocketDecision: { type: 'close', code: 1008, reason: 'policy' },
  };
  assert.equal(
    jsonCodec.encodeResponse(response, 'c').toString(),
    '{"version":2,"decision":{"challenge":{"challenge_type":"captcha","params":{"site_key":"k1"}}},' +
      '"request_headers":[{"add":{"name":"x-tag","value":"a"}},{"remove":{"name":"cookie"}}],' +
      '"response_headers":[],"routing_metadata":{"shard":"2"},"audit":{"tags":[],"rule_ids":[],' +
      '"confidence":null,"reason_codes":[],"custom":{"correlation_id":"c"}},"needs_more":true,' +
      '"request_body_mutation":{"data":"a=1","chunk_index":3},' +
      '"response_body_mutation":{"data":"aGVsbG8gd29ybGQ=","chunk_index":0},' +
      '"websocket_decision":{"close":{"code":1008,"reason":"policy"}},"correlation_id":"c"}',
  );
  const redirect = { ...allowResponse(), decision: { type: 'redirect', url: 'https://login.example/', status: 302 } } as const;
  assert.match(
    jsonCodec.encodeResponse(redirect, 'c').toString(),
    /^\{"version":2,"decision":\{"redirect":\{"url":"https:\/\/login.example\/","status":302\}\},"request_headers"/,
  );
  for (const [ws, wire] of [
    [{ type: 'allow' }, '"allow"'],
    [{ type: 'drop' }, '"drop"'],
  ] as const) {
    const out = jsonCodec.encodeResponse({ ...allowResponse(), websocketDecision: ws }, 'c').toString();
    assert.ok(out.includes(`"websocket_decision":${wire},`), out);
  }
});

test('GV-17 response mutation "aGVsbG8gd29ybGQ=" → bytes hello world', () => {
  const { response } = decode('{"version":2,"decision":"allow","response_body_mutation":{"data":"aGVsbG8gd29ybGQ=","chunk_index":0}}');
  assert.deepEqual(applyBodyMutation('response', response.responseBodyMutation, text('original')), {
    data: text('hello world'),
    dropped: false,
  });
});

test('GV-17 request mutation "a=1" → bytes a=1 (no base64 decoding)', () => {
  const { response } = decode('{"version":2,"decision":"allow","request_body_mutation":{"data":"a=1"}}');
  assert.deepEqual(response.requestBodyMutation, { data: 'a=1', chunkIndex: 0 });
  assert.deepEqual(applyBodyMutation('request', response.requestBodyMutation, text('original')), {
    data: text('a=1'),
    dropped: false,
  });
});

test('GV-17 "" drops the chunk, null passes it through (both directions)', () => {
  for (const direction of ['request', 'response'] as const) {
    const { response } = decode(`{"version":2,"decision":"allow","${direction}_body_mutation":{"data":"","chunk_index":1}}`);
    const mutation = direction === 'request' ? response.requestBodyMutation : response.responseBodyMutation;
    assert.deepEqual(applyBodyMutation(direction, mutation, text('abc')), { data: new Uint8Array(0), dropped: true });
    const pass = decode(`{"version":2,"decision":"allow","${direction}_body_mutation":{"data":null}}`).response;
    const passMutation = direction === 'request' ? pass.requestBodyMutation : pass.responseBodyMutation;
    assert.deepEqual(passMutation, { data: null, chunkIndex: 0 });
    assert.deepEqual(applyBodyMutation(direction, passMutation, text('abc')), { data: text('abc'), dropped: false });
  }
});

test('GV-17 invalid base64 on the response side → mutation ignored, original passes', () => {
  const { response } = decode('{"version":2,"decision":"allow","response_body_mutation":{"data":"not base64!"}}');
  const applied = applyBodyMutation('response', response.responseBodyMutation, text('orig'));
  assert.deepEqual(applied.data, text('orig'));
  assert.equal(applied.dropped, false);
  assert.match(applied.ignored ?? '', /base64/);
  // The same text on the request side is literal replacement text.
  assert.deepEqual(applyBodyMutation('request', { data: 'not base64!', chunkIndex: 0 }, text('orig')).data, text('not base64!'));
});
