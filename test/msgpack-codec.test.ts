// MessagePack codec (spec §4.2) and golden vector GV-26: maps with JSON key names, bin event bodies,
// integer forms, and the reader leniencies Rust peers need (positional arrays, duplicate key, base64 str).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msgpackCodec } from '../src/protocol/payload-codec.js';
import { agentResponseFromWire, allowResponse } from '../src/protocol/agent-response.js';
import { ErrorCode, type AgentPoolError } from '../src/protocol/errors.js';
import type { AgentResponse, RequestBodyChunkEvent } from '../src/protocol/types.js';

/** Hex of an ASCII string (the bytes after a hand-written str header). */
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');
const bytes = (...hex: string[]): Buffer => Buffer.from(hex.join('').replace(/\s+/g, ''), 'hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isProtocolError = (err: unknown): boolean => (err as AgentPoolError).code === ErrorCode.ProtocolError;

const GV26_CHUNK = bytes(
  '86', // map, 6 entries, in the §6.3 key order
  'ae',
  ascii('correlation_id'),
  'a5',
  ascii('req-7'),
  'a4',
  ascii('data'),
  'c4 04 00ff1080', // bin 8, 4 bytes
  'a7',
  ascii('is_last'),
  'c2',
  'aa',
  ascii('total_size'),
  'c0',
  'ab',
  ascii('chunk_index'),
  '02',
  'ae',
  ascii('bytes_received'),
  '0c',
);

const chunk: RequestBodyChunkEvent = {
  correlationId: 'req-7',
  data: Buffer.from([0x00, 0xff, 0x10, 0x80]),
  isLast: false,
  totalSize: null,
  chunkIndex: 2,
  bytesReceived: 12,
};

test('GV-26 RequestBodyChunk is a map with the JSON key names and `data` as bin', () => {
  assert.equal(hex(msgpackCodec.encodeEvent('request_body_chunk', chunk, 'req-7')), hex(GV26_CHUNK));
  const decoded = msgpackCodec.decodeEvent('request_body_chunk', GV26_CHUNK);
  assert.deepEqual(decoded, { event: chunk, correlationId: 'req-7' });
  assert.ok(Buffer.isBuffer(decoded.event.data));
});

test('GV-26 a plain Uint8Array body is written as bin too', () => {
  const out = msgpackCodec.encodeEvent('request_body_chunk', { ...chunk, data: new Uint8Array([0, 255, 16, 128]) }, 'req-7');
  assert.equal(hex(out), hex(GV26_CHUNK));
});

// The §2.4 minimal reply as a msgpack map: {"version":2,"decision":"allow","audit":{"custom":{"correlation_id":"c-42"}}}
const MINIMAL_MAP = bytes(
  '83',
  'a7',
  ascii('version'),
  '02',
  'a8',
  ascii('decision'),
  'a5',
  ascii('allow'),
  'a5',
  ascii('audit'),
  '81',
  'a6',
  ascii('custom'),
  '81',
  'ae',
  ascii('correlation_id'),
  'a4',
  ascii('c-42'),
);

// The same reply as a Rust msgpack agent writes it: every struct a positional array in §6.9.1 / §6.9.4 order.
const MINIMAL_ARRAY = bytes(
  '9a', // array of 10 (no top-level correlation_id)
  '02',
  'a5',
  ascii('allow'),
  '90',
  '90',
  '80', // request_headers, response_headers, routing_metadata
  '95',
  '90',
  '90',
  'c0',
  '90',
  '81',
  'ae',
  ascii('correlation_id'),
  'a4',
  ascii('c-42'), // audit
  'c2',
  'c0',
  'c0',
  'c0', // needs_more, mutations, websocket_decision
);

test('GV-26 AgentResponse accepted as a map', () => {
  const parsed = msgpackCodec.parseResponse(MINIMAL_MAP);
  assert.equal(parsed.correlationId, 'c-42');
  const expected = allowResponse();
  expected.audit.custom = { correlation_id: 'c-42' };
  assert.deepEqual(agentResponseFromWire(parsed.body), expected);
});

test('GV-26 AgentResponse accepted as a positional array', () => {
  const parsed = msgpackCodec.parseResponse(MINIMAL_ARRAY);
  assert.equal(parsed.correlationId, 'c-42');
  const expected = allowResponse();
  expected.audit.custom = { correlation_id: 'c-42' };
  assert.deepEqual(agentResponseFromWire(parsed.body), expected);
});

test('GV-26 positional structs nested in variants, ops and mutations; short arrays take defaults', () => {
  const body = [
    2,
    { block: [403, 'Forbidden', { 'x-reason': 'policy' }] },
    [{ set: ['x-user', 'alice'] }, { remove: ['cookie'] }],
    [{ add: ['x-tag', 'a'] }],
    { shard: '2' },
    [['t'], ['r1'], 0.5, ['RC'], { correlation_id: 'c-1' }],
    true,
    ['a=1', 3],
    ['aGVsbG8=', 0],
    { close: [1008, 'policy'] },
    'c-top',
  ];
  const parsed = msgpackCodec.parseResponse(msgpackCodec.encodeValue(body));
  assert.equal(parsed.correlationId, 'c-1');
  assert.deepEqual(agentResponseFromWire(parsed.body), {
    version: 2,
    decision: { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-reason': 'policy' } },
    requestHeaders: [
      { op: 'set', name: 'x-user', value: 'alice' },
      { op: 'remove', name: 'cookie' },
    ],
    responseHeaders: [{ op: 'add', name: 'x-tag', value: 'a' }],
    routingMetadata: { shard: '2' },
    audit: { tags: ['t'], ruleIds: ['r1'], confidence: 0.5, reasonCodes: ['RC'], custom: { correlation_id: 'c-1' } },
    needsMore: true,
    requestBodyMutation: { data: 'a=1', chunkIndex: 3 },
    responseBodyMutation: { data: 'aGVsbG8=', chunkIndex: 0 },
    websocketDecision: { type: 'close', code: 1008, reason: 'policy' },
    correlationId: 'c-top',
  });
  const short = msgpackCodec.parseResponse(msgpackCodec.encodeValue([2, 'allow']));
  assert.equal(short.correlationId, null);
  assert.deepEqual(agentResponseFromWire(short.body), allowResponse());
  // Top-level cid read from position 10 when the audit has none.
  const top = msgpackCodec.parseResponse(msgpackCodec.encodeValue([2, 'allow', [], [], {}, null, false, null, null, null, 'c-t']));
  assert.equal(top.correlationId, 'c-t');
});

test('our SDK reply in msgpack: every key, BodyMutation.data stays a str, decodes back', () => {
  const response: AgentResponse = {
    ...allowResponse(),
    responseBodyMutation: { data: 'aGk=', chunkIndex: 0 },
    audit: { ...allowResponse().audit, custom: { at: 1767225600000 } },
  };
  const out = msgpackCodec.encodeResponse(response, 'c-5');
  // ... "response_body_mutation": {"data": str "aGk=", ...
  assert.ok(hex(out).includes(ascii('response_body_mutation') + '82' + 'a4' + ascii('data') + 'a4' + ascii('aGk=')));
  // Wide integer inside audit.custom: int 64, not float 64.
  assert.ok(hex(out).includes('a2' + ascii('at') + 'd30000019b76daa800'));
  const parsed = msgpackCodec.parseResponse(out);
  assert.equal(parsed.correlationId, 'c-5');
  assert.deepEqual(agentResponseFromWire(parsed.body), {
    ...response,
    audit: { ...response.audit, custom: { correlation_id: 'c-5', at: 1767225600000 } },
    correlationId: 'c-5',
  });
  assert.deepEqual(response.audit.custom, { at: 1767225600000 }, 'caller object untouched');
});

test('integers take the smallest form; above 32 bits a 64-bit integer, never a float', () => {
  const cases: [unknown, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [65535, 'cdffff'],
    [70000, 'ce00011170'],
    [-1, 'ff'],
    [-33, 'd0df'],
    [1767225600000, 'd30000019b76daa800'],
    [-4294967296, 'd3ffffffff00000000'],
    [0.98, 'cb3fef5c28f5c28f5c'],
    [null, 'c0'],
    [undefined, 'c0'],
    [true, 'c3'],
    ['x'.repeat(32), 'd920' + ascii('x'.repeat(32))],
  ];
  for (const [value, expected] of cases) assert.equal(hex(msgpackCodec.encodeValue(value)), expected, String(value));
  // Nested in a control message (what B2's wire objects look like): copy on write.
  const wire = { sequence: 1, timestamp_ms: 1767225600000, list: [1, 2 ** 40] };
  assert.equal(
    hex(msgpackCodec.encodeValue(wire)),
    '83' +
      'a8' +
      ascii('sequence') +
      '01' +
      'ac' +
      ascii('timestamp_ms') +
      'd30000019b76daa800' +
      'a4' +
      ascii('list') +
      '92' +
      '01' +
      'd30000010000000000',
  );
  assert.deepEqual(wire, { sequence: 1, timestamp_ms: 1767225600000, list: [1, 2 ** 40] });
  assert.deepEqual(msgpackCodec.decodeValue(msgpackCodec.encodeValue(wire)), wire);
});

test('u64 event fields above 2^32 are written as 64-bit integers and read back', () => {
  const event = {
    correlationId: 'c',
    status: 200,
    durationMs: 5_000_000_000,
    requestBodySize: 2 ** 33,
    responseBodySize: 1,
    upstreamAttempts: 1,
    error: null,
  };
  const out = msgpackCodec.encodeEvent('request_complete', event, 'c');
  assert.ok(hex(out).includes('ab' + ascii('duration_ms') + 'd3000000012a05f200'));
  assert.deepEqual(msgpackCodec.decodeEvent('request_complete', out).event, event);
  const configure = { correlationId: 'push-1', config: { ts: [1767225600000] }, configVersion: null, isInitial: true };
  assert.deepEqual(msgpackCodec.decodeEvent('configure', msgpackCodec.encodeEvent('configure', configure, 'push-1')).event, configure);
});

test('an integer beyond 2^53 − 1 makes the message malformed', () => {
  const body = bytes(
    '87',
    'ae',
    ascii('correlation_id'),
    'a1',
    ascii('c'),
    'a6',
    ascii('status'),
    'cc c8',
    'ab',
    ascii('duration_ms'),
    'cf 0020000000000000', // 2^53
    'b1',
    ascii('request_body_size'),
    '00',
    'b2',
    ascii('response_body_size'),
    '00',
    'b1',
    ascii('upstream_attempts'),
    '01',
    'a5',
    ascii('error'),
    'c0',
  );
  assert.throws(() => msgpackCodec.decodeEvent('request_complete', body), isProtocolError);
  const ok = Buffer.from(body);
  const at = ok.indexOf(0xcf) + 1;
  ok.writeUInt32BE(0x001fffff, at); // 2^53 − 1
  ok.writeUInt32BE(0xffffffff, at + 4);
  assert.equal(msgpackCodec.decodeEvent('request_complete', ok).event.durationMs, 2 ** 53 - 1);
});

test('a Rust proxy event: duplicate correlation_id, lexicographic keys, positional nested structs, base64 str data', () => {
  const rustChunk = bytes(
    '87', // the injected key first, then the event's own keys sorted (its correlation_id again)
    'ae',
    ascii('correlation_id'),
    'a5',
    ascii('req-7'),
    'ae',
    ascii('bytes_received'),
    '0c',
    'ab',
    ascii('chunk_index'),
    '02',
    'ae',
    ascii('correlation_id'),
    'a5',
    ascii('req-7'),
    'a4',
    ascii('data'),
    'a8',
    ascii('AP8QgA=='),
    'a7',
    ascii('is_last'),
    'c2',
    'aa',
    ascii('total_size'),
    'c0',
  );
  assert.deepEqual(msgpackCodec.decodeEvent('request_body_chunk', rustChunk), { event: chunk, correlationId: 'req-7' });

  const rustHeaders = bytes(
    '85',
    'ae',
    ascii('correlation_id'),
    'a5',
    ascii('req-7'),
    'a7',
    ascii('headers'),
    '81',
    'a4',
    ascii('host'),
    '91',
    'a1',
    ascii('h'),
    'a8',
    ascii('metadata'),
    '9b', // positional RequestMetadata, traceparent left out (trailing default)
    'a5',
    ascii('req-7'),
    'a1',
    ascii('r'),
    'a3',
    ascii('::1'),
    'cd 1f90',
    'c0',
    'a6',
    ascii('HTTP/2'),
    'c0',
    'c0',
    'a1',
    ascii('x'),
    'c0',
    'b9',
    ascii('2026-01-01T00:00:00+00:00'),
    'a6',
    ascii('method'),
    'a3',
    ascii('GET'),
    'a3',
    ascii('uri'),
    'a1',
    ascii('/'),
  );
  assert.deepEqual(msgpackCodec.decodeEvent('request_headers', rustHeaders), {
    correlationId: 'req-7',
    event: {
      metadata: {
        correlationId: 'req-7',
        requestId: 'r',
        clientIp: '::1',
        clientPort: 8080,
        serverName: null,
        protocol: 'HTTP/2',
        tlsVersion: null,
        tlsCipher: null,
        routeId: 'x',
        upstreamId: null,
        timestamp: '2026-01-01T00:00:00+00:00',
      },
      method: 'GET',
      uri: '/',
      headers: { host: ['h'] },
    },
  });
});

test('undecodable msgpack payloads throw ZAP_PROTOCOL_ERROR', () => {
  for (const payload of [Buffer.alloc(0), bytes('81'), bytes('0102'), bytes('d9 05 61')]) {
    assert.throws(() => msgpackCodec.parseResponse(payload), isProtocolError, hex(payload));
    assert.throws(() => msgpackCodec.decodeEvent('request_headers', payload), isProtocolError, hex(payload));
  }
});

test('a well-formed msgpack value of the wrong shape is a protocol error naming the key', () => {
  assert.throws(
    () => msgpackCodec.decodeEvent('websocket_frame', msgpackCodec.encodeValue({ correlation_id: 'c', opcode: 'text', data: 5 })),
    (err: AgentPoolError) => isProtocolError(err) && /'data'/.test(err.message),
  );
  assert.throws(() => agentResponseFromWire(msgpackCodec.parseResponse(bytes('a5', ascii('allow'))).body), isProtocolError);
});
