// A large send batch travels as the router's whole buffer; the connection-host thread gives it back
// with its next results once read, when nothing there holds a view of it (src/contract/send-batch.ts,
// host-port.ts), so the router writes its next batches into warm memory instead of copying each into
// a fresh one. Real worker thread, real MessagePort.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { COPY_BELOW_BYTES } from '../src/contract/host-port.js';
import { KEEP_BYTES } from '../src/protocol/growable-bytes.js';
import { WorkerHost } from '../src/pool/worker-host.js';
import { waitFor } from './support/wait-for.js';

test('a read send batch comes back with the next results, never on its own; one the host still holds a view of does not', async () => {
  const results: number[] = [];
  let lost: Error | undefined;
  const host = new WorkerHost(0, {
    result: (item) => results.push(item[0]),
    replyIdOf: () => undefined,
    report: () => {},
    lost: (error) => (lost ??= error),
  });
  const worker = (host as unknown as { worker: Worker }).worker;
  const spares = (host as unknown as { batch: { spares: ArrayBuffer[] } }).batch.spares;
  /** Per message from the worker: the byte lengths of the buffers given back with it. */
  const given: number[][] = [];
  worker.on('message', (message: { t?: string; s?: ArrayBuffer[] }) => {
    given.push(message.s?.map((b) => b.byteLength) ?? []);
  });
  /** Cancels of calls the host does not know: ignored there (no result), `bytes` of them or a little more. */
  const cancelBatch = (from: number, bytes = COPY_BELOW_BYTES): void => {
    for (let i = 0; i < bytes / 8; i++) host.cancel([from + i, 'manual']);
  };
  /** A raw frame for connection 999, which the host does not know: it answers ZAP_CONNECTION_LOST. */
  const answered = async (requestId: number, frameBytes: number): Promise<void> => {
    host.send([requestId, 999, `c${requestId}`, Buffer.alloc(frameBytes, 0x61), 0]);
    await waitFor(() => results.includes(requestId));
  };
  try {
    await new Promise((resolve) => worker.once('online', resolve));
    cancelBatch(0);
    // Let the worker read it: nothing comes back yet, there is no result to carry it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(given.length, 0, 'a spare alone is no message');

    await answered(10_000, 16); // a small batch: copied, nothing to give back
    assert.equal(given.length, 1);
    assert.equal(given[0]?.length, 1, 'the large cancel batch came back with the next results');
    assert.ok((given[0]?.[0] ?? 0) >= COPY_BELOW_BYTES);
    assert.equal(spares.length, 1, 'the router keeps it for the next large batch');

    // Raw frame bytes go to the socket as a view of the batch: that buffer must stay with the host.
    await answered(10_001, COPY_BELOW_BYTES);
    await answered(10_002, 16);
    assert.deepEqual(given.slice(1), [[], []], 'the viewed batch never came back');

    // A burst grows the batch past what a writer keeps: that buffer is let go, not carried back.
    cancelBatch(20_000, KEEP_BYTES + 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // that batch leaves alone, and is read
    await answered(10_003, 16);
    assert.deepEqual(given.slice(3), [[]], 'a buffer larger than KEEP_BYTES is not given back');
    assert.equal(lost, undefined, 'the worker lived through it');
  } finally {
    await host.kill();
  }
});
