// A results batch that cannot be read (src/contract/result-batch.ts) means the bytes between our own
// threads are wrong: the router-side WorkerHost reports its worker lost with ZAP_ERROR (so the pool
// fails that worker's calls and starts a successor) and stops the thread, instead of throwing out of
// a message listener.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { WorkerHost } from '../src/pool/worker-host.js';
import { ResultBatchWriter } from '../src/contract/result-batch.js';
import { allowResponse } from '../src/protocol/agent-response.js';

test('a corrupt results batch: the worker is reported lost with ZAP_ERROR and its thread stops', async () => {
  let lost: Error | undefined;
  let resolveLost!: () => void;
  const lostReported = new Promise<void>((resolve) => (resolveLost = resolve));
  const host = new WorkerHost(0, {
    result: () => assert.fail('no result can come out of a corrupt batch'),
    replyIdOf: () => undefined,
    report: () => {},
    lost: (error) => {
      lost ??= error;
      resolveLost();
    },
  });
  const worker = (host as unknown as { worker: Worker }).worker;
  await new Promise((resolve) => worker.once('online', resolve));
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  // Claims one result in 8 bytes (the head alone), so it ends before the result's tag.
  worker.emit('message', new Uint8Array([1, 0, 0, 0, 8, 0, 0, 0]).buffer);
  await lostReported;
  assert.ok(lost instanceof AgentPoolError, String(lost));
  assert.equal(lost.code, ErrorCode.Error);
  assert.match(lost.message, /corrupt results batch/);
  await exited;
});

test('a handler that throws on a sound batch: its error surfaces after the other results, the worker is not lost', async () => {
  const seen: number[] = [];
  let lost: Error | undefined;
  const host = new WorkerHost(0, {
    result: (item) => {
      seen.push(item[0]);
      if (item[0] === 1) throw new Error('router bug');
    },
    replyIdOf: () => undefined,
    report: () => {},
    lost: (error) => (lost = error),
  });
  const worker = (host as unknown as { worker: Worker }).worker;
  try {
    await new Promise((resolve) => worker.once('online', resolve));
    const writer = new ResultBatchWriter();
    writer.add([1, allowResponse()]);
    writer.add([2, allowResponse()]);
    const batch = writer.take();
    assert.throws(() => worker.emit('message', batch.bytes), /router bug/);
    assert.deepEqual(seen, [1, 2], 'the result after the throwing one is still handed on');
    assert.equal(lost, undefined, 'a sound batch does not cost the worker');
  } finally {
    await host.kill();
  }
});
