// The binary batches between the router and a connection-host thread (src/contract/send-batch.ts,
// result-batch.ts): every reply shape comes back equal (the common ones in the bytes, the rest by
// the sparse fallback), order is kept, and a corrupt batch throws ZAP_ERROR instead of crashing or
// handing on garbage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CancelItem, ResultItem, SendItem } from '../src/contract/host-messages.js';
import { readResultBatch, ResultBatchWriter, type ResultBatch } from '../src/contract/result-batch.js';
import { readSendBatch, SendBatchWriter } from '../src/contract/send-batch.js';
import { agentResponseFromWire, agentResponseToWire, allowResponse } from '../src/protocol/agent-response.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { encodeTextFrame } from '../src/protocol/frame-encoder.js';
import { PackedJsonWriter } from '../src/transport/packed-json.js';
import { GrowableBytes, INITIAL_BYTES, KEEP_BYTES } from '../src/protocol/growable-bytes.js';
import { COPY_BELOW_BYTES } from '../src/contract/host-port.js';
import { eventToWire } from '../src/protocol/events.js';
import type { AgentResponse, RequestHeadersEvent } from '../src/protocol/types.js';
import { sampleRequestHeaders } from '../bench/sample-request.js';

function response(over: Partial<AgentResponse> = {}): AgentResponse {
  return { ...allowResponse(), ...over };
}

/** Writes `items` (with the reply id each call was sent under, when given) and reads them back. */
function roundTrip(items: ResultItem[], replyIds: ReadonlyMap<number, string> = new Map()): { out: ResultItem[]; batch: ResultBatch } {
  const w = new ResultBatchWriter();
  for (const item of items) w.add(item, replyIds.get(item[0]));
  assert.equal(w.size, items.length);
  const batch = w.take();
  assert.equal(w.size, 0);
  const out: ResultItem[] = [];
  readResultBatch(
    batch,
    (item) => out.push(item),
    (id) => replyIds.get(id),
  );
  return { out, batch };
}

const NO_IDS = (): undefined => undefined;

const COMPACT: Record<string, AgentResponse> = {
  'bare allow': response(),
  'allow with header ops both ways': response({
    requestHeaders: [
      { op: 'set', name: 'x-agent-echo', value: 'GET /products/42?ref=home' },
      { op: 'add', name: 'x-multi', value: 'a' },
      { op: 'remove', name: 'cookie' },
    ],
    responseHeaders: [{ op: 'set', name: 'x-frame-options', value: 'DENY' }],
  }),
  'non-ASCII strings': response({
    requestHeaders: [{ op: 'set', name: 'x-ünïcode', value: 'naïve café — 日本語 🎉' }],
    correlationId: 'cid-é',
  }),
  'lone surrogates kept as they are (UTF-8 would replace them)': response({
    requestHeaders: [{ op: 'set', name: 'x-\ud800', value: 'a\udc00b' }],
    correlationId: '\ud83d',
  }),
  'full audit, routing metadata, needsMore, cid, processing time': response({
    routingMetadata: { upstream: 'blue', 'shard-id': '7' },
    audit: {
      tags: ['sqli', 'xss'],
      ruleIds: ['942100'],
      confidence: 0.875,
      reasonCodes: ['R1'],
      custom: { correlation_id: 'c-1', note: '' },
    },
    needsMore: true,
    correlationId: 'c-1',
    processingTimeMs: 1.25,
  }),
  'confidence 0 and version 0': response({ version: 0, audit: { tags: [], ruleIds: [], confidence: 0, reasonCodes: [], custom: {} } }),
  'block with status only': response({ decision: { type: 'block', status: 403, body: null, headers: null } }),
  'block with body and headers': response({
    decision: { type: 'block', status: 429, body: 'slow down ✋', headers: { 'retry-after': '5', 'content-type': 'text/plain' } },
  }),
  'block with empty body and empty headers': response({ decision: { type: 'block', status: 0, body: '', headers: {} } }),
};

