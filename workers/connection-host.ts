// Worker entry: one ConnectionHost per connection-host thread. Hot-path traffic arrives and
// leaves as one message per tick (arrays of items; event bytes were encoded on the router);
// commands and state reports are plain messages.
import { parentPort } from 'node:worker_threads';
import { ConnectionHost } from '../src/connection/connection-host.js';
import type { CancelItem, HostCommand, PackedSendItem, WorkerResult } from '../src/pool/host-protocol.js';
import { toSparse } from '../src/pool/sparse-response.js';

export type ToWorker =
  | { t: 'cmd'; c: HostCommand }
  | { t: 'batch'; s: PackedSendItem[]; b: ArrayBuffer; c: CancelItem[] }
  | { t: 'terminate' };

const port = parentPort;
if (port === null) throw new Error('connection-host must run in a worker thread');

let results: WorkerResult[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const batch = results;
  results = [];
  port.postMessage({ t: 'results', r: batch });
};

const host = new ConnectionHost({
  result(item) {
    results.push(item[1] === null ? item : [item[0], toSparse(item[1])]);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  },
  report(report) {
    port.postMessage({ t: 'report', r: report });
  },
});

port.on('message', (msg: ToWorker) => {
  switch (msg.t) {
    case 'batch':
      for (const [requestId, connectionId, correlationId, offset, length] of msg.s) {
        host.send([requestId, connectionId, correlationId, Buffer.from(msg.b, offset, length)]);
      }
      for (const item of msg.c) host.cancel(item);
      return;
    case 'cmd':
      host.command(msg.c);
      return;
    case 'terminate':
      void host.terminate().then(() => port.postMessage({ t: 'terminated' }));
      return;
  }
});
