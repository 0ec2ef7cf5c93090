// The direct RequestHeaders protobuf writer (src/protocol/proto-request-headers.ts) against the
// general path (eventToProto + protobufjs): the same bytes for every event the caller checks let
// through, including empty and null fields, multi-byte text, many header values and long strings;
// and what it writes decodes back to the event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { eventFromProto, eventToProto } from '../src/protocol/proto-events.js';
import { writeRequestHeadersProto } from '../src/protocol/proto-request-headers.js';
import type { RequestHeadersEvent } from '../src/protocol/types.js';
import { decodeProxyToAgent, encodeProxyToAgent } from '../src/transport/grpc-codec.js';
import { grpcEventEncoder } from '../src/transport/grpc-event-encoder.js';
import { requestHeaders } from './support/events.js';

function general(e: RequestHeadersEvent, cid: string, timestampMs: number): Buffer {
  // eventToProto reads timestamp_ms from metadata.timestamp, else the send time: pin it to timestampMs.
  const pinned = { ...e, metadata: { ...e.metadata, timestamp: new Date(timestampMs).toISOString() } };
  return encodeProxyToAgent(eventToProto('request_headers', pinned, cid, timestampMs));
}

function direct(e: RequestHeadersEvent, cid: string, timestampMs: number): Buffer {
  const bytes = writeRequestHeadersProto(e, cid, timestampMs);
  assert.ok(bytes !== undefined);
  return bytes;
}

// Strings without lone surrogates (those are the one documented difference), up to 3 UTF-8 widths.
const text = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('', 'é', '€uro', '😀 emoji', 'x'.repeat(47), 'y'.repeat(48), 'z'.repeat(300)),
);
const nullable = fc.option(text, { nil: null });

const event = fc.record({
  cid: fc.string({ minLength: 1, maxLength: 40 }),
  requestId: text,
  clientIp: text,
  clientPort: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
  serverName: nullable,
  protocol: text,
  tlsVersion: nullable,
  routeId: nullable,
  upstreamId: nullable,
  traceparent: fc.option(text, { nil: undefined }),
  method: text,
  uri: text,
  headers: fc.dictionary(text, fc.array(text, { maxLength: 4 }), { maxKeys: 12 }),
  timestampMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8.64e15 })),
});

test('the direct writer gives the bytes of eventToProto + protobufjs, and they decode back', () => {
  fc.assert(
    fc.property(event, (x) => {
      const e: RequestHeadersEvent = {
        metadata: {
          correlationId: x.cid,
          requestId: x.requestId,
          clientIp: x.clientIp,
          clientPort: x.clientPort,
          serverName: x.serverName,
          protocol: x.protocol,
          tlsVersion: x.tlsVersion,
          tlsCipher: null,
          routeId: x.routeId,
          upstreamId: x.upstreamId,
          timestamp: '',
          ...(x.traceparent === undefined ? {} : { traceparent: x.traceparent }),
        },
        method: x.method,
        uri: x.uri,
        headers: x.headers,
      };
      const ours = direct(e, x.cid, x.timestampMs);
      if (x.timestampMs !== 0) assert.deepEqual(ours, general(e, x.cid, x.timestampMs));
      const back = eventFromProto(decodeProxyToAgent(ours));
      assert.equal(back?.kind, 'request_headers');
      assert.equal(back.correlationId, x.cid);
    }),
    { numRuns: 400 },
  );
});

test('a sample request, 200 header values, and the encoder the router uses all agree with the general path', () => {
  const sample = requestHeaders('cid-1', '/products/42?ref=home', { cookie: ['a=1', 'b=2'], 'x-é': ['€'] });
  const at = Date.parse(sample.metadata.timestamp);
  assert.deepEqual(direct(sample, 'cid-1', at), general(sample, 'cid-1', at));
  assert.deepEqual(grpcEventEncoder.encode('request_headers', sample, 'cid-1'), general(sample, 'cid-1', at));
  // More values than the writer's scratch holds at first: it grows, and the bytes still agree.
  const many = { ...sample, headers: { 'x-many': Array.from({ length: 200 }, (_, i) => `v${i}`) } };
  assert.deepEqual(direct(many, 'c', at), general(many, 'c', at));
  // Header names that are Object.prototype members come back as plain headers (they once threw).
  const tricky = { ...sample, headers: { toString: ['a'], constructor: ['b', 'c'], ['__proto__']: ['d'], hasOwnProperty: ['e'] } };
  Object.defineProperty(tricky.headers, '__proto__', { value: ['d'], enumerable: true });
  const back = eventFromProto(decodeProxyToAgent(direct(tricky, 'c', at)));
  assert.equal(back?.kind, 'request_headers');
  assert.deepEqual(Object.entries((back.event as RequestHeadersEvent).headers), Object.entries(tricky.headers));
  // A start before 1970 does not fit uint64 as a number: the general path writes it.
  assert.equal(writeRequestHeadersProto(sample, 'c', -1), undefined);
  const old = { ...sample, metadata: { ...sample.metadata, timestamp: '1960-01-01T00:00:00.000Z' } };
  assert.deepEqual(grpcEventEncoder.encode('request_headers', old, 'c'), encodeProxyToAgent(eventToProto('request_headers', old, 'c', 0)));
});
