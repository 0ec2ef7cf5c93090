// Reply builders (src/agent/reply-builder.ts): every method, the wire JSON it produces through the
// codec, immutability, the call forms of allow()/block() from before builders, and replies built this
// way going through a real AgentServer and AgentPool (UDS, gRPC, and a handler on a thread pool).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentServer } from '../src/agent/agent-server.js';
import type { Reply } from '../src/agent/handler.js';
import { allow, block, challenge, guardrailReply, redirect, toAgentResponse } from '../src/agent/reply.js';
import { ReplyBuilder } from '../src/agent/reply-builder.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { agentResponseFromWire } from '../src/protocol/agent-response.js';
import { jsonCodec, msgpackCodec } from '../src/protocol/payload-codec.js';
import { requestHeaders } from './support/events.js';
import { socketPath } from './support/tmp.js';

/** The reply's wire JSON, as our agent SDK writes it (every §6.9.1 key). */
function wire(reply: Reply): Record<string, unknown> {
  return JSON.parse(jsonCodec.encodeResponse(toAgentResponse(reply), 'c-1').toString('utf8')) as Record<string, unknown>;
}

describe('reply builders: each method and its wire JSON', () => {
  test('allow() alone is the §6.9.1 default reply', () => {
    assert.deepEqual(wire(allow()), {
      version: 2,
      decision: 'allow',
      request_headers: [],
      response_headers: [],
      routing_metadata: {},
      audit: { tags: [], rule_ids: [], confidence: null, reason_codes: [], custom: { correlation_id: 'c-1' } },
      needs_more: false,
      request_body_mutation: null,
      response_body_mutation: null,
      websocket_decision: null,
      correlation_id: 'c-1',
    });
  });

  test('request header operations: add, set and remove, in call order', () => {
    const w = wire(allow().addRequestHeader('x-a', '1').setRequestHeader('x-b', '2').removeRequestHeader('cookie'));
    assert.deepEqual(w['request_headers'], [
      { add: { name: 'x-a', value: '1' } },
      { set: { name: 'x-b', value: '2' } },
      { remove: { name: 'cookie' } },
    ]);
    assert.deepEqual(w['response_headers'], []);
  });

  test('response header operations: add, set and remove', () => {
    const w = wire(allow().addResponseHeader('x-a', '1').setResponseHeader('x-b', '2').removeResponseHeader('server'));
    assert.deepEqual(w['response_headers'], [
      { add: { name: 'x-a', value: '1' } },
      { set: { name: 'x-b', value: '2' } },
      { remove: { name: 'server' } },
    ]);
    assert.deepEqual(w['request_headers'], []);
  });

  test('audit: tags, rule ids and reason codes accumulate; confidence and custom fields', () => {
    const reply = block(403)
      .withTag('xss')
      .withTag('owasp', 'a3')
      .withRuleId('941100', '941110')
      .withReasonCode('XSS')
      .withConfidence(0.75)
      .withAuditField('score', 9)
      .withAuditField('matched', { field: 'uri' });
    assert.deepEqual(wire(reply)['audit'], {
      tags: ['xss', 'owasp', 'a3'],
      rule_ids: ['941100', '941110'],
      confidence: 0.75,
      reason_codes: ['XSS'],
      custom: { correlation_id: 'c-1', score: 9, matched: { field: 'uri' } },
    });
    assert.equal((wire(reply.withConfidence(null))['audit'] as { confidence: unknown }).confidence, null);
  });

  test("audit.custom.correlation_id stays zap's: a handler's value is overridden", () => {
    const w = wire(allow().withAuditField('correlation_id', 'forged'));
    assert.deepEqual((w['audit'] as { custom: unknown }).custom, { correlation_id: 'c-1' });
  });

  test('block: status, body, JSON body with content-type, block headers, status change', () => {
    assert.deepEqual(wire(block(403).withBody('Forbidden'))['decision'], { block: { status: 403, body: 'Forbidden', headers: null } });
    assert.deepEqual(wire(block(400).withJsonBody({ error: 'bad' }).withBlockHeader('x-why', 'rule'))['decision'], {
      block: { status: 400, body: '{"error":"bad"}', headers: { 'content-type': 'application/json', 'x-why': 'rule' } },
    });
    assert.deepEqual(wire(block(403).withStatus(429).withBody(null))['decision'], { block: { status: 429, body: null, headers: null } });
  });

  test('redirect and challenge decisions, with header ops and audit chained', () => {
    assert.deepEqual(wire(redirect('https://login.example/', 307).withTag('login'))['decision'], {
      redirect: { url: 'https://login.example/', status: 307 },
    });
    assert.deepEqual(wire(redirect('/x'))['decision'], { redirect: { url: '/x', status: 302 } });
    const c = wire(challenge('captcha', { site_key: 'k' }).setResponseHeader('cache-control', 'no-store'));
    assert.deepEqual(c['decision'], { challenge: { challenge_type: 'captcha', params: { site_key: 'k' } } });
    assert.deepEqual(c['response_headers'], [{ set: { name: 'cache-control', value: 'no-store' } }]);
  });

  test('routing metadata and needs_more', () => {
    const w = wire(allow().withRoutingMetadata('pool', 'canary').withRoutingMetadata('tier', 'gold').needsMoreData());
    assert.deepEqual(w['routing_metadata'], { pool: 'canary', tier: 'gold' });
    assert.equal(w['needs_more'], true);
    assert.equal(wire(allow().needsMoreData().needsMoreData(false))['needs_more'], false);
  });

  test('body mutations: request text, response bytes as base64, drops, pass-through', () => {
    const w = wire(
      allow()
        .withRequestBodyMutation('{"redacted":true}', 2)
        .withResponseBodyMutation(Buffer.from([0, 1, 255]), 1),
    );
    assert.deepEqual(w['request_body_mutation'], { data: '{"redacted":true}', chunk_index: 2 });
    assert.deepEqual(w['response_body_mutation'], { data: 'AAH/', chunk_index: 1 });
    const drops = wire(allow().withRequestBodyMutation('').withResponseBodyMutation('drop', 3));
    assert.deepEqual(drops['request_body_mutation'], { data: '', chunk_index: 0 });
    assert.deepEqual(drops['response_body_mutation'], { data: '', chunk_index: 3 });
    assert.deepEqual(wire(allow().withResponseBodyMutation(null))['response_body_mutation'], { data: null, chunk_index: 0 });
  });

  test('WebSocket decision', () => {
    assert.deepEqual(wire(allow().withWebSocketDecision({ type: 'close', code: 1008, reason: 'policy' }))['websocket_decision'], {
      close: { code: 1008, reason: 'policy' },
    });
    assert.equal(wire(allow().withWebSocketDecision({ type: 'drop' }))['websocket_decision'], 'drop');
  });

  test('guardrailReply is a builder too', () => {
    const w = wire(guardrailReply({ detected: true, confidence: 0.9 }).withTag('pii'));
    assert.deepEqual(w['routing_metadata'], { guardrail_response: '{"detected":true,"confidence":0.9,"detections":[]}' });
    assert.deepEqual((w['audit'] as { tags: unknown }).tags, ['pii']);
  });

  test('the same reply survives MessagePack: decoded on the proxy side it equals the JSON one', () => {
    const reply = block(403).withBody('no').withRuleId('1').addRequestHeader('x', 'y').withRequestBodyMutation('z', 1);
    const response = toAgentResponse(reply);
    const fromJson = agentResponseFromWire(jsonCodec.decodeValue(jsonCodec.encodeResponse(response, 'c')));
    const fromMsgpack = agentResponseFromWire(msgpackCodec.decodeValue(msgpackCodec.encodeResponse(response, 'c')));
    assert.deepEqual(fromMsgpack, fromJson);
    assert.deepEqual(fromJson.decision, { type: 'block', status: 403, body: 'no', headers: null });
  });
});

