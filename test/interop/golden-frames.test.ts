// Golden vectors of the UDS binary framing (spec §2, §15 GV-01 frame part, GV-24, GV-25).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, MAX_FRAME_LENGTH, MAX_PAYLOAD_LENGTH } from '../../src/protocol/frame-encoder.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { MessageType } from '../../src/protocol/message-type.js';
import { AgentPoolError } from '../../src/protocol/errors.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

type Frame = { type: number; payload: Buffer };

function collector(): { decoder: FrameDecoder; frames: Frame[] } {
  const frames: Frame[] = [];
  // Copy: the decoder may hand out views into the pushed chunk.
  const decoder = new FrameDecoder((type, payload) => frames.push({ type, payload: Buffer.from(payload) }));
  return { decoder, frames };
}

function protocolErrorWith(message: string | RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AgentPoolError, `expected AgentPoolError, got ${String(err)}`);
    assert.equal(err.code, 'ZAP_PROTOCOL_ERROR');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

const PING_PAYLOAD = Buffer.from('{"sequence":1,"timestamp_ms":1767225600000}', 'utf8');
const GV01_PING = hex(`
  00 00 00 2c 41 7b 22 73 65 71 75 65 6e 63 65 22
  3a 31 2c 22 74 69 6d 65 73 74 61 6d 70 5f 6d 73
  22 3a 31 37 36 37 32 32 35 36 30 30 30 30 30 7d`);

test('GV-01: the UDS Ping frame is the 48 bytes of §2.4', () => {
  assert.equal(PING_PAYLOAD.length, 43);
  const frame = encodeFrame(MessageType.Ping, PING_PAYLOAD);
  assert.equal(frame.length, 48);
  assert.deepEqual(frame, GV01_PING);
});

test('GV-01: the Pong answer is the same 48 bytes with byte 4 = 0x42', () => {
  const expected = Buffer.from(GV01_PING);
  expected[4] = 0x42;
  assert.deepEqual(encodeFrame(MessageType.Pong, PING_PAYLOAD), expected);
});

test('GV-01: decoding the Ping frame gives type 0x41 and the 43-byte payload', () => {
  const { decoder, frames } = collector();
  decoder.push(GV01_PING);
  decoder.end();
  assert.deepEqual(frames, [{ type: 0x41, payload: PING_PAYLOAD }]);
});

test('GV-02 frame part: the minimal AgentResponse frame starts 00 00 00 4e 20 7b 22 76 65 72', () => {
  const payload = Buffer.from('{"version":2,"decision":"allow","audit":{"custom":{"correlation_id":"c-42"}}}', 'utf8');
  assert.equal(payload.length, 77);
  const frame = encodeFrame(MessageType.AgentResponse, payload);
  assert.deepEqual(frame.subarray(0, 10), hex('00 00 00 4e 20 7b 22 76 65 72'));
  assert.equal(frame.length, 4 + 78);
});

test('GV-24: N = 0 → "Zero-length message"', () => {
  const { decoder } = collector();
  assert.throws(() => decoder.push(hex('00 00 00 00')), protocolErrorWith('Invalid message format: Zero-length message'));
  assert.equal(decoder.failed, true);
});

test('GV-24: N = 16 777 217 → "Message too large…", as soon as the 4 length bytes are in', () => {
  const { decoder } = collector();
  assert.throws(() => decoder.push(hex('01 00 00 01')), protocolErrorWith('Message too large: 16777217 bytes (max: 16777216)'));
  assert.equal(decoder.failed, true);
  assert.equal(decoder.bufferedBytes, 0);
});

test('GV-24: N = 16 777 216 (the maximum) is not rejected by the length check', () => {
  const { decoder, frames } = collector();
  decoder.push(hex('01 00 00 00 41'));
  assert.equal(decoder.failed, false);
  assert.equal(decoder.bufferedBytes, 5);
  assert.equal(frames.length, 0);
});

test('GV-24: N = 1 (empty payload) is accepted', () => {
  const { decoder, frames } = collector();
  decoder.push(hex('00 00 00 01 41'));
  decoder.end();
  assert.deepEqual(frames, [{ type: 0x41, payload: Buffer.alloc(0) }]);
  assert.deepEqual(encodeFrame(MessageType.Ping, Buffer.alloc(0)), hex('00 00 00 01 41'));
});

