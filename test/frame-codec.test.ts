// Frame codec behaviour beyond the golden vectors (spec §2.2, §2.3, §3): zero-copy delivery,
// early header checks across split reads, failure persistence, handler errors, message types and
// direction enforcement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, encodeFrameHeader } from '../src/protocol/frame-encoder.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import {
  assertReceivable,
  EVENT_MESSAGE_TYPE,
  eventKindOfMessageType,
  isKnownMessageType,
  MessageType,
  messageTypeName,
} from '../src/protocol/message-type.js';
import { AgentPoolError } from '../src/protocol/errors.js';

function isProtocolError(message?: string) {
  return (err: unknown): boolean =>
    err instanceof AgentPoolError && err.code === 'ZAP_PROTOCOL_ERROR' && (message === undefined || err.message === message);
}

test('a frame wholly inside one chunk is delivered as a view into that chunk (no copy)', () => {
  const chunk = Buffer.concat([encodeFrame(0x41, Buffer.from('abc')), encodeFrame(0x42, Buffer.from('xyz'))]);
  const seen: Buffer[] = [];
  const decoder = new FrameDecoder((_t, payload) => seen.push(payload));
  decoder.push(chunk);
  assert.equal(seen.length, 2);
  assert.equal(seen[0]?.buffer, chunk.buffer);
  assert.equal(seen[0]?.byteOffset, chunk.byteOffset + 5);
  assert.equal(seen[1]?.byteOffset, chunk.byteOffset + 13);
  assert.equal(seen[1]?.toString(), 'xyz');
});

test('an oversize length split over several reads fails when its 4th byte arrives', () => {
  const decoder = new FrameDecoder(() => assert.fail('no frame expected'));
  decoder.push(Buffer.from([0x01]));
  decoder.push(Buffer.from([0x00, 0x00]));
  assert.equal(decoder.failed, false);
  assert.throws(() => decoder.push(Buffer.from([0x01])), isProtocolError('Message too large: 16777217 bytes (max: 16777216)'));
});

test('a zero length split over reads, and an unknown type arriving alone, fail at once', () => {
  const a = new FrameDecoder(() => undefined);
  a.push(Buffer.from([0, 0, 0]));
  assert.throws(() => a.push(Buffer.from([0])), isProtocolError('Invalid message format: Zero-length message'));

  const b = new FrameDecoder(() => undefined);
  b.push(Buffer.from([0, 0, 1, 0])); // N = 256, fine
  assert.throws(() => b.push(Buffer.from([0x03])), isProtocolError('Invalid message format: Unknown message type: 0x03'));
});

test('after a framing error every later push() and end() rethrows the same error', () => {
  const decoder = new FrameDecoder(() => undefined);
  let first: unknown;
  try {
    decoder.push(Buffer.from([0, 0, 0, 0]));
  } catch (err) {
    first = err;
  }
  assert.ok(first instanceof AgentPoolError);
  assert.throws(
    () => decoder.push(encodeFrame(0x41, Buffer.from('{}'))),
    (err: unknown) => err === first,
  );
  assert.throws(
    () => decoder.end(),
    (err: unknown) => err === first,
  );
  assert.equal(decoder.bufferedBytes, 0);
});

test('frames before a bad one in the same read are still delivered, in order', () => {
  const types: number[] = [];
  const decoder = new FrameDecoder((t) => types.push(t));
  const stream = Buffer.concat([
    encodeFrame(0x20, Buffer.from('{}')),
    encodeFrame(0x30, Buffer.from('{}')),
    Buffer.from([0, 0, 0, 1, 0xf1]),
  ]);
  assert.throws(() => decoder.push(stream), isProtocolError('Invalid message format: Unknown message type: 0xf1'));
  assert.deepEqual(types, [0x20, 0x30]);
});

test('bufferedBytes counts the bytes of the incomplete frame only', () => {
  const decoder = new FrameDecoder(() => undefined);
  const frame = encodeFrame(0x20, Buffer.alloc(100, 1));
  decoder.push(Buffer.concat([encodeFrame(0x42, Buffer.from('x')), frame.subarray(0, 30)]));
  assert.equal(decoder.bufferedBytes, 30);
  decoder.push(frame.subarray(30, 60));
  assert.equal(decoder.bufferedBytes, 60);
  decoder.push(frame.subarray(60));
  assert.equal(decoder.bufferedBytes, 0);
  decoder.push(Buffer.alloc(0));
  assert.equal(decoder.bufferedBytes, 0);
});

test('an exception from onFrame propagates, does not fail the decoder, and later frames still come', () => {
  const got: string[] = [];
  let throwOnce = true;
  const decoder = new FrameDecoder((_t, payload) => {
    const text = payload.toString();
    if (throwOnce && text === 'b') {
      throwOnce = false;
      throw new Error('handler broke');
    }
    got.push(text);
  });
  const stream = Buffer.concat(['a', 'b', 'c', 'd'].map((s) => encodeFrame(0x41, Buffer.from(s))));
  assert.throws(() => decoder.push(stream), /handler broke/);
  assert.equal(decoder.failed, false);
  assert.deepEqual(got, ['a']);
  decoder.end(); // delivers the frames that were already buffered
  assert.deepEqual(got, ['a', 'c', 'd']);
});

