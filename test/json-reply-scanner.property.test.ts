// The JSON reply scanner (src/protocol/json-reply-scanner.ts) against the general path it stands in
// for: JSON.parse, the §6.9.1 correlation id, then agentResponseFromWire. On any text, what the
// scanner takes must be exactly what the general path makes of it (and the general path must not
// refuse it); what it leaves, the general path decides. Texts are written from key/value trees that
// may repeat or reorder keys, add unknown ones, and carry escapes, whitespace, odd numbers and
// non-ASCII. And the common replies (our SDK's, compact, ASCII) are taken, so a scanner that took
// nothing fails too.
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { agentResponseFromWire, agentResponseToWire, extractCorrelationId } from '../src/protocol/agent-response.js';
import { jsonCodec } from '../src/protocol/payload-codec.js';
import { scanAgentResponse } from '../src/protocol/json-reply-scanner.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import type { AgentResponse, Decision, HeaderOp } from '../src/protocol/types.js';

/** A JSON tree that can say what JSON.stringify cannot: a key twice, a number as written. */
type Tree = { obj: Array<[string, Tree]> } | { arr: Tree[] } | { raw: string } | string | boolean | null;

function write(t: Tree, spaced: boolean): string {
  const sp = spaced ? ' ' : '';
  if (t === null || typeof t === 'boolean') return String(t);
  if (typeof t === 'string') return JSON.stringify(t);
  if ('raw' in t) return t.raw;
  if ('arr' in t) return `[${sp}${t.arr.map((v) => write(v, spaced)).join(`,${sp}`)}]`;
  return `{${sp}${t.obj.map(([k, v]) => `${JSON.stringify(k)}:${sp}${write(v, spaced)}`).join(`,${sp}`)}}`;
}

/** Mostly plain ASCII; now and then a quote, a backslash, a control character or non-ASCII. */
const text = fc.string({
  unit: fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom('a', 'b', 'x', '-', '/', ' ', '1', '_', 'correlation_id'.slice(0, 1)) },
    { weight: 1, arbitrary: fc.constantFrom('"', '\\', '\n', '\u0001', '\u007f', 'é', '€', '😀', '\u2028') },
  ),
  maxLength: 12,
});
/** Raw text in quotes: a control character JSON.parse refuses, or an escape it reads. */
const rawString = fc.constantFrom('"a\u0001b"', '"tab\there"', '"line\nbreak"', '"\\u0041"', '"\\""').map((raw) => ({ raw }));
const strTree: fc.Arbitrary<Tree> = fc.oneof({ weight: 20, arbitrary: text }, { weight: 1, arbitrary: rawString });
const number: fc.Arbitrary<Tree> = fc
  .oneof(
    fc.integer({ min: -5, max: 5 }).map(String),
    fc.constantFrom('2', '2.0', '-0', '0', '1e0', '2E+0', '0.5', '1.5e-3', '9007199254740993', '01', '2.', '-', '1e', 'NaN', '1e400'),
  )
  .map((raw) => ({ raw }));
