// Worker entry: one ConnectionHost per connection-host thread. Hot-path traffic arrives and
// leaves as bytes, one batch per tick (contract/send-batch.ts, contract/result-batch.ts; event
// bytes were encoded on the router); commands and state reports are plain messages
// (contract/host-port.ts). When results leave is contract/result-sender.ts's decision.
import { parentPort } from 'node:worker_threads';
import { ConnectionHost } from '../src/connection/connection-host.js';
import { MAX_SPARES, onRouterMessage, sendResultsToRouter, sendToRouter, isReusableBatch } from '../src/contract/host-port.js';
import { ResultSender } from '../src/contract/result-sender.js';
import { readSendBatch } from '../src/contract/send-batch.js';

const port = parentPort;
if (port === null) throw new Error('connection-host must run in a worker thread');

const host: ConnectionHost = new ConnectionHost({
  result: (item, replyId) => results.result(item, replyId),
  report(report) {
    sendToRouter(port, { t: 'report', r: report });
  },
});
/** Send batches read with no view of them kept here: they go back to the router with the next results. */
let spares: ArrayBuffer[] = [];
const results = new ResultSender(
  (batch) => {
    sendResultsToRouter(port, batch, spares);
    if (spares.length > 0) spares = [];
  },
  () => host.pending,
);

const onSend = { send: host.send.bind(host), cancel: host.cancel.bind(host) };

onRouterMessage(port, {
  batch(bytes) {
    // A corrupt batch throws ZAP_ERROR out of this thread: the router sees the worker lost and replaces it.
    let free = false;
    results.whileReading(() => (free = readSendBatch(bytes, onSend)));
    // Nothing here holds a view of it (packed events were written out as frames of their own). Past
    // MAX_SPARES it is let go: the router makes a new buffer when it has no spare.
    if (free && isReusableBatch(bytes) && spares.length < MAX_SPARES) spares.push(bytes);
  },
  command(command) {
    host.command(command);
  },
  terminate() {
    void host.terminate().then(() => sendToRouter(port, { t: 'terminated' }));
  },
});