test('GV-24: type 0x99 → "Unknown message type: 0x99", before the payload arrives', () => {
  const { decoder } = collector();
  // N = 11 announces 10 payload bytes, none of which are sent.
  assert.throws(() => decoder.push(hex('00 00 00 0b 99')), protocolErrorWith('Invalid message format: Unknown message type: 0x99'));
});

test('GV-24: unknown types are rendered with lower-case hex (0xf0, 0x0a)', () => {
  for (const [type, text] of [
    [0xf0, '0xf0'],
    [0x0a, '0x0a'],
    [0x00, '0x00'],
  ] as const) {
    const { decoder } = collector();
    assert.throws(
      () => decoder.push(Buffer.from([0, 0, 0, 1, type])),
      protocolErrorWith(`Invalid message format: Unknown message type: ${text}`),
    );
  }
});

test('GV-24: a frame delivered one byte per read', () => {
  const { decoder, frames } = collector();
  for (const byte of GV01_PING) {
    assert.equal(frames.length, 0);
    decoder.push(Buffer.from([byte]));
  }
  decoder.end();
  assert.deepEqual(frames, [{ type: 0x41, payload: PING_PAYLOAD }]);
});

test('GV-24: three frames in one read', () => {
  const pong = Buffer.from(GV01_PING);
  pong[4] = 0x42;
  const health = encodeFrame(MessageType.HealthStatus, Buffer.from('{"state":1}'));
  const { decoder, frames } = collector();
  decoder.push(Buffer.concat([GV01_PING, pong, health]));
  assert.equal(decoder.bufferedBytes, 0);
  assert.deepEqual(frames, [
    { type: 0x41, payload: PING_PAYLOAD },
    { type: 0x42, payload: PING_PAYLOAD },
    { type: 0x30, payload: Buffer.from('{"state":1}') },
  ]);
});

test('GV-24: EOF inside a frame → truncated frame', () => {
  const { decoder, frames } = collector();
  decoder.push(GV01_PING.subarray(0, 20));
  assert.throws(() => decoder.end(), protocolErrorWith('Truncated frame: stream ended after 20 of 48 bytes'));
  assert.equal(frames.length, 0);
  assert.equal(decoder.failed, true);
});

test('GV-24: EOF inside the length prefix → truncated frame; EOF between frames → orderly close', () => {
  const a = collector();
  a.decoder.push(GV01_PING);
  a.decoder.push(hex('00 00'));
  assert.throws(() => a.decoder.end(), protocolErrorWith(/^Truncated frame: stream ended inside the length prefix/));
  assert.equal(a.frames.length, 1);

  const b = collector();
  b.decoder.push(GV01_PING);
  b.decoder.end();
  assert.equal(b.decoder.failed, false);
  assert.equal(b.frames.length, 1);
});

test('GV-25: a 16 777 215-byte payload is written (N = 16 777 216) and read back; 16 777 216 bytes → ZAP_FRAME_TOO_LARGE', () => {
  // One 16 MiB allocation serves both cases.
  const big = Buffer.alloc(MAX_FRAME_LENGTH, 0x61);
  const maxPayload = big.subarray(0, MAX_PAYLOAD_LENGTH);
  const frame = encodeFrame(MessageType.RequestBodyChunk, maxPayload);
  assert.equal(frame.length, 4 + MAX_FRAME_LENGTH);
  assert.deepEqual(frame.subarray(0, 5), hex('01 00 00 00 11'));

  const { decoder } = collector();
  let received = -1;
  const reader = new FrameDecoder((type, payload) => {
    assert.equal(type, 0x11);
    received = payload.length;
  });
  reader.push(frame);
  reader.end();
  assert.equal(received, MAX_PAYLOAD_LENGTH);

  assert.throws(
    () => encodeFrame(MessageType.RequestBodyChunk, big),
    (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_FRAME_TOO_LARGE',
  );
  // Only that call failed: the writer keeps working and a reader of the stream is unaffected.
  decoder.push(encodeFrame(MessageType.Ping, PING_PAYLOAD));
  decoder.end();
  assert.equal(decoder.failed, false);
});