test('encodeFrame accepts any Uint8Array and encodeFrameHeader matches its first 5 bytes', () => {
  const payload = new Uint8Array([1, 2, 3, 250]);
  const frame = encodeFrame(MessageType.RequestBodyChunk, payload);
  assert.deepEqual(frame, Buffer.from([0, 0, 0, 5, 0x11, 1, 2, 3, 250]));
  assert.deepEqual(encodeFrameHeader(MessageType.RequestBodyChunk, payload.length), frame.subarray(0, 5));
});

test('encodeFrame refuses an unknown message type (ZAP_INVALID_ARGUMENT) and an oversize payload (ZAP_FRAME_TOO_LARGE)', () => {
  assert.throws(
    () => encodeFrame(0xf0, Buffer.alloc(1)),
    (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_INVALID_ARGUMENT',
  );
  assert.throws(
    () => encodeFrameHeader(MessageType.ResponseBodyChunk, 16_777_216),
    (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_FRAME_TOO_LARGE',
  );
});

// ---------------------------------------------------------------------------------------------
// Message types (§3)

const ALL_CODES = [0x01, 0x02, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x20, 0x30, 0x31, 0x32, 0x33, 0x40, 0x41, 0x42];

test('exactly the 18 codes of §3 are known', () => {
  const known = [];
  for (let code = 0; code < 256; code++) if (isKnownMessageType(code)) known.push(code);
  assert.deepEqual(known, ALL_CODES);
  assert.equal(isKnownMessageType(-1), false);
  assert.equal(isKnownMessageType(0x41 + 0.5), false);
  assert.equal(isKnownMessageType(0x141), false);
});

test('messageTypeName names known codes and renders unknown ones as Unknown(0xNN)', () => {
  assert.equal(messageTypeName(0x10), 'RequestHeaders');
  assert.equal(messageTypeName(0x01), 'HandshakeRequest');
  assert.equal(messageTypeName(0x33), 'FlowControl');
  assert.equal(messageTypeName(0x99), 'Unknown(0x99)');
  assert.equal(messageTypeName(0xf0), 'Unknown(0xf0)');
  assert.equal(messageTypeName(0x03), 'Unknown(0x03)');
});

test('event kinds map to 0x10–0x17 and back', () => {
  assert.deepEqual(EVENT_MESSAGE_TYPE, {
    request_headers: 0x10,
    request_body_chunk: 0x11,
    response_headers: 0x12,
    response_body_chunk: 0x13,
    request_complete: 0x14,
    websocket_frame: 0x15,
    guardrail_inspect: 0x16,
    configure: 0x17,
  });
  for (const [kind, code] of Object.entries(EVENT_MESSAGE_TYPE)) assert.equal(eventKindOfMessageType(code), kind);
  assert.equal(eventKindOfMessageType(0x20), undefined);
  assert.equal(eventKindOfMessageType(0x18), undefined);
});

// The allowed sets written out from §3 / §9.5 independently of the implementation's tables.
const FROM_AGENT_ESTABLISHED = [0x20, 0x30, 0x31, 0x32, 0x33, 0x42];
const FROM_PROXY_ESTABLISHED = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x40, 0x41];

test('assertReceivable: for every code, each receiver/phase/direction accepts exactly the §3 set', () => {
  const cases: Array<[receiver: 'proxy' | 'agent', phase: 'handshake' | 'established', reverse: boolean, allowed: number[]]> = [
    ['proxy', 'handshake', false, [0x02]],
    ['proxy', 'handshake', true, [0x01]],
    ['proxy', 'established', false, FROM_AGENT_ESTABLISHED],
    ['proxy', 'established', true, FROM_AGENT_ESTABLISHED],
    ['agent', 'handshake', false, [0x01]],
    ['agent', 'handshake', true, [0x02]],
    ['agent', 'established', false, FROM_PROXY_ESTABLISHED],
    ['agent', 'established', true, FROM_PROXY_ESTABLISHED],
  ];
  for (const [receiver, phase, reverse, allowed] of cases) {
    for (let code = 0; code < 256; code++) {
      if (allowed.includes(code)) {
        assert.doesNotThrow(
          () => assertReceivable(code, receiver, phase, reverse),
          `${receiver} ${phase} ${reverse} 0x${code.toString(16)}`,
        );
      } else {
        assert.throws(
          () => assertReceivable(code, receiver, phase, reverse),
          isProtocolError(),
          `${receiver} ${phase} ${reverse} 0x${code.toString(16)}`,
        );
      }
    }
  }
});

test('assertReceivable: error texts', () => {
  assert.throws(
    () => assertReceivable(0x99, 'proxy', 'established'),
    isProtocolError('Invalid message format: Unknown message type: 0x99'),
  );
  assert.throws(
    () => assertReceivable(0x20, 'proxy', 'handshake'),
    isProtocolError('Invalid message format: Expected HandshakeResponse as first frame, got AgentResponse (0x20)'),
  );
  assert.throws(
    () => assertReceivable(0x10, 'proxy', 'handshake', true),
    isProtocolError('Invalid message format: Expected registration request (HandshakeRequest), got RequestHeaders'),
  );
  assert.throws(
    () => assertReceivable(0x10, 'proxy', 'established'),
    isProtocolError('Invalid message format: Unexpected message type RequestHeaders (0x10) from agent on an established connection'),
  );
  assert.throws(
    () => assertReceivable(0x02, 'agent', 'established', true),
    isProtocolError('Invalid message format: Unexpected message type HandshakeResponse (0x02) from proxy on an established connection'),
  );
  assert.throws(
    () => assertReceivable(0x41, 'agent', 'handshake'),
    isProtocolError('Invalid message format: Expected HandshakeRequest as first frame, got Ping (0x41)'),
  );
});
