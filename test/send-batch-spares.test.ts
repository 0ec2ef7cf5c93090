// A large send batch travels as the router's whole buffer; the connection-host thread gives it back
// once read when nothing there holds a view of it (src/contract/send-batch.ts, host-port.ts), so the
// router writes its next batches into warm memory instead of copying each into a fresh one. Real
// worker thread, real MessagePort.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { COPY_BELOW_BYTES } from '../src/contract/host-port.js';
import { WorkerHost } from '../src/pool/worker-host.js';
import { waitFor } from './support/wait-for.js';

test('a read send batch comes back for reuse; one whose bytes the host still holds a view of does not', async () => {
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
  /** Byte lengths of the buffers given back, in the order they came. */
  const given: number[] = [];
  worker.on('message', (message: { t?: string; b?: ArrayBuffer }) => {
    if (message.t === 'spare') given.push(message.b?.byteLength ?? -1);
  });
  /** Cancels of calls the host does not know (ignored there): `bytes` of them, or a little more. */
  const cancelBatch = (from: number, bytes: number): void => {
    for (let i = 0; i < bytes / 8; i++) host.cancel([from + i, 'manual']);
  };
  try {
    await new Promise((resolve) => worker.once('online', resolve));
    cancelBatch(0, COPY_BELOW_BYTES);
    await waitFor(() => given.length === 1);
    assert.equal(spares.length, 1, 'the router keeps it for the next large batch');

    // Raw frame bytes go to the socket as a view of the batch: that buffer must stay with the host.
    // (Connection 999 is unknown: the host answers ZAP_CONNECTION_LOST, after reading the batch.)
    host.send([10_000, 999, 'c', Buffer.alloc(COPY_BELOW_BYTES, 0x61), 0]);
    await waitFor(() => results.length === 1);
    assert.deepEqual(results, [10_000]);
    // A batch far larger than the others marks the end: the port keeps order, so had the viewed batch
    // come back, it would be in the list before this one.
    cancelBatch(20_000, 8 * COPY_BELOW_BYTES);
    await waitFor(() => given.some((size) => size >= 8 * COPY_BELOW_BYTES));
    assert.equal(given.length, 2, `only the batches without views came back (sizes ${given.join(', ')})`);
    assert.equal(lost, undefined, 'the worker lived through it');
  } finally {
    await host.kill();
  }
});
