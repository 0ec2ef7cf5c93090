// The per-call argument checks (src/pool/call-arguments.ts, spec §10.3 / §10.11 ZAP_INVALID_ARGUMENT)
// on their own: every sample event passes; each required field of each kind, given the wrong type
// or left out, is named in a ZAP_INVALID_ARGUMENT; the correlation id comes from one place; bad
// options are refused. The pool-level behaviour (nothing sent, breaker untouched) is in
// test/hostile/caller-invalid-arguments.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { invalidCallArguments, unencodableEvent } from '../src/pool/call-arguments.js';
import { AgentPoolError, ErrorCode, protocolError, zapError } from '../src/protocol/errors.js';
import type { EventKind } from '../src/protocol/types.js';
import { ALL_EVENT_KINDS, sampleDomainEvent } from './support/events.js';

function problem(kind: EventKind, event: unknown, cid: unknown = 'c1', options: unknown = {}): AgentPoolError | undefined {
  return invalidCallArguments('waf', kind, event, cid, options);
}

function mustReject(kind: EventKind, event: unknown, field: RegExp, cid: unknown = 'c1', options: unknown = {}): void {
  const err = problem(kind, event, cid, options);
  if (err === undefined) assert.fail(`${kind}: accepted ${field}`);
  assert.equal(err.code, ErrorCode.InvalidArgument);
  assert.equal(err.agentId, 'waf');
  assert.match(err.message, field, `${kind}: ${err.message}`);
}

/** A copy of the sample with one (possibly nested, dotted) field set; undefined deletes it. */
function withField(kind: EventKind, path: string, value: unknown): Record<string, unknown> {
  const event = structuredClone(sampleDomainEvent(kind, 'c1')) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let target = event;
  for (const k of keys.slice(0, -1)) target = target[k] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return event;
}

/** Required fields per kind, with a value of the wrong type for each. */
const REQUIRED: Record<EventKind, Array<[string, unknown]>> = {
  request_headers: [
    ['metadata', 'x'],
    ['metadata.requestId', 7],
    ['metadata.clientIp', null],
    ['metadata.clientPort', 70_000],
    ['metadata.serverName', 1],
    ['metadata.protocol', {}],
    ['metadata.tlsVersion', 1],
    ['metadata.tlsCipher', true],
    ['metadata.routeId', 2],
    ['metadata.upstreamId', []],
    ['metadata.timestamp', Date.now()],
    ['method', 1],
    ['uri', null],
    ['headers', ['host']],
  ],
  request_body_chunk: [
    ['data', 'aGVsbG8='],
    ['isLast', 'yes'],
    ['totalSize', -1],
    ['chunkIndex', 1.5],
    ['bytesReceived', Number.NaN],
  ],
  response_headers: [
    ['status', '200'],
    ['headers', null],
  ],
  response_body_chunk: [
    ['data', [1, 2]],
    ['isLast', 0],
    ['chunkIndex', -1],
    ['bytesSent', Infinity],
  ],
  request_complete: [
    ['status', 1e6],
    ['durationMs', -3],
    ['requestBodySize', '14'],
    ['responseBodySize', null],
    ['upstreamAttempts', 2 ** 33],
    ['error', 5],
  ],
  websocket_frame: [
    ['opcode', 'TEXT'],
    ['data', 'x'],
    ['clientToServer', 1],
    ['frameIndex', -1],
    ['fin', 'true'],
    ['routeId', 3],
    ['clientIp', undefined],
  ],
  guardrail_inspect: [
    ['inspectionType', 'toxicity'],
    ['content', undefined],
    ['categories', 'pii'],
    ['metadata', null],
  ],
  configure: [
    ['configVersion', 3],
    ['isInitial', undefined],
  ],
};

