// Packed JSON (src/transport/packed-json.ts): what the router packs for a host on another thread,
// the host writes out as exactly the bytes JSON.stringify writes; whatever the form cannot carry
// exactly is refused, so the router stringifies it instead; and an event with awkward strings
// reaches a real agent through a worker host unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { AgentServer } from '../src/agent/agent-server.js';
import { allow } from '../src/agent/reply.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { eventToWire } from '../src/protocol/events.js';
import type { RequestHeadersEvent, ResponseHeadersEvent } from '../src/protocol/types.js';
import { packedJsonFrame } from '../src/transport/packed-json-frame.js';
import { packOrStringify } from '../src/transport/event-encoder.js';
import { PackedJsonWriter } from '../src/transport/packed-json.js';
import { ALL_EVENT_KINDS, requestHeaders, sampleDomainEvent } from './support/events.js';
import { socketPath } from './support/tmp.js';

const TYPE = 0x10;

/** The JSON text the host writes for what `writer` packed last, its frame header checked. */
function packedText(writer: PackedJsonWriter): string {
  const frame = packedJsonFrame(writer.bytes.subarray(0, writer.length), TYPE);
  assert.equal(frame.readUInt32BE(0), frame.length - 4, 'length prefix');
  assert.equal(frame[4], TYPE, 'frame type');
  return frame.subarray(5).toString('utf8');
}

/** The JSON text the host writes for `value`, or undefined when the router must stringify it. */
function viaPacking(value: object): string | undefined {
  const writer = new PackedJsonWriter();
  return writer.pack(value) ? packedText(writer) : undefined;
}

/** ASCII strings, control characters, quotes and backslashes included. */
const asciiString = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) });
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e21, 5e-324, 2 ** 53));
const leaf = fc.oneof(
  asciiString,
  number,
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(undefined, () => 1, Symbol('s')),
);
const plainData = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(asciiString, tie('value'), { maxKeys: 5 }),
})).object;

