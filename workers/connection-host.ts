// Worker entry: one ConnectionHost per connection-host thread. Hot-path traffic arrives and
// leaves as one message per tick (arrays of items; event bytes were encoded on the router);
// commands and state reports are plain messages (contract/host-port.ts).
import { parentPort } from 'node:worker_threads';
import { ConnectionHost } from '../src/connection/connection-host.js';
import type { WorkerResult } from '../src/contract/host-messages.js';
import { onRouterMessage, sendToRouter } from '../src/contract/host-port.js';
import { toSparse } from '../src/contract/sparse-response.js';

const port = parentPort;
if (port === null) throw new Error('connection-host must run in a worker thread');

let results: WorkerResult[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const batch = results;
  results = [];
  sendToRouter(port, { t: 'results', r: batch });
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
    sendToRouter(port, { t: 'report', r: report });
  },
});

onRouterMessage(port, {
  batch(sends, bytes, cancels) {
    for (const [requestId, connectionId, correlationId, offset, length] of sends) {
      host.send([requestId, connectionId, correlationId, Buffer.from(bytes, offset, length)]);
    }
    for (const item of cancels) host.cancel(item);
  },
  command(command) {
    host.command(command);
  },
  terminate() {
    void host.terminate().then(() => sendToRouter(port, { t: 'terminated' }));
  },
});