const RARE: Record<string, AgentResponse> = {
  redirect: response({ decision: { type: 'redirect', url: 'https://example.test/login', status: 302 } }),
  challenge: response({ decision: { type: 'challenge', challengeType: 'captcha', params: { site: 'k' } } }),
  'request body mutation': response({ requestBodyMutation: { data: 'new body', chunkIndex: 0 } }),
  'response body mutation': response({ responseBodyMutation: { data: null, chunkIndex: 3 } }),
  'websocket decision': response({ websocketDecision: { type: 'close', code: 1008, reason: 'policy' } }),
  'custom audit value that is not a string': response({
    audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: { correlation_id: 'c', score: 7, nested: { a: [1] } } },
  }),
  'a __proto__ key kept as an own key': response({ routingMetadata: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> }),
  'version beyond 16 bits': response({ version: 70_000 }),
  'block status beyond 16 bits': response({ decision: { type: 'block', status: 100_000, body: null, headers: null } }),
};

describe('result batch', () => {
  for (const [name, r] of Object.entries(COMPACT)) {
    test(`compact: ${name} comes back equal, nothing cloned`, () => {
      const { out, batch } = roundTrip([[7, r]]);
      assert.deepEqual(out, [[7, r]]);
      assert.equal(batch.rare.length, 0);
    });
  }

  for (const [name, r] of Object.entries(RARE)) {
    test(`fallback: ${name} crosses in sparse form and comes back equal`, () => {
      const { out, batch } = roundTrip([[9, r]]);
      assert.equal(batch.rare.length, 1);
      assert.deepEqual(out, [[9, r]]);
    });
  }

  test('the reply our agent SDK writes (cid in audit.custom and at the top) is compact', () => {
    const sent = response({ requestHeaders: [{ op: 'set', name: 'x-agent-echo', value: 'GET /' }] });
    const decoded = agentResponseFromWire(JSON.parse(JSON.stringify(agentResponseToWire(sent, 'p42'))));
    const { out, batch } = roundTrip([[1, decoded]]);
    assert.equal(batch.rare.length, 0);
    assert.deepEqual(out, [[1, decoded]]);
  });

  test("a correlation id that repeats the call's own crosses as a bit: not in the bytes, back equal", () => {
    const sent = response({ requestHeaders: [{ op: 'set', name: 'x-agent-echo', value: 'GET /' }] });
    const cid = 'cid-4f2a9c1e7b';
    const decoded = agentResponseFromWire(JSON.parse(JSON.stringify(agentResponseToWire(sent, cid))));
    assert.deepEqual(decoded.audit.custom, { correlation_id: cid });
    assert.equal(decoded.correlationId, cid);
    const spelled = roundTrip([[1, decoded]]);
    const known = roundTrip([[1, decoded]], new Map([[1, cid]]));
    assert.deepEqual(known.out, [[1, decoded]]);
    assert.ok(Buffer.from(spelled.batch.bytes).includes(cid), 'without the reply id the cid is written');
    assert.ok(!Buffer.from(known.batch.bytes).includes(cid), 'with it, neither copy of the cid is');
    assert.equal(known.batch.bytes.byteLength, spelled.batch.bytes.byteLength - 2 * (4 + cid.length) - 4 - 'correlation_id'.length - 4);
  });

  test("a correlation id other than the call's, or custom entries beside it, are written out as they are", () => {
    const cases: AgentResponse[] = [
      response({
        correlationId: 'other',
        audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: { correlation_id: 'other' } },
      }),
      response({
        correlationId: 'mine',
        audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: { correlation_id: 'mine', rule: 'x' } },
      }),
      response({ audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: { note: 'mine' } } }),
    ];
    for (const r of cases) {
      const { out } = roundTrip([[5, r]], new Map([[5, 'mine']]));
      assert.deepEqual(out, [[5, r]]);
      assert.deepEqual(Object.keys((out[0]?.[1] as AgentResponse).audit.custom), Object.keys(r.audit.custom), 'key order kept');
    }
  });

  test('a reply whose call is gone reads without throwing (the router drops it as late)', () => {
    const w = new ResultBatchWriter();
    w.add([3, response({ correlationId: 'c3' })], 'c3');
    const out: ResultItem[] = [];
    readResultBatch(w.take(), (item) => out.push(item), NO_IDS);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.[0], 3);
  });

  test('replies, rare replies and errors keep their order; request ids up to 2^53 survive', () => {
    const error = { code: ErrorCode.Timeout, message: 'late', agentId: 'waf', correlationId: 'c' };
    const items: ResultItem[] = [
      [1, COMPACT['bare allow'] as AgentResponse],
      [2, null, error],
      [Number.MAX_SAFE_INTEGER, RARE['redirect'] as AgentResponse],
      [4, COMPACT['block with body and headers'] as AgentResponse],
    ];
    const { out, batch } = roundTrip(items);
    assert.deepEqual(out, items);
    assert.equal(batch.rare.length, 2);
  });

  test('property: any mix of compact and rare replies round-trips', () => {
    const str = fc.string({ maxLength: 12, unit: 'grapheme' });
    const op = fc.oneof(
      fc.record({ op: fc.constantFrom('set' as const, 'add' as const), name: str, value: str }, { noNullPrototype: true }),
      fc.record({ op: fc.constant('remove' as const), name: str }, { noNullPrototype: true }),
    );
    const map = fc.dictionary(str, str, { maxKeys: 3, noNullPrototype: true });
    const reply = fc.record({
      version: fc.integer({ min: 0, max: 80_000 }),
      block: fc.option(
        fc.record(
          { status: fc.integer({ min: 0, max: 0xffff }), body: fc.option(str), headers: fc.option(map) },
          { noNullPrototype: true },
        ),
      ),
      requestHeaders: fc.array(op, { maxLength: 3 }),
      responseHeaders: fc.array(op, { maxLength: 2 }),
      routingMetadata: map,
      tags: fc.array(str, { maxLength: 2 }),
      confidence: fc.option(fc.double({ noNaN: true })),
      custom: fc.dictionary(str, fc.oneof(str, fc.integer()), { maxKeys: 2, noNullPrototype: true }),
      needsMore: fc.boolean(),
      cid: fc.option(fc.oneof(str, fc.constant('own'))),
      customCid: fc.constantFrom('none', 'own', 'other'),
      pt: fc.option(fc.double({ noNaN: true })),
      mutation: fc.option(fc.record({ data: fc.option(str), chunkIndex: fc.nat(9) }, { noNullPrototype: true })),
    });
    fc.assert(
      fc.property(fc.array(reply, { maxLength: 6 }), (specs) => {
        const items: ResultItem[] = specs.map((s, i) => {
          const r = response({
            version: s.version,
            decision: s.block === null ? { type: 'allow' } : { type: 'block', ...s.block },
            requestHeaders: s.requestHeaders,
            responseHeaders: s.responseHeaders,
            routingMetadata: s.routingMetadata,
            audit: { tags: s.tags, ruleIds: [], confidence: s.confidence, reasonCodes: [], custom: s.custom },
            needsMore: s.needsMore,
            requestBodyMutation: s.mutation,
          });
          if (s.cid !== null) r.correlationId = s.cid;
          if (s.pt !== null) r.processingTimeMs = s.pt;
          if (s.customCid !== 'none') r.audit.custom = { correlation_id: s.customCid };
          return [i, r];
        });
        // Every call was sent under 'own': replies that repeat it cross as bits.
        assert.deepEqual(roundTrip(items, new Map(items.map((item) => [item[0], 'own']))).out, items);
        assert.deepEqual(roundTrip(items).out, items);
      }),
      { numRuns: 300 },
    );
  });

  test('a batch cut short at any byte throws ZAP_ERROR, after handing on only whole results', () => {
    const items: ResultItem[] = [
      [1, COMPACT['full audit, routing metadata, needsMore, cid, processing time'] as AgentResponse],
      [2, COMPACT['block with body and headers'] as AgentResponse],
    ];
    const w = new ResultBatchWriter();
    for (const item of items) w.add(item);
    const whole = w.take();
    for (let cut = 1; cut < whole.bytes.byteLength; cut++) {
      const out: ResultItem[] = [];
      const bytes = whole.bytes.slice(0, cut);
      assert.throws(
        () => readResultBatch({ bytes, rare: [] }, (item) => out.push(item), NO_IDS),
        (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.Error,
        `cut at ${cut}`,
      );
      assert.ok(out.length < items.length);
      for (const [i, item] of out.entries()) assert.deepEqual(item, items[i]);
    }
  });

  test('an unknown tag, an unknown header op, or rare entries that do not match their marks throw ZAP_ERROR', () => {
    const isZapError = (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.Error;
    assert.throws(
      () =>
        readResultBatch({ bytes: new Uint8Array([1, 0, 0, 0, 17, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]).buffer, rare: [] }, () => {}, NO_IDS),
      isZapError,
    );
    const w = new ResultBatchWriter();
    w.add([1, response({ requestHeaders: [{ op: 'remove', name: 'a' }] })]);
    const batch = w.take();
    const bytes = new Uint8Array(batch.bytes);
    // head (item count, byte length), tag, id, flags, present, version, header-op count, then the op byte
    bytes[8 + 1 + 8 + 1 + 1 + 2 + 4] = 7;
    assert.throws(() => readResultBatch(batch, () => {}, NO_IDS), isZapError);
    w.add([2, RARE['redirect'] as AgentResponse]);
    assert.throws(() => readResultBatch({ bytes: w.take().bytes, rare: [] }, () => {}, NO_IDS), isZapError);
    w.add([3, response()]);
    assert.throws(
      () => readResultBatch({ bytes: w.take().bytes, rare: [{ code: ErrorCode.Timeout, message: 'x' }] }, () => {}, NO_IDS),
      isZapError,
    );
  });

  test('random corruption of a batch gives results or ZAP_ERROR, never another exception', () => {
    const w = new ResultBatchWriter();
    w.add([1, COMPACT['allow with header ops both ways'] as AgentResponse]);
    w.add([2, COMPACT['block with body and headers'] as AgentResponse]);
    const whole = new Uint8Array(w.take().bytes);
    fc.assert(
      fc.property(fc.nat(whole.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bytes = whole.slice();
        bytes[at] = value;
        try {
          readResultBatch({ bytes: bytes.buffer, rare: [] }, () => {}, NO_IDS);
        } catch (err) {
          assert.ok(err instanceof AgentPoolError && err.code === ErrorCode.Error, String(err));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('send batch', () => {
  const frame = (text: string) => Buffer.from(text);

  test('sends and cancels come back in order, frames byte-equal, reverse (negative) connection ids kept', () => {
    const w = new SendBatchWriter();
    const sends: SendItem[] = [
      [1, 3, 'c-1', frame('{"a":1}'), 0],
      [2, -1_000_001, 'cid-ü-日本-\ud800', frame(''), 0],
    ];
    const cancels: CancelItem[] = [
      [1, 'timeout', true],
      [2, 'client_disconnect', false],
    ];
    w.send(sends[0] as SendItem);
    w.cancel(cancels[0] as CancelItem);
    w.send(sends[1] as SendItem);
    w.cancel(cancels[1] as CancelItem);
    assert.equal(w.size, 4);
    const seen: unknown[] = [];
    readSendBatch(w.take(), {
      send: (item) => seen.push(['send', item[0], item[1], item[2], Buffer.from(item[3] as Uint8Array).toString()]),
      cancel: (item) => seen.push(['cancel', ...item]),
    });
    assert.deepEqual(seen, [
      ['send', 1, 3, 'c-1', '{"a":1}'],
      ['cancel', 1, 'timeout', true],
      ['send', 2, -1_000_001, 'cid-ü-日本-\ud800', ''],
      ['cancel', 2, 'client_disconnect', false],
    ]);
    assert.equal(w.size, 0);
  });

  test('a packed JSON payload between two plain sends: the host gets the frame encodeTextFrame writes for its text', () => {
    const event = { ...sampleRequestHeaders('c-2'), headers: { accept: ['a', 'b\n"'] } };
    const w = new SendBatchWriter();
    w.send([1, 1, 'c-1', frame('{"first":1}'), 0]);
    const packed = w.jsonEncoder.encode('request_headers', event, 'c-2');
    assert.ok(packed instanceof PackedJsonWriter, 'packed in place');
    w.send([2, 1, 'c-2', packed, 0x10]);
    w.send([3, 1, 'c-3', '{"third":3}', 0x11]);
    const frames: string[] = [];
    readSendBatch(w.take(), {
      send: (item) => frames.push(Buffer.from(item[3] as Uint8Array).toString('latin1')),
      cancel: () => assert.fail('no cancel'),
    });
    assert.deepEqual(frames, [
      '{"first":1}',
      encodeTextFrame(0x10, JSON.stringify(eventToWire('request_headers', event, 'c-2', false))).toString('latin1'),
      encodeTextFrame(0x11, '{"third":3}').toString('latin1'),
    ]);
  });

  test('JSON events packed in place, mixed with plain sends, texts, cancels and refused events: frames as encodeTextFrame writes', () => {
    const event = (cid: string, uri: string, headers: Record<string, string[]>): RequestHeadersEvent => ({
      ...sampleRequestHeaders(cid),
      uri,
      headers,
    });
    const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('packed' as const), uri: fc.oneof(ascii, fc.constant('/café')), value: ascii }),
      fc.record({ kind: fc.constant('bytes' as const), text: ascii }),
      fc.record({ kind: fc.constant('text' as const), text: fc.string() }),
      fc.record({ kind: fc.constant('cancel' as const) }),
      // Large enough to grow the batch while packing (the writer's first buffer is 4 KiB).
      fc.record({ kind: fc.constant('big' as const), size: fc.integer({ min: 1_000, max: 30_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const w = new SendBatchWriter();
        const expected: string[] = [];
        ops.forEach((o, i) => {
          const cid = `c-${i}`;
          if (o.kind === 'cancel') {
            w.cancel([i, 'manual']);
            expected.push(`cancel ${i}`);
            return;
          }
          if (o.kind === 'bytes' || o.kind === 'text') {
            w.send([i, 1, cid, o.kind === 'bytes' ? frame(o.text) : o.text, 0x11]);
            expected.push(`send ${i} ${cid} ` + (o.kind === 'bytes' ? frame(o.text) : encodeTextFrame(0x11, o.text)).toString('latin1'));
            return;
          }
          const e = o.kind === 'big' ? event(cid, '/', { big: ['x'.repeat(o.size)] }) : event(cid, o.uri, { accept: [o.value] });
          const encoded = w.jsonEncoder.encode('request_headers', e, cid);
          w.send([i, -7, cid, encoded, 0x10]);
          const text = JSON.stringify(eventToWire('request_headers', e, cid, false));
          assert.equal(typeof encoded === 'string', !/^[ -~]*$/.test(text), 'packed unless non-ASCII');
          expected.push(`send ${i} ${cid} ` + encodeTextFrame(0x10, text).toString('latin1'));
        });
        const seen: string[] = [];
        readSendBatch(w.take(), {
          send: (item) => seen.push(`send ${item[0]} ${item[2]} ` + Buffer.from(item[3] as Uint8Array).toString('latin1')),
          cancel: (item) => seen.push(`cancel ${item[0]}`),
        });
        assert.deepEqual(seen, expected);
      }),
      { numRuns: 200 },
    );
  });

  test('an event packed in place and not sent next is refused (ZAP_ERROR) instead of being read as part of other bytes', () => {
    const isZapError = (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.Error;
    const w = new SendBatchWriter();
    const packed = w.jsonEncoder.encode('request_headers', sampleRequestHeaders('c-1'), 'c-1');
    w.cancel([9, 'manual']);
    assert.throws(() => w.send([1, 1, 'c-1', packed, 0x10]), isZapError, 'a write came in between');
    const again = w.jsonEncoder.encode('request_headers', sampleRequestHeaders('c-2'), 'c-2');
    w.send([2, 1, 'c-2', again, 0x10]);
    assert.throws(() => w.send([2, 1, 'c-2', again, 0x10]), isZapError, 'sent twice');
  });

  test('a batch grown past KEEP_BYTES by packing in place is let go by take(), by the batch and its packer alike', () => {
    const w = new SendBatchWriter();
    const big = { ...sampleRequestHeaders('c-1'), headers: { big: ['x'.repeat(30_000)] } };
    for (let i = 0; i < 40; i++) w.send([i, 1, 'c-1', w.jsonEncoder.encode('request_headers', big, 'c-1'), 0x10]);
    const packer = (w as unknown as { packer: PackedJsonWriter }).packer;
    assert.ok(packer.bytes.byteLength > KEEP_BYTES, 'the batch grew past KEEP_BYTES while packing');
    let sends = 0;
    readSendBatch(w.take(), { send: () => sends++, cancel: () => {} });
    assert.equal(sends, 40);
    assert.ok(packer.bytes.byteLength <= KEEP_BYTES, 'the packer holds no grown buffer after take()');
    const out = (w as unknown as { out: GrowableBytes }).out;
    assert.equal(out.bytes.byteLength, INITIAL_BYTES, 'the batch goes on in a buffer of the first size, not one of KEEP_BYTES');
    assert.equal(packer.bytes, out.bytes, 'and the packer with it');
  });

  test('an event packed by another writer is not in this batch: ZAP_ERROR, and nothing half-written', () => {
    const isZapError = (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.Error;
    const w = new SendBatchWriter();
    const other = new PackedJsonWriter();
    assert.equal(other.packEvent('request_headers', sampleRequestHeaders('c-5'), 'c-5'), true);
    // Even right after this batch packed an event of its own: that one is not the one being sent.
    const event = sampleRequestHeaders('c-6');
    const own = w.jsonEncoder.encode('request_headers', event, 'c-6');
    assert.throws(() => w.send([5, 2, 'c-5', other, 0x10]), isZapError);
    w.send([6, 2, 'c-6', own, 0x10]);
    const frames: string[] = [];
    readSendBatch(w.take(), { send: (item) => frames.push(Buffer.from(item[3] as Uint8Array).toString('latin1')), cancel: () => {} });
    assert.deepEqual(frames, [
      encodeTextFrame(0x10, JSON.stringify(eventToWire('request_headers', event, 'c-6', false))).toString('latin1'),
    ]);
  });

  test('a JSON text is framed in the batch with the bytes encodeTextFrame writes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.integer({ min: 0x10, max: 0x17 })), { maxLength: 8 }), (texts) => {
        const w = new SendBatchWriter();
        texts.forEach(([text, type], i) => w.send([i, 1, `c${i}`, JSON.stringify(text), type]));
        const frames: Buffer[] = [];
        readSendBatch(w.take(), {
          send: (item) => frames.push(Buffer.from(item[3] as Uint8Array)),
          cancel: () => assert.fail('no cancel'),
        });
        assert.deepEqual(
          frames,
          texts.map(([text, type]) => encodeTextFrame(type, JSON.stringify(text))),
        );
      }),
      { numRuns: 300 },
    );
  });

  test('a batch larger than the writer’s first buffer grows and stays whole', () => {
    const w = new SendBatchWriter();
    const big = Buffer.alloc(50_000, 0x61);
    for (let i = 0; i < 5; i++) w.send([i, 1, `c${i}`, big, 0]);
    let total = 0;
    readSendBatch(w.take(), { send: (item) => (total += (item[3] as Uint8Array).byteLength), cancel: () => assert.fail('no cancel') });
    assert.equal(total, 5 * big.byteLength);
  });

  test('a large batch is the writer’s whole buffer, read to its head’s length; given-back buffers take the next ones, two at most', () => {
    const w = new SendBatchWriter();
    let next = 0;
    /** A batch of packed events, past COPY_BELOW_BYTES; returns its buffer. */
    const largeBatch = (): ArrayBuffer => {
      for (let i = 0; i < 30; i++, next++) {
        const cid = `c${next}`;
        w.send([next, 1, cid, w.jsonEncoder.encode('request_headers', sampleRequestHeaders(cid), cid), 0x10]);
      }
      return w.take();
    };
    const readIds = (batch: ArrayBuffer): { ids: number[]; free: boolean } => {
      const ids: number[] = [];
      const free = readSendBatch(batch, { send: (item) => ids.push(item[0]), cancel: () => assert.fail('no cancel') });
      return { ids, free };
    };
    const first = largeBatch();
    assert.ok(first.byteLength >= COPY_BELOW_BYTES);
    const read = readIds(first);
    assert.deepEqual(
      read.ids,
      Array.from({ length: 30 }, (_, i) => i),
      'read to the head’s length, not the buffer’s',
    );
    assert.equal(read.free, true, 'packed events leave no view of the batch behind');

    const a = largeBatch();
    const b = largeBatch();
    const tooSmall = new ArrayBuffer(COPY_BELOW_BYTES - 1);
    const tooLarge = new ArrayBuffer(KEEP_BYTES + 1);
    for (const buffer of [first, a, tooSmall, tooLarge, b]) w.giveBack(buffer);
    // The writer goes on in the last buffer given back and kept (first, a; b is one too many).
    const c = largeBatch(); // written before any spare was taken
    const intoA = largeBatch();
    const intoFirst = largeBatch();
    const fresh = largeBatch();
    assert.equal(intoA, a);
    assert.equal(intoFirst, first);
    for (const other of [first, a, b, c, tooSmall, tooLarge]) assert.notEqual(fresh, other, 'no third spare was kept');
    assert.deepEqual(
      readIds(intoFirst).ids,
      Array.from({ length: 30 }, (_, i) => 150 + i),
      'a reused buffer holds only its new batch',
    );
  });

  test('a batch that fills less than half the writer’s buffer is copied out at its size: a view the host keeps pins only its bytes', () => {
    const w = new SendBatchWriter();
    w.giveBack(new ArrayBuffer(KEEP_BYTES));
    w.send([1, 1, 'c-1', Buffer.alloc(2 * COPY_BELOW_BYTES, 0x61), 0]);
    const first = w.take();
    assert.ok(first.byteLength > 2 * COPY_BELOW_BYTES && first.byteLength <= 4 * COPY_BELOW_BYTES, 'handed over: it filled its buffer');
    const out = (w as unknown as { out: GrowableBytes }).out;
    assert.equal(out.capacityBytes, KEEP_BYTES, 'the writer went on in the 1 MiB spare');
    w.send([2, 1, 'c-2', Buffer.alloc(COPY_BELOW_BYTES, 0x62), 0]);
    const second = w.take();
    assert.ok(second.byteLength < COPY_BELOW_BYTES + 64, `copied at its size, not the spare's (${second.byteLength} bytes)`);
    assert.equal(out.capacityBytes, KEEP_BYTES, 'and the writer keeps its buffer');
    const frames: number[] = [];
    assert.equal(readSendBatch(second, { send: (item) => frames.push((item[3] as Uint8Array).byteLength), cancel: () => {} }), false);
    assert.deepEqual(frames, [COPY_BELOW_BYTES]);
    // With a spare to go on in, the same batch is handed over whole.
    const spare = new ArrayBuffer(4 * COPY_BELOW_BYTES);
    w.giveBack(spare);
    w.send([3, 1, 'c-3', Buffer.alloc(COPY_BELOW_BYTES, 0x63), 0]);
    assert.equal(w.take().byteLength, KEEP_BYTES, 'the whole buffer');
    assert.equal(out.bytes.buffer, spare, 'the writer went on in the spare');
  });

  test('a small batch is copied out at its exact size; a batch with a view of its bytes handed on is not free', () => {
    const w = new SendBatchWriter();
    w.cancel([1, 'manual']);
    const small = w.take();
    assert.equal(small.byteLength, 8 + 1 + 8 + 1 + 1, 'head, then one cancel');
    w.send([2, 1, 'c-2', Buffer.alloc(COPY_BELOW_BYTES, 0x61), 0]);
    assert.equal(readSendBatch(w.take(), { send: () => {}, cancel: () => {} }), false);
  });

  test('a batch cut short, or with an unknown tag or cancel reason, throws ZAP_ERROR', () => {
    const isZapError = (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.Error;
    const w = new SendBatchWriter();
    w.send([1, 2, 'c', frame('{"x":true}'), 0]);
    w.cancel([1, 'manual']);
    const whole = w.take();
    for (let cut = 1; cut < whole.byteLength; cut++) {
      assert.throws(() => readSendBatch(whole.slice(0, cut), { send: () => {}, cancel: () => {} }), isZapError, `cut at ${cut}`);
    }
    const badTag = new Uint8Array(whole.slice(0));
    badTag[8] = 0; // the first item's tag, after the head
    assert.throws(() => readSendBatch(badTag.buffer, { send: () => {}, cancel: () => {} }), isZapError);
    const badReason = new Uint8Array(whole.slice(0));
    badReason[badReason.length - 2] = 200;
    assert.throws(() => readSendBatch(badReason.buffer, { send: () => {}, cancel: () => {} }), isZapError);
  });
});