const nullish: fc.Arbitrary<Tree> = fc.constant(null);
const strings: fc.Arbitrary<Tree> = fc.oneof(
  nullish,
  fc.array(strTree, { maxLength: 3 }).map((arr) => ({ arr })),
  number,
);
const stringMap: fc.Arbitrary<Tree> = fc.oneof(
  nullish,
  fc
    .array(
      fc.tuple(
        fc.oneof(text, fc.constantFrom('__proto__', 'correlation_id', 'toString', '1', 'constructor')),
        fc.oneof(strTree, strTree, number),
      ),
      {
        maxLength: 3,
      },
    )
    .map((obj) => ({ obj })),
  fc.array(strTree, { maxLength: 1 }).map((arr) => ({ arr })),
);
const opBody: fc.Arbitrary<Tree> = fc.oneof(
  fc.record({ name: strTree, value: strTree }).map(({ name, value }) => ({
    obj: [
      ['name', name],
      ['value', value],
    ] as Array<[string, Tree]>,
  })),
  fc.record({ name: strTree, value: strTree }).map(({ name, value }) => ({
    obj: [
      ['value', value],
      ['name', name],
    ] as Array<[string, Tree]>,
  })),
  strTree.map((name) => ({ obj: [['name', name]] as Array<[string, Tree]> })),
  strTree.map((name) => ({
    obj: [
      ['name', name],
      ['name', 'again'],
    ] as Array<[string, Tree]>,
  })),
  strTree.map((name) => ({
    obj: [
      ['name', name],
      ['value', 'v'],
      ['extra', 'e'],
    ] as Array<[string, Tree]>,
  })),
  strTree,
  nullish,
);
const headerOp: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('set', 'add', 'remove'), opBody)
      .map(([tag, body]) => ({ obj: [[tag, body]] as Array<[string, Tree]> })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Tree>(
      { obj: [] },
      {
        obj: [
          ['op', 'set'],
          ['name', 'n'],
          ['value', 'v'],
        ],
      },
      { obj: [['drop', { obj: [] }]] },
      'set',
    ),
  },
);
const headerOps: fc.Arbitrary<Tree> = fc.oneof(
  nullish,
  fc.array(headerOp, { maxLength: 3 }).map((arr) => ({ arr })),
  fc.constant<Tree>({ obj: [] }),
);
const audit: fc.Arbitrary<Tree> = fc.oneof(
  nullish,
  fc
    .array(
      fc.oneof(
        strings.map((v) => ['tags', v] as [string, Tree]),
        strings.map((v) => ['rule_ids', v] as [string, Tree]),
        strings.map((v) => ['reason_codes', v] as [string, Tree]),
        fc.oneof(nullish, number, strTree).map((v) => ['confidence', v] as [string, Tree]),
        stringMap.map((v) => ['custom', v] as [string, Tree]),
        fc.constant(['extra', { raw: '1' }] as [string, Tree]),
      ),
      { maxLength: 6 },
    )
    .map((obj) => ({ obj })),
);
const status: fc.Arbitrary<Tree> = fc.oneof(
  number,
  fc.constantFrom('403', '0', '65535', '65536', '-1', '403.0', '4e2').map((raw) => ({ raw })),
);
const blockBody: fc.Arbitrary<Tree> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: status.map((v) => ['status', v] as [string, Tree]) },
      { weight: 2, arbitrary: fc.oneof(nullish, strTree, number).map((v) => ['body', v] as [string, Tree]) },
      { weight: 2, arbitrary: stringMap.map((v) => ['headers', v] as [string, Tree]) },
      { weight: 1, arbitrary: fc.constant(['extra', null] as [string, Tree]) },
    ),
    { maxLength: 4 },
  )
  .map((obj) => ({ obj }));
