// Property tests of the frame codec (spec §2.2, §2.3): any re-chunking of a valid stream yields
// the same frames; any byte soup only ever fails with AgentPoolError; a cut stream is truncated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { MessageType } from '../src/protocol/message-type.js';
import { AgentPoolError } from '../src/protocol/errors.js';

type Frame = { type: number; payload: Buffer };

const KNOWN_CODES = Object.values(MessageType);

const frameArb: fc.Arbitrary<Frame> = fc
  .tuple(fc.constantFrom(...KNOWN_CODES), fc.uint8Array({ maxLength: 300 }))
  .map(([type, bytes]) => ({ type, payload: Buffer.from(bytes) }));

/** Split `bytes` at the given cut points (any order, duplicates allowed → empty chunks). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

function decodeAll(chunks: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder((type, payload) => frames.push({ type, payload: Buffer.from(payload) }));
  for (const c of chunks) decoder.push(c);
  decoder.end();
  return frames;
}

test('property: any re-chunking of a valid multi-frame stream yields identical frames', () => {
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
      assert.deepEqual(decodeAll(split(stream, cuts)), frames);
    }),
    { numRuns: 200 },
  );
});

test('property: frame bytes are exactly length prefix (1 + payload), type, payload', () => {
  fc.assert(
    fc.property(frameArb, ({ type, payload }) => {
      const frame = encodeFrame(type, payload);
      assert.equal(frame.length, 5 + payload.length);
      assert.equal(frame.readUInt32BE(0), payload.length + 1);
      assert.equal(frame[4], type);
      assert.deepEqual(frame.subarray(5), payload);
    }),
    { numRuns: 100 },
  );
});

test('property: random garbage, in any chunking, only ever throws AgentPoolError ZAP_PROTOCOL_ERROR', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 10 }), (garbage, cuts) => {
      const decoder = new FrameDecoder(() => undefined);
      try {
        for (const c of split(Buffer.from(garbage), cuts)) decoder.push(c);
        decoder.end();
      } catch (err) {
        assert.ok(err instanceof AgentPoolError, `unexpected ${String(err)}`);
        assert.equal(err.code, 'ZAP_PROTOCOL_ERROR');
        assert.equal(decoder.failed, true);
      }
    }),
    { numRuns: 200 },
  );
});

test('property: a valid stream cut inside a frame ends with a truncated-frame error after the whole frames', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.array(fc.nat(), { maxLength: 10 }),
      (frames, cutSeed, cuts) => {
        const encoded = frames.map((f) => encodeFrame(f.type, f.payload));
        const stream = Buffer.concat(encoded);
        // Frame boundaries; pick a cut that is not one of them.
        const boundaries = new Set<number>([0]);
        let at = 0;
        for (const e of encoded) boundaries.add((at += e.length));
        const cut = 1 + (cutSeed % (stream.length - 1));
        fc.pre(!boundaries.has(cut));
        const whole = [...boundaries].filter((b) => b > 0 && b < cut).length;
        const got: number[] = [];
        const decoder = new FrameDecoder((type) => got.push(type));
        for (const c of split(stream.subarray(0, cut), cuts)) decoder.push(c);
        assert.throws(
          () => decoder.end(),
          (err: unknown) =>
            err instanceof AgentPoolError && err.code === 'ZAP_PROTOCOL_ERROR' && err.message.startsWith('Truncated frame: '),
        );
        assert.deepEqual(
          got,
          frames.slice(0, whole).map((f) => f.type),
        );
      },
    ),
    { numRuns: 150 },
  );
});
