// The direct Allow-reply protobuf writer (src/protocol/proto-reply.ts) against the general path
// (agentResponseToProto + protobufjs): the same bytes for Allow replies with any header operations,
// processing time and needs_more; undefined (general path) for every other shape; and the agent's
// encoder still gives the general path's bytes for those.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeGrpcReply } from '../src/agent/grpc-reply.js';
import { agentResponseToProto } from '../src/protocol/proto-mapping.js';
import { writeAllowReplyProto } from '../src/protocol/proto-reply.js';
import type { AgentResponse, HeaderOp } from '../src/protocol/types.js';
import { encodeAgentToProxy } from '../src/transport/grpc-codec.js';
import { allowResponse } from '../src/protocol/agent-response.js';

function reply(parts: Partial<AgentResponse> = {}): AgentResponse {
  return { ...allowResponse(), ...parts };
}

const general = (r: AgentResponse, cid: string): Buffer => encodeAgentToProxy(agentResponseToProto(r, cid));

const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constant('z'.repeat(200)));
const op: fc.Arbitrary<HeaderOp> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), name: text, value: text }),
  fc.record({ op: fc.constant('add' as const), name: text, value: text }),
  fc.record({ op: fc.constant('remove' as const), name: text }),
);

test('Allow replies: the direct writer gives the general path bytes', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 40 }),
      fc.array(op, { maxLength: 8 }),
      fc.array(op, { maxLength: 4 }),
      fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
      fc.boolean(),
      (cid, requestHeaders, responseHeaders, processingTimeMs, needsMore) => {
        const r = reply({ requestHeaders, responseHeaders, needsMore, ...(processingTimeMs === undefined ? {} : { processingTimeMs }) });
        assert.deepEqual(writeAllowReplyProto(r, cid), general(r, cid));
      },
    ),
    { numRuns: 400 },
  );
});

test('other shapes take the general path, and the agent encoder gives its bytes', () => {
  const echo = reply({ requestHeaders: [{ op: 'set', name: 'x-agent-echo', value: 'GET /products/42' }] });
  assert.deepEqual(encodeGrpcReply(echo, 'cid-1', undefined), general(echo, 'cid-1'));
  const others: AgentResponse[] = [
    reply({ decision: { type: 'block', status: 403, body: 'no', headers: { 'x-why': 'rule' } } }),
    reply({ decision: { type: 'redirect', url: 'https://example.test/', status: 302 } }),
    reply({ decision: { type: 'challenge', challengeType: 'captcha', params: { a: 'b' } } }),
    reply({ audit: { tags: ['t'], ruleIds: [], confidence: null, reasonCodes: [], custom: {} } }),
    reply({ audit: { tags: [], ruleIds: [], confidence: 0.5, reasonCodes: [], custom: {} } }),
    reply({ audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: { k: 1 } } }),
    reply({ processingTimeMs: 1.5 }),
  ];
  for (const r of others) {
    assert.equal(writeAllowReplyProto(r, 'c'), undefined, JSON.stringify(r));
    assert.deepEqual(encodeGrpcReply(r, 'c', undefined), general(r, 'c'));
  }
  // What gRPC cannot carry is left out by both paths (and named to the sink).
  const lossy = reply({ routingMetadata: { pool: 'b' } });
  const dropped: string[][] = [];
  assert.deepEqual(
    encodeGrpcReply(lossy, 'c', (fields) => dropped.push(fields)),
    general(lossy, 'c'),
  );
  assert.deepEqual(dropped, [['routing_metadata']]);
});