const decision: fc.Arbitrary<Tree> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('allow') },
  { weight: 3, arbitrary: blockBody.map((body) => ({ obj: [['block', body]] as Array<[string, Tree]> })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Tree>(
      'Allow',
      'block',
      { obj: [['allow', null]] },
      { obj: [['block', { arr: [{ raw: '403' }] }]] },
      {
        obj: [
          ['block', { obj: [['status', { raw: '403' }]] }],
          ['allow', null],
        ],
      },
      {
        obj: [
          [
            'redirect',
            {
              obj: [
                ['url', '/'],
                ['status', { raw: '302' }],
              ],
            },
          ],
        ],
      },
      null,
    ),
  },
);
const member: fc.Arbitrary<[string, Tree]> = fc.oneof(
  number.map((v) => ['version', v] as [string, Tree]),
  decision.map((v) => ['decision', v] as [string, Tree]),
  headerOps.map((v) => ['request_headers', v] as [string, Tree]),
  headerOps.map((v) => ['response_headers', v] as [string, Tree]),
  stringMap.map((v) => ['routing_metadata', v] as [string, Tree]),
  audit.map((v) => ['audit', v] as [string, Tree]),
  fc.constantFrom<Tree>(true, false, null, 'yes').map((v) => ['needs_more', v] as [string, Tree]),
  fc
    .constantFrom<Tree>(null, {
      obj: [
        ['data', null],
        ['chunk_index', { raw: '0' }],
      ],
    })
    .map((v) => ['request_body_mutation', v] as [string, Tree]),
  fc.constantFrom<Tree>(null, { obj: [] }).map((v) => ['response_body_mutation', v] as [string, Tree]),
  fc.constantFrom<Tree>(null, 'drop').map((v) => ['websocket_decision', v] as [string, Tree]),
  fc.oneof(nullish, strTree, number).map((v) => ['correlation_id', v] as [string, Tree]),
  fc.constantFrom<[string, Tree]>(['extra', null], ['Version', { raw: '2' }], ['', 'x']),
);
/** A reply: version and decision first (usually), then members in any order, now and then one twice. */
const reply: fc.Arbitrary<{ tree: Tree; spaced: boolean }> = fc
  .record({
    head: fc.oneof({ weight: 8, arbitrary: decision }, { weight: 1, arbitrary: fc.constant(undefined) }),
    members: fc.array(member, { maxLength: 8 }),
    spaced: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map(({ head, members, spaced }) => {
    const obj: Array<[string, Tree]> =
      head === undefined
        ? []
        : [
            ['version', { raw: '2' }],
            ['decision', head],
          ];
    return { tree: { obj: [...obj, ...members] }, spaced };
  });

type General = { ok: true; correlationId: string | null; response: AgentResponse } | { ok: false };

function general(payload: Buffer): General {
  try {
    const parsed = jsonCodec.parseResponse(payload);
    return { ok: true, correlationId: parsed.correlationId, response: agentResponseFromWire(parsed.body) };
  } catch (err) {
    assert.ok(err instanceof AgentPoolError, String(err));
    return { ok: false };
  }
}

/** The payload's text as the codec decodes it (strict UTF-8, the byte-order mark kept). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The scanner's answer is the general path's, or it leaves the text alone. */
function agrees(json: string): boolean {
  const payload = Buffer.from(json, 'utf8');
  const scanned = scanAgentResponse(payload, UTF8.decode(payload));
  if (scanned === undefined) return false;
  const g = general(payload);
  assert.ok(g.ok, `scanner took what the general path refuses: ${json}`);
  assert.deepStrictEqual(scanned.response, g.response, json);
  assert.equal(scanned.correlationId, g.correlationId, json);
  return true;
}

test('whatever the scanner takes, the general path makes the same reply of; it takes a fair share', () => {
  let taken = 0;
  let runs = 0;
  fc.assert(
    fc.property(reply, ({ tree, spaced }) => {
      runs++;
      if (agrees(write(tree, spaced))) taken++;
    }),
    { numRuns: 3000 },
  );
  // The generator writes takeable replies often enough that a scanner taking none fails here.
  assert.ok(taken > runs / 20, `taken ${taken} of ${runs}`);
});

test('readReply gives what parseResponse and agentResponseFromWire give, taken by the scanner or not', () => {
  fc.assert(
    fc.property(reply, ({ tree, spaced }) => {
      const payload = Buffer.from(write(tree, spaced), 'utf8');
      const g = general(payload);
      let read: ReturnType<typeof jsonCodec.readReply> | undefined;
      try {
        read = jsonCodec.readReply(payload);
      } catch (err) {
        // Only a payload that does not decode throws here (the shape is checked after routing).
        assert.ok(err instanceof AgentPoolError);
        assert.throws(() => jsonCodec.parseResponse(payload));
        return;
      }
      const response = read.response ?? (g.ok ? agentResponseFromWire(read.body) : undefined);
      if (!g.ok) {
        assert.equal(read.response, undefined);
        return;
      }
      assert.deepStrictEqual(response, g.response);
      assert.equal(read.correlationId, g.correlationId);
    }),
    { numRuns: 1000 },
  );
});

// Our SDK's replies over plain ASCII: the ones every call of a pool reads.
const ascii = fc.string({ unit: fc.constantFrom('a', 'z', '0', '-', '/', '?', '=', '&', ' ', '.', ':', '~'), maxLength: 24 });
const op: fc.Arbitrary<HeaderOp> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), name: ascii, value: ascii }),
  fc.record({ op: fc.constant('add' as const), name: ascii, value: ascii }),
  fc.record({ op: fc.constant('remove' as const), name: ascii }),
);
const sdkDecision: fc.Arbitrary<Decision> = fc.oneof(
  fc.constant({ type: 'allow' as const }),
  fc.record({
    type: fc.constant('block' as const),
    status: fc.nat({ max: 0xffff }),
    body: fc.option(ascii, { nil: null }),
    headers: fc.option(fc.dictionary(ascii, ascii, { maxKeys: 2, noNullPrototype: true }), { nil: null }),
  }),
);
const sdkReply = fc.record({
  decision: sdkDecision,
  requestHeaders: fc.array(op, { maxLength: 4 }),
  responseHeaders: fc.array(op, { maxLength: 2 }),
  routing: fc.dictionary(ascii, ascii, { maxKeys: 2, noNullPrototype: true }),
  tags: fc.array(ascii, { maxLength: 2 }),
  confidence: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
  needsMore: fc.boolean(),
  cid: ascii,
});

