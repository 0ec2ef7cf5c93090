// Property tests: domain → bytes → domain for the eight events and the AgentResponse in JSON and
// MessagePack, and garbage in → only AgentPoolError out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonCodec, msgpackCodec, type PayloadCodec } from '../src/protocol/payload-codec.js';
import { AGENT_RESPONSE_KEYS, agentResponseFromWire, agentResponseToWire } from '../src/protocol/agent-response.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import type { AgentResponse, BodyMutation, Decision, EventKind, EventMap, HeaderOp, WebSocketDecision } from '../src/protocol/types.js';

const CODECS: readonly PayloadCodec[] = [jsonCodec, msgpackCodec];
const RUNS = { numRuns: 100 };

// Strings over all code points (no lone surrogates: those cannot survive UTF-8 in either encoding).
const str = fc.string({ unit: 'binary', maxLength: 16 });
// msgpackr renames a `__proto__` key on read (prototype-pollution guard), so it is kept out of keys.
const key = str.filter((k) => k !== '__proto__');
const dict = <T>(value: fc.Arbitrary<T>) => fc.dictionary(key, value, { maxKeys: 4, noNullPrototype: true });
const headerMap = dict(fc.array(str, { maxLength: 3 }));
const stringMap = dict(str);
const bytes = fc.uint8Array({ maxLength: 48 }).map((u) => Buffer.from(u));
const optStr = fc.option(str, { nil: null });
const u16 = fc.nat({ max: 0xffff });
const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.maxSafeNat();
/** Any JSON value, normalised the way a JSON round trip leaves it (plain prototypes, no -0, no `__proto__`). */
const json = fc
  .jsonValue({ maxDepth: 3, stringUnit: 'binary' })
  .map((v) => JSON.parse(JSON.stringify(v), (k, val: unknown) => (k === '__proto__' ? undefined : val)) as unknown);

const metadata = fc.record(
  {
    correlationId: str,
    requestId: str,
    clientIp: str,
    clientPort: u16,
    serverName: optStr,
    protocol: fc.constantFrom('HTTP/1.0', 'HTTP/1.1', 'HTTP/2', 'HTTP/3'),
    tlsVersion: optStr,
    tlsCipher: optStr,
    routeId: optStr,
    upstreamId: optStr,
    timestamp: str,
    traceparent: str,
  },
  {
    requiredKeys: [
      'correlationId',
      'requestId',
      'clientIp',
      'clientPort',
      'serverName',
      'protocol',
      'tlsVersion',
      'tlsCipher',
      'routeId',
      'upstreamId',
      'timestamp',
    ],
    noNullPrototype: true,
  },
);

const EVENTS: { [K in EventKind]: fc.Arbitrary<EventMap[K]> } = {
  request_headers: fc.record({ metadata, method: str, uri: str, headers: headerMap }, { noNullPrototype: true }),
  request_body_chunk: fc.record(
    {
      correlationId: str,
      data: bytes,
      isLast: fc.boolean(),
      totalSize: fc.option(u64, { nil: null }),
      chunkIndex: u32,
      bytesReceived: u64,
    },
    { noNullPrototype: true },
  ),
  response_headers: fc.record({ correlationId: str, status: u16, headers: headerMap }, { noNullPrototype: true }),
  response_body_chunk: fc.record(
    { correlationId: str, data: bytes, isLast: fc.boolean(), totalSize: fc.option(u64, { nil: null }), chunkIndex: u32, bytesSent: u64 },
    { noNullPrototype: true },
  ),
  request_complete: fc.record(
    {
      correlationId: str,
      status: u16,
      durationMs: u64,
      requestBodySize: u64,
      responseBodySize: u64,
      upstreamAttempts: u32,
      error: optStr,
    },
    { noNullPrototype: true },
  ),
  websocket_frame: fc.record(
    {
      correlationId: str,
      opcode: fc.constantFrom('continuation', 'text', 'binary', 'close', 'ping', 'pong'),
      data: bytes,
      clientToServer: fc.boolean(),
      frameIndex: u64,
      fin: fc.boolean(),
      routeId: optStr,
      clientIp: str,
    },
    { noNullPrototype: true },
  ),
  guardrail_inspect: fc.record(
    {
      correlationId: str,
      inspectionType: fc.constantFrom('prompt_injection', 'pii_detection'),
      content: str,
      model: str,
      categories: fc.array(str, { maxLength: 3 }),
      routeId: str,
      metadata: stringMap,
    },
    { requiredKeys: ['correlationId', 'inspectionType', 'content', 'categories', 'metadata'], noNullPrototype: true },
  ),
  configure: fc.record({ correlationId: str, config: json, configVersion: optStr, isInitial: fc.boolean() }, { noNullPrototype: true }),
};

const KINDS = Object.keys(EVENTS) as EventKind[];

/** What the agent decodes: the injected cid replaces the event's own top-level correlation id (§6.1). */
function expectedEvent<K extends EventKind>(kind: K, event: EventMap[K], cid: string): EventMap[K] {
  return kind === 'request_headers' ? event : { ...event, correlationId: cid };
}

for (const codec of CODECS) {
  for (const kind of KINDS) {
    test(`${codec.encoding}: ${kind} round trips domain → bytes → domain`, () => {
      const arb = EVENTS[kind] as fc.Arbitrary<EventMap[typeof kind]>;
      fc.assert(
        fc.property(arb, str, (event, cid) => {
          const decoded = codec.decodeEvent(kind, codec.encodeEvent(kind, event, cid));
          assert.deepEqual(decoded, { event: expectedEvent(kind, event, cid), correlationId: cid });
        }),
        RUNS,
      );
    });
  }
}

