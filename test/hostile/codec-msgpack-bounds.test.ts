// Issue 11 item 1, in-process: the MessagePack pre-scan refuses every header that claims more than
// the payload holds (the memory bomb), nesting past the cap, extensions and trailing bytes, with a
// typed ZAP_PROTOCOL_ERROR, before msgpackr allocates; and JSON nesting is bounded the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec, msgpackCodec } from '../../src/protocol/payload-codec.js';
import { checkMsgpackBounds, MAX_PAYLOAD_CONTAINERS, MAX_PAYLOAD_DEPTH } from '../../src/protocol/msgpack-bounds.js';
import { jsonShape } from '../../src/protocol/json-bounds.js';
import { parseJsonPayload } from '../../src/protocol/wire-reader.js';
import { parseJsonText } from '../../src/protocol/proto-values.js';
import { widenIntegers } from '../../src/protocol/msgpack-codec.js';
import { ErrorCode, isAgentPoolError } from '../../src/protocol/errors.js';
import { ALL_EVENT_KINDS, sampleDomainEvent } from '../support/events.js';
import { msgpackBombs, THE_205_BYTE_BOMB } from '../support/msgpack-bombs.js';

const RSS_BOUND = 16 * 1024 * 1024;

function assertProtocolError(f: () => unknown, pattern?: RegExp): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(isAgentPoolError(err), `expected an AgentPoolError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.ProtocolError);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  });
}

function nested(depth: number, inner: number[] = [0x01]): Buffer {
  return Buffer.from([...Array<number>(depth).fill(0x91), ...inner]);
}

test('msgpack memory bomb: the 205-byte array32 bomb is a protocol error in milliseconds, RSS grows < 16 MiB', () => {
  assert.equal(THE_205_BYTE_BOMB.length, 205);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  for (const kind of ALL_EVENT_KINDS) assertProtocolError(() => msgpackCodec.decodeEvent(kind, THE_205_BYTE_BOMB), /exceeds/);
  assertProtocolError(() => msgpackCodec.parseResponse(THE_205_BYTE_BOMB), /exceeds/);
  assertProtocolError(() => msgpackCodec.decodeValue(THE_205_BYTE_BOMB), /exceeds/);
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().rss - rss0;
  assert.ok(ms < 1000, `took ${ms} ms`); // a hang guard: the real cost is microseconds
  assert.ok(grown < RSS_BOUND, `RSS grew ${grown} bytes`);
});

test('msgpack memory bomb: every variant (map32, str32, bin32, ext32, array16, deep nesting) is refused before allocation', () => {
  const rss0 = process.memoryUsage().rss;
  for (const [name, bomb] of msgpackBombs()) {
    assertProtocolError(() => msgpackCodec.decodeValue(bomb), undefined);
    assertProtocolError(() => msgpackCodec.parseResponse(bomb), undefined);
    assert.ok(process.memoryUsage().rss - rss0 < RSS_BOUND, `${name}: RSS grew past 16 MiB`);
  }
});

test('msgpack memory bomb: counts are checked against the bytes left (array ≥ 1 byte each, map entry ≥ 2)', () => {
  // fixarray of 3 with 3 one-byte elements passes; with 2 it is truncated.
  checkMsgpackBounds(Buffer.from([0x93, 1, 2, 3]));
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0x93, 1, 2])), /exceeds|truncated/);
  // map16 of 2 entries needs 4 bytes of keys and values.
  checkMsgpackBounds(Buffer.from([0xde, 0, 2, 1, 2, 3, 4]));
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0xde, 0, 2, 1, 2, 3])), /exceeds/);
  // str8 claiming 5 bytes with 4 present; bin32 claiming 4 GiB.
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0xd9, 5, 0x61, 0x61, 0x61, 0x61])), /length 5/);
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0])), /length 4294967295/);
  // A header cut short, a missing value, an empty payload.
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0xdd, 0, 0])), /truncated header/);
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0x81, 0xa1, 0x61])), /truncated|exceeds/);
  assertProtocolError(() => checkMsgpackBounds(Buffer.alloc(0)), /empty/);
  // Numbers whose bytes are missing.
  assertProtocolError(() => checkMsgpackBounds(Buffer.from([0xcb, 0, 0, 0])), /exceeds/);
});

test('msgpack memory bomb: trailing bytes after the value are a protocol error', () => {
  assertProtocolError(() => msgpackCodec.decodeValue(Buffer.from([0x80, 0x00])), /trailing/);
});

test(`msgpack nesting: ${MAX_PAYLOAD_DEPTH} levels decode, one more is a protocol error (no RangeError anywhere)`, () => {
  assert.deepEqual(checkMsgpackBounds(nested(MAX_PAYLOAD_DEPTH)), undefined);
  assert.ok(Array.isArray(msgpackCodec.decodeValue(nested(MAX_PAYLOAD_DEPTH))));
  assertProtocolError(() => msgpackCodec.decodeValue(nested(MAX_PAYLOAD_DEPTH + 1)), /nesting deeper than 64/);
  // An empty container at depth 65 counts, as `[]` does in JSON.
  assert.ok(Array.isArray(msgpackCodec.decodeValue(nested(MAX_PAYLOAD_DEPTH - 1, [0x90]))));
  assertProtocolError(() => msgpackCodec.decodeValue(nested(MAX_PAYLOAD_DEPTH, [0x90])), /nesting deeper than 64/);
  // 100 000 levels: msgpackr alone would overflow its stack.
  assertProtocolError(() => msgpackCodec.decodeValue(nested(100_000)), /nesting/);
  // Maps nest too (value position).
  const maps = Buffer.from([
    ...Array<number>(MAX_PAYLOAD_DEPTH + 1)
      .fill(0)
      .flatMap(() => [0x81, 0x01]),
    0x01,
  ]);
  assertProtocolError(() => msgpackCodec.decodeValue(maps), /nesting/);
});

test('msgpack extensions: only the standard timestamp is accepted; msgpackr private extensions are refused', () => {
  // fixext1 type 0x72 would define a record, 0x73 a Set, 0x65 an Error, 0x78 a RegExp, 0x69/0x70 clone references.
  for (const type of [0x72, 0x73, 0x65, 0x78, 0x69, 0x70, 0x42, 0x74, 0x62, 0x00]) {
    assertProtocolError(() => msgpackCodec.decodeValue(Buffer.from([0xd4, type, 0x90])), /not accepted/);
    assertProtocolError(() => msgpackCodec.decodeValue(Buffer.from([0xc7, 1, type, 0x90])), /not accepted/);
  }
  assertProtocolError(() => msgpackCodec.decodeValue(Buffer.from([0xc1])), /not accepted/);
  const date = new Date(1_767_225_600_000);
  assert.deepEqual(msgpackCodec.decodeValue(msgpackCodec.encodeValue({ at: date })), { at: date });
});

test('msgpack nesting: widenIntegers on a caller value nested past the cap throws a typed error, not a RangeError', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assertProtocolError(() => widenIntegers(deep), /nested deeper/);
  assertProtocolError(() => msgpackCodec.encodeValue({ config: deep }), /nested deeper/);
});

test('msgpack pre-scan: every sample event and reply still decodes unchanged', () => {
  for (const kind of ALL_EVENT_KINDS) {
    const event = sampleDomainEvent(kind, 'c-1');
    const payload = msgpackCodec.encodeEvent(kind, event, 'c-1');
    checkMsgpackBounds(payload);
    assert.deepEqual(msgpackCodec.decodeEvent(kind, payload).event, event);
  }
});

test('JSON nesting: deeper than the cap is a typed protocol error on every JSON reader', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  const okText = deep(MAX_PAYLOAD_DEPTH);
  const bad = Buffer.from(deep(MAX_PAYLOAD_DEPTH + 1));
  assert.deepEqual(jsonCodec.decodeValue(Buffer.from(okText)) !== undefined, true);
  assertProtocolError(() => jsonCodec.decodeValue(bad), /nesting deeper than 64/);
  assertProtocolError(() => jsonCodec.decodeEvent('configure', Buffer.from(`{"config":${deep(200_000)}}`)), /nesting/);
  assertProtocolError(() => jsonCodec.parseResponse(bad), /nesting/);
  assertProtocolError(() => parseJsonPayload(bad, 'HandshakeRequest'), /HandshakeRequest: invalid JSON \(nesting/);
  assertProtocolError(() => parseJsonText(bad.toString(), 'config_json', {}), /config_json: invalid JSON \(nesting/);
});

test('JSON nesting: brackets inside strings (escaped quotes too) do not count', () => {
  assert.equal(jsonShape(`{"a":"${'['.repeat(200)}","b":[1]}`).depth, 2);
  assert.equal(jsonShape(`{"a":"\\"${'['.repeat(200)}"}`).depth, 1);
  assert.equal(jsonShape(`["\\\\",${'['.repeat(70)}${']'.repeat(70)}]`).depth, 65);
  const text = `{"k":${'{"k":'.repeat(99)}1${'}'.repeat(100)}`;
  assert.equal(jsonShape(text).depth, MAX_PAYLOAD_DEPTH + 1);
});