describe('reply builders: immutability and the earlier call forms', () => {
  test('every method returns a new builder of the same class and leaves its receiver unchanged', () => {
    const base = block(403).withTag('base');
    const a = base.withTag('a').addRequestHeader('x', '1').withBody('A');
    const b = base.withTag('b');
    assert.deepEqual(base.audit?.tags, ['base']);
    assert.equal(base.requestHeaders, undefined);
    assert.equal(base.decision.body, null);
    assert.deepEqual(a.audit?.tags, ['base', 'a']);
    assert.deepEqual(b.audit?.tags, ['base', 'b']);
    assert.equal(a.decision.body, 'A');
    assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(base));
  });

  test('the lists and maps builders share are frozen', () => {
    const r = block(403, 'x', { h: 'v' }).withTag('t').addRequestHeader('a', 'b').withRoutingMetadata('k', 'v').withAuditField('c', 1);
    assert.ok(Object.isFrozen(r.audit?.tags));
    assert.ok(Object.isFrozen(r.requestHeaders));
    assert.ok(Object.isFrozen(r.routingMetadata));
    assert.ok(Object.isFrozen(r.audit?.custom));
    assert.ok(Object.isFrozen(r.decision) && Object.isFrozen(r.decision.headers));
    assert.throws(() => (r.audit?.tags as string[]).push('more'), TypeError);
  });

  test('only the fields that were set exist: a builder spreads into a Reply like a plain object', () => {
    assert.deepEqual(Object.keys(allow()), ['decision']);
    assert.deepEqual({ ...block(403, 'Forbidden') }, { decision: { type: 'block', status: 403, body: 'Forbidden', headers: null } });
    const spread: Reply = { ...block(403, 'Forbidden'), audit: { ruleIds: ['941100'] } };
    assert.deepEqual(wire(spread)['audit'], {
      tags: [],
      rule_ids: ['941100'],
      confidence: null,
      reason_codes: [],
      custom: { correlation_id: 'c-1' },
    });
  });

  test('block(status, body, headers) and assigning a field of a result typed Reply still work', () => {
    const r: Reply = block(401, 'Unauthorized', { 'www-authenticate': 'Bearer' });
    r.audit = { tags: ['auth'] };
    const w = wire(r);
    assert.deepEqual(w['decision'], { block: { status: 401, body: 'Unauthorized', headers: { 'www-authenticate': 'Bearer' } } });
    assert.deepEqual((w['audit'] as { tags: unknown }).tags, ['auth']);
  });

  test('a structured clone (how threads mode returns replies) is a plain Reply with the same wire form', () => {
    const reply = block(403).withBody('x').withTag('t').setRequestHeader('a', 'b');
    const cloned = structuredClone(reply) as Reply;
    assert.ok(!(cloned instanceof ReplyBuilder));
    assert.deepEqual(wire(cloned), wire(reply));
  });
});