test("our SDK's allow and block replies in plain ASCII are all taken, and read as the general path reads them", () => {
  fc.assert(
    fc.property(sdkReply, (r) => {
      const response: AgentResponse = {
        version: 2,
        decision: r.decision,
        requestHeaders: r.requestHeaders,
        responseHeaders: r.responseHeaders,
        routingMetadata: r.routing,
        audit: { tags: r.tags, ruleIds: [], confidence: r.confidence, reasonCodes: r.tags, custom: {} },
        needsMore: r.needsMore,
        requestBodyMutation: null,
        responseBodyMutation: null,
        websocketDecision: null,
      };
      const json = JSON.stringify(agentResponseToWire(response, r.cid));
      assert.ok(agrees(json), `not taken: ${json}`);
      const read = jsonCodec.readReply(Buffer.from(json));
      assert.equal(read.correlationId, r.cid);
      assert.equal(read.correlationId, extractCorrelationId(JSON.parse(json)));
    }),
    { numRuns: 500 },
  );
});

test('texts the general path reads differently or refuses are left to it', () => {
  const sdk = JSON.stringify(
    agentResponseToWire(
      {
        version: 2,
        decision: { type: 'allow' },
        requestHeaders: [{ op: 'set', name: 'x-a', value: 'b' }],
        responseHeaders: [],
        routingMetadata: {},
        audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: {} },
        needsMore: false,
        requestBodyMutation: null,
        responseBodyMutation: null,
        websocketDecision: null,
      },
      'c1',
    ),
  );
  assert.ok(agrees(sdk));
  const left = [
    ['a key twice (JSON.parse keeps the last)', sdk.replace('"needs_more":false', '"needs_more":false,"needs_more":true')],
    ['an escape', sdk.replace('"x-a"', '"x\\u002da"')],
    ['whitespace', sdk.replace('"version":2', '"version": 2')],
    ['non-ASCII', sdk.replace('"b"', '"é"')],
    ['a raw control character', sdk.replace('"b"', '"\u0001"')],
    ['a raw tab', sdk.replace('"b"', '"\t"')],
    ['a byte-order mark', `\ufeff${sdk}`],
    ['an unknown key', sdk.replace('{"version"', '{"extra":1,"version"')],
    ['a decision other than allow or block', sdk.replace('"allow"', '{"redirect":{"url":"/","status":302}}')],
    ['a block status out of range', sdk.replace('"allow"', '{"block":{"status":65536,"body":null,"headers":null}}')],
    ['a block without status', sdk.replace('"allow"', '{"block":{"body":null,"headers":null}}')],
    ['a block key twice', sdk.replace('"allow"', '{"block":{"status":403,"status":200}}')],
    ['a block not closed', sdk.replace('"allow"', '{"block":{"status":403},')],
    ['a body mutation', sdk.replace('"request_body_mutation":null', '"request_body_mutation":{"data":null,"chunk_index":0}')],
    ['__proto__ in custom', sdk.replace('"custom":{', '"custom":{"__proto__":"x",')],
    ['a fractional version', sdk.replace('"version":2', '"version":2.5')],
    ['text after the object', `${sdk}x`],
    [
      'a header op with two keys',
      sdk.replace('{"set":{"name":"x-a","value":"b"}}', '{"set":{"name":"x-a","value":"b"},"add":{"name":"y","value":"z"}}'),
    ],
    ['no decision', sdk.replace('"decision":"allow",', '')],
    ['an audit key twice', sdk.replace('"confidence":null', '"confidence":0.5,"confidence":null')],
    ["a header op's name twice", sdk.replace('{"name":"x-a"', '{"name":"x-a","name":"x-b"')],
    ['a header op not closed', sdk.replace('{"set":{"name":"x-a","value":"b"}}', '{"set":{"name":"x-a","value":"b"},')],
  ];
  for (const [why, json] of left) {
    assert.notEqual(json, sdk, why);
    const payload = Buffer.from(json as string, 'utf8');
    assert.equal(scanAgentResponse(payload, payload.toString('utf8')), undefined, why);
  }
});

