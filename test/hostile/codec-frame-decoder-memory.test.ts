// Issue 11 item 2b, in-process: the frame decoder's memory is at most about twice the bytes it
// holds, whatever the chunking (it used to keep every pushed chunk as its own Buffer: ~250 bytes of
// memory per byte held with 1-byte reads), it never allocates an announced length up front, and
// whole frames inside one chunk are still delivered without a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { MessageType } from '../../src/protocol/message-type.js';

const MIN_CAPACITY = 4096;

function assertBounded(d: FrameDecoder, where: string): void {
  assert.ok(
    d.capacity <= Math.max(2 * d.bufferedBytes, MIN_CAPACITY),
    `${where}: capacity ${d.capacity} for ${d.bufferedBytes} bytes held`,
  );
}

test('frame decoder memory: 1-byte pushes of a 1 MiB frame keep capacity ≤ max(2 × held, 4 KiB), and the frame arrives intact', () => {
  const payload = Buffer.alloc(1 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  const frame = encodeFrame(MessageType.RequestBodyChunk, payload);
  let got: Buffer | null = null;
  const d = new FrameDecoder((type, p) => {
    assert.equal(type, MessageType.RequestBodyChunk);
    got = p;
  });
  for (let i = 0; i < frame.length - 1; i++) {
    d.push(frame.subarray(i, i + 1));
    if ((i & 0xfff) === 0) assertBounded(d, `after byte ${i}`);
  }
  assert.equal(d.bufferedBytes, frame.length - 1);
  assertBounded(d, 'before the last byte');
  d.push(frame.subarray(frame.length - 1));
  assert.ok(got !== null);
  assert.ok(payload.equals(got));
  assert.equal(d.bufferedBytes, 0);
  assert.equal(d.capacity, 0);
});

test('frame decoder memory: a 16 MiB announcement with nothing behind it allocates no more than the minimum', () => {
  const d = new FrameDecoder(() => assert.fail('no frame expected'));
  d.push(Buffer.from([0x01, 0x00, 0x00, 0x00, 0x11, 0xaa, 0xbb])); // N = 16 MiB, 2 payload bytes
  assert.equal(d.bufferedBytes, 7);
  assert.ok(d.capacity <= MIN_CAPACITY, `capacity ${d.capacity}`);
  assert.throws(() => d.end(), /Truncated frame: stream ended after 7 of 16777220 bytes/);
});

test('frame decoder memory: the held bytes never pin the pushed chunk (a 64 KiB read holding a 10-byte tail)', () => {
  const d = new FrameDecoder(() => undefined);
  const big = Buffer.alloc(65_536);
  encodeFrame(MessageType.Ping, Buffer.alloc(65_536 - 5 - 10)).copy(big, 0);
  big.writeUInt32BE(100, 65_536 - 10); // a second frame starts in the last 10 bytes
  big[65_536 - 6] = MessageType.Ping;
  d.push(big);
  assert.equal(d.bufferedBytes, 10);
  assert.ok(d.capacity <= MIN_CAPACITY, `capacity ${d.capacity}: the tail was copied, not kept as a view`);
});

test(
  'frame decoder memory: any chunking of any frames delivers the same frames, with capacity ≤ ' + 'max(2 × held, 4096) after every push',
  () => {
    const frameArb = fc.record({
      type: fc.constantFrom(0x10, 0x11, 0x20, 0x30, 0x41, 0x42),
      payload: fc.uint8Array({ maxLength: 3000 }),
    });
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
          const got: { type: number; payload: Buffer }[] = [];
          const d = new FrameDecoder((type, payload) => got.push({ type, payload }));
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length] as number;
            d.push(stream.subarray(at, at + size));
            at += size;
            assertBounded(d, `after ${at} bytes`);
          }
          d.end();
          // Payloads delivered earlier must not have been overwritten by later pushes.
          assert.deepEqual(
            got.map((f) => ({ type: f.type, payload: Buffer.from(f.payload).toString('hex') })),
            frames.map((f) => ({ type: f.type, payload: Buffer.from(f.payload).toString('hex') })),
          );
        },
      ),
      { numRuns: 300 },
    );
  },
);

test('frame decoder memory: a handler exception while completing a held frame keeps the rest of that chunk', () => {
  const got: string[] = [];
  let throwOnce = true;
  const d = new FrameDecoder((_t, payload) => {
    const text = payload.toString();
    if (throwOnce && text === 'held') {
      throwOnce = false;
      throw new Error('handler broke');
    }
    got.push(text);
  });
  const held = encodeFrame(MessageType.Ping, Buffer.from('held'));
  d.push(held.subarray(0, 6));
  const rest = Buffer.concat([
    held.subarray(6),
    encodeFrame(MessageType.Ping, Buffer.from('next')),
    encodeFrame(MessageType.Ping, Buffer.from('last')),
  ]);
  assert.throws(() => d.push(rest), /handler broke/);
  assert.equal(d.failed, false);
  d.end();
  assert.deepEqual(got, ['next', 'last']);
});