describe('reply builders end to end: AgentServer → AgentPool', () => {
  const servers: AgentServer[] = [];
  const pools: AgentPool[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close()));
  });

  const handler = {
    onRequestHeaders(e: { uri: string }) {
      if (e.uri.startsWith('/admin'))
        return block(403).withBody('Forbidden').withBlockHeader('x-blocked-by', 'test').withRuleId('900').withTag('admin');
      if (e.uri.startsWith('/old')) return redirect('/new', 301).withReasonCode('MOVED');
      return allow()
        .setRequestHeader('x-user', 'u1')
        .removeRequestHeader('cookie')
        .addResponseHeader('x-served', 'yes')
        .withConfidence(0.5);
    },
  };

  async function poolFor(endpoint: string, encoding: 'json' | 'prefer-msgpack' = 'json'): Promise<AgentPool> {
    const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1, encoding });
    pools.push(pool);
    const added = await pool.addAgent('b', endpoint);
    assert.equal(added.ready, 1, String(added.errors[0]));
    return pool;
  }

  async function check(pool: AgentPool): Promise<void> {
    const ok = await pool.sendRequestHeaders('b', 'e1', requestHeaders('e1', '/shop'));
    assert.deepEqual(ok.decision, { type: 'allow' });
    assert.deepEqual(ok.requestHeaders, [
      { op: 'set', name: 'x-user', value: 'u1' },
      { op: 'remove', name: 'cookie' },
    ]);
    assert.deepEqual(ok.responseHeaders, [{ op: 'add', name: 'x-served', value: 'yes' }]);
    assert.equal(ok.audit.confidence, 0.5);
    const denied = await pool.sendRequestHeaders('b', 'e2', requestHeaders('e2', '/admin'));
    assert.deepEqual(denied.decision, { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-blocked-by': 'test' } });
    assert.deepEqual([denied.audit.ruleIds, denied.audit.tags], [['900'], ['admin']]);
    const moved = await pool.sendRequestHeaders('b', 'e3', requestHeaders('e3', '/old'));
    assert.deepEqual(moved.decision, { type: 'redirect', url: '/new', status: 301 });
    assert.deepEqual(moved.audit.reasonCodes, ['MOVED']);
  }

  test('over a Unix socket (MessagePack negotiated)', async () => {
    const server = new AgentServer({ agentId: 'b', handler, encoding: 'prefer-msgpack' });
    servers.push(server);
    const endpoint = await server.listen(`unix:${socketPath('builders')}`);
    const pool = await poolFor(endpoint, 'prefer-msgpack');
    assert.equal(pool.agentStats('b')?.connections[0]?.encoding, 'msgpack');
    await check(pool);
  });

  test('over gRPC', async () => {
    const server = new AgentServer({ agentId: 'b', handler });
    servers.push(server);
    await check(await poolFor(await server.listen('127.0.0.1:0')));
  });

  test('from a handler module on a thread pool (the waf example returns builders)', async () => {
    const { EXAMPLES } = await import('../src/agent/examples/index.js');
    const server = new AgentServer({ agentId: 'b', threads: { module: EXAMPLES.waf, count: 1 } });
    servers.push(server);
    const pool = await poolFor(await server.listen(`unix:${socketPath('builders-threads')}`));
    const r = await pool.sendRequestHeaders('b', 't1', requestHeaders('t1', '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E'));
    assert.equal(r.decision.type === 'block' && r.decision.status, 403);
    assert.deepEqual(r.decision.type === 'block' && r.decision.headers, { 'x-blocked-by': 'waf' });
    assert.ok(r.audit.ruleIds.length > 0 && r.audit.confidence === 1);
  });
});
