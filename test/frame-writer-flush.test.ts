// The frame writer's adaptive flush (src/transport/frame-writer.ts) on a real Unix socket: a lone
// frame is handed to the socket within the microtasks of the task that queued it; after a batch,
// the next flush waits for the next turn so that more frames share one writev; every frame
// arrives whole and in order either way. A flush of small frames is one socket write.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { FrameWriter } from '../src/transport/frame-writer.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

async function socketPair(): Promise<{ client: Socket; received: () => Buffer }> {
  const path = socketPath('writer');
  const chunks: Buffer[] = [];
  const server = createServer((s) => s.on('data', (d: Buffer) => chunks.push(d)));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const client = createConnection(path);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  after(() => {
    client.destroy();
    server.close();
  });
  return { client, received: () => Buffer.concat(chunks) };
}

/** Lets the current task's microtasks run (a few hops), but no timer or check-phase callback. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a lone frame leaves within the microtasks; after a batch the flush waits a turn; order kept', async () => {
  const { client, received } = await socketPair();
  const writer = new FrameWriter(client, 64);
  const frames: Buffer[] = [];
  const frame = (i: number): Buffer => {
    const b = Buffer.from(`frame-${i};`);
    frames.push(b);
    return b;
  };

  const lone = writer.enqueue(frame(0));
  await microtasks();
  assert.equal(lone.written, true, 'a lone frame is written without waiting for the next turn');

  const batch = Array.from({ length: 10 }, (_, i) => writer.enqueue(frame(1 + i)));
  await microtasks();
  // The previous flush wrote one frame, so this batch too went out within the microtasks.
  assert.ok(batch.every((e) => e.written));

  const afterBatch = writer.enqueue(frame(11));
  const withdrawn = writer.enqueue(Buffer.from('never;'));
  withdrawn.withdrawn = true;
  await microtasks();
  assert.equal(afterBatch.written, false, 'after a batch of 10 the flush waits for the next turn');
  await nextTurn();
  assert.equal(afterBatch.written, true);
  assert.equal(withdrawn.written, false);

  const expected = Buffer.concat(frames).toString();
  await waitFor(() => received().length >= expected.length, 10_000);
  assert.equal(received().toString(), expected);
});

test('a flush of small frames is one socket write, over 64 KiB one per frame; whole, in order, withdrawn left out', async () => {
  const { client, received } = await socketPair();
  const writes: number[] = [];
  let lastChunk: Buffer | undefined;
  const write = client.write.bind(client) as (chunk: Buffer) => boolean;
  client.write = ((chunk: Buffer) => {
    writes.push(chunk.byteLength);
    lastChunk = chunk;
    return write(chunk);
  }) as typeof client.write;
  const writer = new FrameWriter(client, 1_000);
  const expected: Buffer[] = [];
  const queue = (frame: Buffer, withdraw = false) => {
    const entry = writer.enqueue(frame);
    if (withdraw) entry.withdrawn = true;
    else expected.push(frame);
    return entry;
  };

  // A lone frame first (written as it is, not copied), so the next flush gathers a batch.
  const lone = queue(Buffer.from('lone;'));
  await microtasks();
  assert.equal(lastChunk, lone.frame, 'a lone frame is written as it is');
  writes.length = 0;
  const small = Array.from({ length: 20 }, (_, i) => queue(Buffer.from(`small-${i};`), i === 7));
  await nextTurn();
  await nextTurn();
  assert.deepEqual(
    writes,
    [small.filter((e) => !e.withdrawn).reduce((n, e) => n + e.frame.byteLength, 0)],
    'one write of every frame left',
  );
  assert.ok(small.every((e) => e.written !== e.withdrawn));

  writes.length = 0;
  const large = [queue(Buffer.alloc(40_000, 0x61)), queue(Buffer.from('gone;'), true), queue(Buffer.alloc(40_000, 0x62))];
  await nextTurn();
  await nextTurn();
  assert.deepEqual(writes, [40_000, 40_000], 'over 64 KiB: each frame as it is');
  assert.deepEqual(
    large.map((e) => e.written),
    [true, false, true],
  );

  writes.length = 0;
  const gone = [queue(Buffer.from('gone-1;'), true), queue(Buffer.from('gone-2;'), true)];
  await nextTurn();
  await nextTurn();
  assert.deepEqual(writes, [], 'a flush of withdrawn frames only writes nothing');
  assert.ok(gone.every((e) => !e.written));

  const all = Buffer.concat(expected);
  await waitFor(() => received().length >= all.length, 10_000);
  assert.ok(received().equals(all), 'the bytes that arrived are the frames not withdrawn, in order');
});