test(
  `container explosion: more than ${MAX_PAYLOAD_CONTAINERS} arrays/maps in one payload is a ` +
    `protocol error (16 MiB of empty maps decoded to 1 GiB)`,
  () => {
    const emptyMaps = (n: number): Buffer => {
      const b = Buffer.alloc(5 + n, 0x80);
      b[0] = 0xdd;
      b.writeUInt32BE(n, 1);
      return b;
    };
    // The outer array counts as one container.
    assert.equal(msgpackCodec.decodeValue(emptyMaps(MAX_PAYLOAD_CONTAINERS - 1)) instanceof Array, true);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    assertProtocolError(() => msgpackCodec.decodeValue(emptyMaps(MAX_PAYLOAD_CONTAINERS)), /more than 262144 arrays and maps/);
    assertProtocolError(() => msgpackCodec.decodeValue(emptyMaps(16 * 1024 * 1024 - 16)), /more than 262144 arrays and maps/);
    const ms = performance.now() - t0;
    assert.ok(ms < 2_000, `took ${ms} ms`); // hang guard: decoding them took ~5 s and 1 GiB
    assert.ok(process.memoryUsage().rss - rss0 < 64 * 1024 * 1024, 'only the 16 MiB input itself was allocated');

    const objects = (n: number): Buffer => Buffer.from(`[${'{},'.repeat(n - 1)}{}]`);
    assert.equal((jsonCodec.decodeValue(objects(MAX_PAYLOAD_CONTAINERS - 1)) as unknown[]).length, MAX_PAYLOAD_CONTAINERS - 1);
    assertProtocolError(() => jsonCodec.decodeValue(objects(MAX_PAYLOAD_CONTAINERS)), /more than 262144 arrays and objects/);
    assertProtocolError(
      () => parseJsonPayload(objects(MAX_PAYLOAD_CONTAINERS), 'RegistrationRequest'),
      /RegistrationRequest: invalid JSON \(more than/,
    );
    // Brackets inside strings are not containers.
    assert.equal(jsonShape(JSON.stringify({ s: '{'.repeat(MAX_PAYLOAD_CONTAINERS + 10) })).containers, 1);
  },
);