const decision: fc.Arbitrary<Decision> = fc.oneof(
  fc.constant({ type: 'allow' as const }),
  fc.record(
    { type: fc.constant('block' as const), status: u16, body: optStr, headers: fc.option(stringMap, { nil: null }) },
    { noNullPrototype: true },
  ),
  fc.record({ type: fc.constant('redirect' as const), url: str, status: u16 }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('challenge' as const), challengeType: str, params: stringMap }, { noNullPrototype: true }),
);
const headerOp: fc.Arbitrary<HeaderOp> = fc.oneof(
  fc.record({ op: fc.constantFrom('set' as const, 'add' as const), name: str, value: str }, { noNullPrototype: true }),
  fc.record({ op: fc.constant('remove' as const), name: str }, { noNullPrototype: true }),
);
const mutation: fc.Arbitrary<BodyMutation | null> = fc.option(fc.record({ data: optStr, chunkIndex: u32 }, { noNullPrototype: true }), {
  nil: null,
});
const wsDecision: fc.Arbitrary<WebSocketDecision | null> = fc.option(
  fc.oneof(
    fc.constant({ type: 'allow' as const }),
    fc.constant({ type: 'drop' as const }),
    fc.record({ type: fc.constant('close' as const), code: u16, reason: str }, { noNullPrototype: true }),
  ),
  { nil: null },
);
const confidence = fc.option(
  fc.double({ min: 0, max: 1, noNaN: true }).filter((x) => !Object.is(x, -0)),
  { nil: null },
);

const response: fc.Arbitrary<AgentResponse> = fc.record(
  {
    version: u32,
    decision,
    requestHeaders: fc.array(headerOp, { maxLength: 3 }),
    responseHeaders: fc.array(headerOp, { maxLength: 3 }),
    routingMetadata: stringMap,
    audit: fc.record(
      {
        tags: fc.array(str, { maxLength: 2 }),
        ruleIds: fc.array(str, { maxLength: 2 }),
        confidence,
        reasonCodes: fc.array(str, { maxLength: 2 }),
        custom: dict(json),
      },
      { noNullPrototype: true },
    ),
    needsMore: fc.boolean(),
    requestBodyMutation: mutation,
    responseBodyMutation: mutation,
    websocketDecision: wsDecision,
  },
  { noNullPrototype: true },
);

for (const codec of CODECS) {
  test(`${codec.encoding}: AgentResponse round trips; the cid comes back in audit.custom and at top level`, () => {
    fc.assert(
      fc.property(response, str, (r, cid) => {
        const parsed = codec.parseResponse(codec.encodeResponse(r, cid));
        assert.equal(parsed.correlationId, cid);
        assert.deepEqual(agentResponseFromWire(parsed.body), {
          ...r,
          audit: { ...r.audit, custom: { ...r.audit.custom, correlation_id: cid } },
          correlationId: cid,
        });
      }),
      RUNS,
    );
  });
}

/** Either returns or throws an AgentPoolError; anything else fails the property. */
function onlyAgentPoolError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AgentPoolError)) throw err;
  }
}

for (const codec of CODECS) {
  test(`${codec.encoding}: random bytes into parseResponse / decodeEvent throw only AgentPoolError`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...KINDS), (payload, kind) => {
        onlyAgentPoolError(() => agentResponseFromWire(codec.parseResponse(payload).body));
        onlyAgentPoolError(() => codec.decodeEvent(kind, payload));
      }),
      { numRuns: 200 },
    );
  });
}

test('arbitrary decoded values into the readers throw only AgentPoolError', () => {
  const anything = fc.anything({
    withMap: true,
    withSet: true,
    withBigInt: true,
    withNullPrototype: true,
    withTypedArray: true,
    maxDepth: 3,
  });
  fc.assert(
    fc.property(anything, fc.constantFrom(...KINDS), (value, kind) => {
      onlyAgentPoolError(() => agentResponseFromWire(value));
      onlyAgentPoolError(() => jsonCodec.decodeEvent(kind, jsonCodec.encodeValue(value)));
    }),
    { numRuns: 200 },
  );
});

test('a valid reply with one key replaced by any JSON value: decoded or AgentPoolError, never a crash', () => {
  fc.assert(
    fc.property(response, fc.constantFrom(...AGENT_RESPONSE_KEYS), json, (r, k, value) => {
      const wire = agentResponseToWire(r, 'c');
      wire[k] = value;
      for (const codec of CODECS) {
        onlyAgentPoolError(() => agentResponseFromWire(codec.parseResponse(codec.encodeValue(wire)).body));
      }
    }),
    { numRuns: 200 },
  );
});

test('a valid event with one key replaced by any JSON value: decoded or AgentPoolError, never a crash', () => {
  const anyEvent = fc
    .constantFrom(...KINDS)
    .chain((kind) => fc.tuple(fc.constant(kind), EVENTS[kind] as fc.Arbitrary<EventMap[EventKind]>));
  fc.assert(
    fc.property(anyEvent, str, json, ([kind, event], k, value) => {
      for (const codec of CODECS) {
        const wire = codec.decodeValue(codec.encodeEvent(kind, event, 'c')) as Record<string, unknown>;
        const keys = Object.keys(wire);
        wire[keys[k.length % keys.length] as string] = value;
        onlyAgentPoolError(() => codec.decodeEvent(kind, codec.encodeValue(wire)));
      }
    }),
    { numRuns: 200 },
  );
});