test('bytes outside ASCII are left to the general path even where the text has their length', () => {
  // A lenient decode turns each invalid byte into one U+FFFD: the lengths match, the UTF-8 is still bad.
  const payload = Buffer.concat([
    Buffer.from('{"version":2,"decision":"allow","correlation_id":"'),
    Buffer.from([0x80, 0xff, 0xc0, 0x80]),
    Buffer.from('"}'),
  ]);
  assert.equal(payload.toString('utf8').length, payload.length);
  assert.equal(scanAgentResponse(payload, payload.toString('utf8')), undefined);
  assert.throws(() => jsonCodec.readReply(payload), /invalid JSON payload/);
});

test('audit.custom.correlation_id comes before the top-level one (§6.9.1)', () => {
  const json = '{"version":2,"decision":"allow","audit":{"custom":{"correlation_id":"inner"}},"correlation_id":"outer"}';
  assert.ok(agrees(json));
  const read = jsonCodec.readReply(Buffer.from(json));
  assert.equal(read.correlationId, 'inner');
  assert.equal(read.response?.correlationId, 'outer');
  assert.equal(jsonCodec.readReply(Buffer.from(json.replace('"correlation_id":"inner"', '"other":"inner"'))).correlationId, 'outer');
});

test('more containers than the general path allows are left to it, which refuses them', () => {
  // The object, the array and two per op: 131 071 ops make exactly the 262 144 allowed; one more
  // container, even an empty one, is over.
  const reply = (n: number, more: string) =>
    Buffer.from(`{"version":2,"decision":"allow"${more},"request_headers":[${new Array(n).fill('{"remove":{"name":"x"}}').join(',')}]}`);
  for (const over of [reply(131_072, ''), reply(131_071, ',"routing_metadata":{}'), reply(131_071, ',"response_headers":[]')]) {
    assert.equal(scanAgentResponse(over, over.toString('utf8')), undefined);
    assert.throws(() => jsonCodec.readReply(over), /more than 262144 arrays and objects/);
  }
  const within = reply(131_071, '');
  assert.equal(scanAgentResponse(within, within.toString('utf8'))?.response.requestHeaders.length, 131_071);
});

test('null for every key that has a default is taken, and read as its default', () => {
  const json =
    '{"version":2,"decision":"allow","request_headers":null,"response_headers":null,"routing_metadata":null,' +
    '"audit":{"tags":null,"rule_ids":null,"confidence":null,"reason_codes":null,"custom":null},"needs_more":null,' +
    '"request_body_mutation":null,"response_body_mutation":null,"websocket_decision":null,"correlation_id":null}';
  assert.ok(agrees(json), json);
  const auditNull = json.replace('{"tags":null,"rule_ids":null,"confidence":null,"reason_codes":null,"custom":null}', 'null');
  assert.notEqual(auditNull, json);
  assert.ok(agrees(auditNull), auditNull);
});

test('a string taken from a reply does not keep the reply alive', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // 64 replies of 1 MiB each, padded in routing metadata; only a 40-character header value is kept.
  const pad = 'p'.repeat(1 << 20);
  const kept: string[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 64; i++) {
    const value = `value-${i}-`.padEnd(40, 'v');
    const payload = Buffer.from(
      `{"version":2,"decision":"allow","request_headers":[{"set":{"name":"x-a","value":"${value}"}}],"routing_metadata":{"pad":"${pad}"}}`,
    );
    const scanned = scanAgentResponse(payload, UTF8.decode(payload));
    assert.equal(scanned?.response.requestHeaders[0]?.op === 'set' && scanned.response.requestHeaders[0].value, value);
    kept.push((scanned?.response.requestHeaders[0] as { value: string }).value);
  }
  gc();
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // A slice of each text would keep 64 MiB; copies keep a few KiB.
  assert.ok(grown < 16 << 20, `heap grew ${grown} bytes holding ${kept.length} header values`);
});