describe('packed JSON', () => {
  test('plain ASCII data packs, and the host writes what JSON.stringify writes', () => {
    fc.assert(
      fc.property(plainData, (value) => {
        assert.equal(viaPacking(value), JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  test('any string: packed only when the text is ASCII, and then byte for byte JSON.stringify', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), { maxKeys: 4 }), (value) => {
        const text = JSON.stringify(value);
        const ascii = [...Object.keys(value), ...Object.values(value)].every((s) => [...s].every((c) => c.charCodeAt(0) <= 0x7f));
        const packed = viaPacking(value);
        if (ascii) assert.equal(packed, text);
        else assert.equal(packed, undefined, 'non-ASCII or lone surrogates: stringified on the router');
      }),
      { numRuns: 300 },
    );
  });

  test('a RequestHeaders event packs as requestHeadersToWire maps it: the same bytes as JSON.stringify of the wire object', () => {
    const field = fc.oneof(asciiString, number, fc.constant(null), fc.constant(undefined), fc.boolean());
    const metadata = fc.record({
      correlationId: field,
      requestId: field,
      clientIp: field,
      clientPort: field,
      serverName: field,
      protocol: field,
      tlsVersion: field,
      tlsCipher: field,
      routeId: field,
      upstreamId: field,
      timestamp: field,
      traceparent: field,
    });
    const headers = fc.oneof(fc.dictionary(asciiString, fc.array(asciiString, { maxLength: 3 }), { maxKeys: 6 }), plainData);
    const event = fc.record({ metadata, method: field, uri: field, headers });
    fc.assert(
      fc.property(event, asciiString, (e, cid) => {
        const domain = e as unknown as RequestHeadersEvent;
        const writer = new PackedJsonWriter();
        assert.equal(writer.packEvent('request_headers', domain, cid), true);
        assert.equal(packedText(writer), JSON.stringify(eventToWire('request_headers', domain, cid, false)));
      }),
      { numRuns: 500 },
    );
    const writer = new PackedJsonWriter();
    const sample = requestHeaders('c-1');
    assert.equal(writer.packEvent('request_headers', { ...sample, uri: '/café' }, 'c-1'), false, 'non-ASCII: stringified instead');
    assert.equal(writer.packEvent('request_headers', { ...sample, metadata: null } as unknown as RequestHeadersEvent, 'c-1'), false);
  });

  test('a ResponseHeaders event packs as responseHeadersToWire maps it, and any other event through eventToWire', () => {
    const field = fc.oneof(asciiString, number, fc.constant(null), fc.constant(undefined), fc.boolean());
    const headers = fc.oneof(fc.dictionary(asciiString, fc.array(asciiString, { maxLength: 3 }), { maxKeys: 6 }), plainData);
    fc.assert(
      fc.property(fc.record({ correlationId: field, status: field, headers }), asciiString, (e, cid) => {
        const domain = e as unknown as ResponseHeadersEvent;
        const writer = new PackedJsonWriter();
        assert.equal(writer.packEvent('response_headers', domain, cid), true);
        assert.equal(packedText(writer), JSON.stringify(eventToWire('response_headers', domain, cid, false)));
      }),
      { numRuns: 300 },
    );
    const writer = new PackedJsonWriter();
    for (const kind of ALL_EVENT_KINDS) {
      const event = sampleDomainEvent(kind, 'c-1');
      assert.equal(packOrStringify(writer, kind, event, 'c-1'), true, `${kind}: packed`);
      assert.equal(packedText(writer), JSON.stringify(eventToWire(kind, event, 'c-1', false)), kind);
    }
    // A 64 KiB body chunk is past the packed form's 32 KiB of text: its JSON text, as the router stringifies it.
    const chunk = { ...sampleDomainEvent('request_body_chunk', 'c-2'), data: Buffer.alloc(64 * 1024, 7) };
    assert.equal(
      packOrStringify(writer, 'request_body_chunk', chunk, 'c-2'),
      JSON.stringify(eventToWire('request_body_chunk', chunk, 'c-2', false)),
    );
  });

  test('members without a JSON value are left out of objects and written null in arrays, as JSON.stringify does', () => {
    const value = { a: undefined, b: () => 1, c: Symbol('x'), d: [undefined, () => 1, Symbol('y'), 1], [Symbol('key')]: 1, e: 'kept' };
    assert.equal(viaPacking(value), '{"d":[null,null,null,1],"e":"kept"}');
    assert.equal(viaPacking(value), JSON.stringify(value));
  });

  test('an own __proto__ key and integer-like keys keep JSON.stringify order and names', () => {
    const value = JSON.parse('{"b":1,"__proto__":{"x":2},"10":3,"2":4}') as object;
    assert.equal(viaPacking(value), JSON.stringify(value));
    const bare = Object.assign(Object.create(null) as object, { z: 'null prototype' });
    assert.equal(viaPacking(bare), '{"z":"null prototype"}');
  });

  test('getters that change the value as it is read: packed exactly as JSON.stringify writes it, member by member', () => {
    // JSON.stringify takes an object's key list once, then reads and writes each member in turn: a
    // getter sees, and may change, only what comes after it. Each case builds a fresh value per side.
    const withGetter = (effect: (o: Record<string, unknown>) => void): Record<string, unknown> => {
      const o: Record<string, unknown> = { a: { x: 1 } };
      Object.defineProperty(o, 'b', {
        enumerable: true,
        get() {
          effect(o);
          return 'got';
        },
      });
      o.c = 'third';
      o.d = { y: 'fourth' };
      return o;
    };
    const nested = (effect: (o: Record<string, unknown>) => void): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      o.a = Object.defineProperty({}, 'inner', {
        enumerable: true,
        get() {
          effect(o);
          return 1;
        },
      });
      o.b = 'orig';
      return o;
    };
    const cases: Array<[string, () => object]> = [
      ['a getter deletes a later key', () => withGetter((o) => delete o.c)],
      ['a getter hides a later key', () => withGetter((o) => Object.defineProperty(o, 'c', { enumerable: false }))],
      ['a getter changes a later value', () => withGetter((o) => ((o.d as { y: string }).y = 'changed'))],
      ['a getter changes an earlier, written value', () => withGetter((o) => ((o.a as { x: number }).x = 2))],
      ['a getter adds a key', () => withGetter((o) => (o.e = 'added'))],
      ['a nested getter changes a later member of its parent', () => nested((o) => (o.b = 'changed'))],
      ['a nested getter deletes a later member of its parent', () => nested((o) => delete o.b)],
      [
        'a Proxy whose key order changes from call to call',
        () => {
          let calls = 0;
          return new Proxy({ a: 'A', b: 'B' } as Record<string, string>, {
            ownKeys: (target) => (calls++ % 2 === 0 ? Reflect.ownKeys(target) : Reflect.ownKeys(target).reverse()),
          });
        },
      ],
    ];
    for (const [what, make] of cases) {
      const packed = viaPacking({ outer: make() });
      assert.equal(packed ?? 'refused', JSON.stringify({ outer: make() }), what);
    }
  });

  const refused: Array<[string, () => object]> = [
    ['a non-ASCII string', () => ({ v: 'café' })],
    ['a lone surrogate', () => ({ v: 'a\ud800' })],
    ['a non-ASCII key', () => ({ ключ: 'v' })],
    ['a BigInt', () => ({ v: 1n })],
    ['a Date (toJSON)', () => ({ v: new Date(0) })],
    ['an object with its own toJSON', () => ({ v: { toJSON: () => 'x' } })],
    ['a Map', () => ({ v: new Map([[1, 2]]) })],
    ['a typed array', () => ({ v: new Uint8Array(2) })],
    [
      'a class instance',
      () => ({
        v: new (class Point {
          x = 1;
        })(),
      }),
    ],
    ['a boxed string', () => ({ v: Object('s') as object })],
    [
      'a cycle',
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      },
    ],
    [
      'nesting past 64 levels',
      () => {
        let o: object = {};
        for (let i = 0; i < 70; i++) o = { o };
        return o;
      },
    ],
  ];
  for (const [what, make] of refused) {
    test(`refused, so stringified on the router: ${what}`, () => {
      const writer = new PackedJsonWriter();
      assert.equal(writer.pack(make()), false);
      assert.equal(writer.length, 0, 'nothing left to copy');
      // The same writer is whole afterwards: the next value packs.
      assert.equal(writer.pack({ next: 'ok' }), true);
      assert.equal(packedText(writer), '{"next":"ok"}');
    });
  }

  test("a header's value array is asked for toJSON once, as JSON.stringify asks: one that has it is refused", () => {
    let reads = 0;
    const values = new Proxy(['x'], {
      get(target, key, receiver) {
        if (key !== 'toJSON') return Reflect.get(target, key, receiver) as unknown;
        reads++;
        // A function the first time only: a second read would see none and pack the raw array.
        return reads === 1 ? () => ['y'] : undefined;
      },
    });
    const event = { ...requestHeaders('c-1'), headers: { a: values } } as unknown as RequestHeadersEvent;
    assert.equal(new PackedJsonWriter().packEvent('request_headers', event, 'c-1'), false, 'refused: the router stringifies it');
    assert.equal(reads, 1);
  });

  test('wherever the buffer ends, inside a member of any kind, packing grows it: no RangeError, no byte dropped', () => {
    // Packed from every start offset up to 4 200 bytes into a shared buffer, so that the buffer's end
    // falls at every byte of the members below (found in review: a container's reservation for its
    // members fell short once a member was itself an array, and a tag written past the end vanished).
    const headers: Record<string, string[]> = {};
    for (let i = 0; i < 283; i++) headers[`h${i}`] = ['v'];
    for (let i = 0; i < 9; i++) headers[`e${i}`] = [];
    headers['last'] = ['last'];
    const event = { metadata: {}, method: 'GET', uri: '/', headers } as unknown as RequestHeadersEvent;
    const eventJson = JSON.stringify(eventToWire('request_headers', event, 'c-1', false));
    const value: Record<string, unknown> = {};
    for (let i = 0; i < 13; i++) value[`e${i}`] = [];
    for (let i = 0; i < 283; i++) value[`h${i}`] = i % 3 === 0 ? ['v'] : i % 3 === 1 ? [null, true] : [false, 1.5, undefined];
    value['z'] = 5;
    const valueJson = JSON.stringify(value);
    for (let offset = 0; offset < 4_200; offset++) {
      for (const [pack, json] of [
        [(w: PackedJsonWriter) => w.packEvent('request_headers', event, 'c-1'), eventJson],
        [(w: PackedJsonWriter) => w.pack(value), valueJson],
      ] as const) {
        const owner = new PackedJsonWriter();
        owner.length = offset;
        const writer = new PackedJsonWriter();
        writer.appendTo(owner, 0);
        assert.equal(pack(writer), true, `offset ${offset}`);
        const frame = packedJsonFrame(writer.bytes.subarray(writer.start, writer.length), TYPE);
        assert.equal(frame.subarray(5).toString('utf8'), json, `offset ${offset}`);
      }
    }
  });

  test('more than 32 KiB of text (a body chunk) is refused, one string or many: the router stringifies it natively', () => {
    const writer = new PackedJsonWriter();
    assert.equal(writer.pack({ v: 'a'.repeat(32 * 1024 - 1) }), true, 'the key and the value: 32 KiB');
    assert.equal(writer.pack({ v: 'a'.repeat(32 * 1024) }), false);
    assert.equal(writer.pack({ v: 'a'.repeat(16 * 1024), w: 'b'.repeat(16 * 1024) }), false, 'keys count too');
    assert.equal(writer.pack({ v: 'a'.repeat(1024 * 1024) }), false);
  });

  test('a struct whose JSON could pass the frame limit is refused, and the grown scratch is let go', () => {
    const writer = new PackedJsonWriter();
    // 700 000 numbers of up to 26 JSON bytes each could pass 16 MiB: the exact check stays with JSON.stringify.
    assert.equal(writer.pack({ v: new Array<number>(700_000).fill(1) }), false);
    assert.equal(writer.bytes.byteLength <= 1 << 20, true, 'the scratch grown by the walk is let go');
    assert.equal(writer.pack({ v: new Array<number>(50_000).fill(1) }), true);
    assert.equal(viaPacking({ v: new Array<number>(50_000).fill(1) }), JSON.stringify({ v: new Array<number>(50_000).fill(1) }));
  });

  test('bytes that are not a packed value throw ZAP_ERROR instead of writing garbage', () => {
    const writer = new PackedJsonWriter();
    assert.equal(writer.pack({ key: 'value', list: [1, 2, 3] }), true);
    const good = Buffer.from(writer.bytes.subarray(0, writer.length));
    const damaged: Array<[string, Buffer]> = [
      ['cut inside the struct', good.subarray(0, 10)],
      ['cut inside the text', good.subarray(0, good.length - 2)],
      ['trailing bytes', Buffer.concat([good, Buffer.from('x')])],
      ['unknown tag', Buffer.from(good).fill(0xee, 4, 5)],
      ['shorter than the header', Buffer.from([1, 0])],
      ['struct length past the end', Buffer.from([0xff, 0xff, 0, 0, 1])],
      ['more text than the router packs', Buffer.concat([Buffer.from([5, 0, 0, 0, 3, 0x40, 0x9c, 0, 0]), Buffer.alloc(40_000, 0x61)])],
    ];
    for (const [what, bytes] of damaged) {
      assert.throws(
        () => packedJsonFrame(bytes, TYPE),
        (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_ERROR' && /corrupt packed JSON/.test(err.message),
        what,
      );
    }
  });
});