describe('caller mistakes: call arguments', () => {
  test('every sample event with every valid option set passes, and allocates no error', () => {
    const signal = new AbortController().signal;
    for (const kind of ALL_EVENT_KINDS) {
      for (const options of [undefined, {}, { timeoutMs: 1 }, { timeoutMs: 0.5, signal, cancelReason: 'manual' }]) {
        assert.equal(problem(kind, sampleDomainEvent(kind, 'c1'), 'c1', options), undefined, `${kind} ${JSON.stringify(options)}`);
      }
    }
    // The event's own correlationId is optional (the pool writes the call's id on the wire, §6.1).
    assert.equal(problem('response_headers', withField('response_headers', 'correlationId', undefined)), undefined);
    // Optional fields given with their type.
    assert.equal(problem('request_headers', withField('request_headers', 'metadata.traceparent', '00-ab-cd-01')), undefined);
  });

  for (const kind of ALL_EVENT_KINDS) {
    test(`missing fields: ${kind} — each required field, wrong type or absent, is named`, () => {
      for (const [path, wrong] of REQUIRED[kind]) {
        const name = new RegExp(`${(path.split('.').at(-1) as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
        mustReject(kind, withField(kind, path, wrong), name);
        mustReject(kind, withField(kind, path, undefined), name);
      }
    });
  }

  test('the event itself: not an object', () => {
    for (const event of [undefined, null, 'x', 3, []]) mustReject('request_headers', event, /the event must be an object/);
  });

  test('header values must be arrays of strings', () => {
    mustReject('request_headers', withField('request_headers', 'headers', { host: 'shop.example' }), /headers\['host'\] must be an array/);
    mustReject('response_headers', withField('response_headers', 'headers', { a: ['1', 2] }), /headers\['a'\]\[1\] must be a string/);
    // A peer-controlled header name is escaped in the message.
    const err = problem('request_headers', withField('request_headers', 'headers', { 'x\n-forged': 1 }));
    assert.match(err?.message ?? '', /'x\\n-forged'/);
  });

  test('contradicting correlation id: metadata.correlationId must be the call argument', () => {
    mustReject(
      'request_headers',
      sampleDomainEvent('request_headers', 'other'),
      /metadata\.correlationId 'other' contradicts the call's correlation id 'c1'/,
    );
    mustReject(
      'request_headers',
      withField('request_headers', 'metadata.correlationId', undefined),
      /metadata\.correlationId must be a string/,
    );
    for (const kind of ALL_EVENT_KINDS.filter((k) => k !== 'request_headers')) {
      mustReject(kind, sampleDomainEvent(kind, 'other'), /correlationId 'other' contradicts/);
    }
  });

  test('the correlation id argument must be a non-empty string', () => {
    for (const cid of ['', undefined, null, 7]) {
      const err = invalidCallArguments('waf', 'request_body_chunk', sampleDomainEvent('request_body_chunk', 'c1'), cid, {});
      assert.equal(err?.code, ErrorCode.InvalidArgument, String(cid));
      assert.match(err.message, /correlation id must be a non-empty string/);
    }
  });

  test('timeoutMs must be a finite positive number: NaN, negative, 0, Infinity, non-number are refused', () => {
    for (const timeoutMs of [Number.NaN, -1, 0, -0, Infinity, -Infinity, '100', null, 10n]) {
      mustReject(
        'request_headers',
        sampleDomainEvent('request_headers', 'c1'),
        /options\.timeoutMs must be a finite positive number/,
        'c1',
        { timeoutMs },
      );
    }
  });

  test('other options: not an object, a signal that is not an AbortSignal, an unknown cancelReason', () => {
    const event = sampleDomainEvent('request_headers', 'c1');
    mustReject('request_headers', event, /options must be an object/, 'c1', null);
    mustReject('request_headers', event, /options must be an object/, 'c1', 5);
    mustReject('request_headers', event, /options\.signal must be an AbortSignal/, 'c1', { signal: { aborted: false } });
    mustReject('request_headers', event, /options\.cancelReason must be one of/, 'c1', { cancelReason: 'because' });
  });

  test('an unknown event kind (plain JS) is refused, prototype names included', () => {
    for (const kind of ['toString', 'request_header', '__proto__']) {
      mustReject(kind as EventKind, {}, /unknown event kind/);
    }
  });

  test("an event that cannot be encoded is the caller's: ZAP_INVALID_ARGUMENT; size and internal errors keep their code", () => {
    const fromCodec = unencodableEvent(protocolError('event cannot be written as JSON: cycle'), 'waf', 'c1') as AgentPoolError;
    assert.equal(fromCodec.code, ErrorCode.InvalidArgument);
    assert.equal(fromCodec.correlationId, 'c1');
    assert.match(fromCodec.message, /cannot be encoded: event cannot be written as JSON/);
    assert.equal((unencodableEvent(new TypeError('x is undefined'), 'waf', 'c1') as AgentPoolError).code, ErrorCode.InvalidArgument);
    assert.equal((unencodableEvent(zapError(ErrorCode.FrameTooLarge, 'big'), 'waf', 'c1') as AgentPoolError).code, ErrorCode.FrameTooLarge);
    assert.equal((unencodableEvent(zapError(ErrorCode.Error, 'bug'), 'waf', 'c1') as AgentPoolError).code, ErrorCode.Error);
  });
});