describe('packed JSON through a worker host to a real agent', () => {
  let server: AgentServer;
  let endpoint: string;
  const received = new Map<string, RequestHeadersEvent>();
  before(async () => {
    server = new AgentServer({
      agentId: 'packed',
      handler: {
        onRequestHeaders: (e) => {
          received.set(e.metadata.correlationId, e);
          return allow();
        },
      },
    });
    const path = socketPath('packed');
    await server.listen(path);
    endpoint = `unix:${path}`;
  });
  after(() => server.close());

  test('awkward strings (quotes, backslashes, control characters, non-ASCII, lone surrogates) arrive as sent, workers 1, 0', async () => {
    const values = [
      'plain',
      'quote " and \\ backslash',
      'tab\tnew\nline\u0001\u001f\u007f',
      'naïve café 日本語 🎉',
      'lone \ud800 surrogate',
    ];
    for (const workers of [1, 0]) {
      const pool = new AgentPool({ workers, connectionsPerAgent: 1 });
      try {
        await pool.addAgent('packed', endpoint);
        for (const [i, value] of values.entries()) {
          const cid = `w${workers}-${i}`;
          const event = requestHeaders(cid, `/p?q=${value}`, { 'x-value': [value, 'second'] });
          const response = await pool.sendRequestHeaders('packed', cid, event);
          pool.endRequest(cid);
          assert.equal(response.decision.type, 'allow');
          // A lone surrogate cannot cross UTF-8 unchanged: JSON.stringify escapes it and the agent's
          // JSON.parse restores it, so the event arrives whole either way.
          assert.deepEqual(received.get(cid), event, `${cid}: ${JSON.stringify(value)}`);
        }
      } finally {
        await pool.close();
      }
    }
  });
});
