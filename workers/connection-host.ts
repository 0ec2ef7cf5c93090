// Worker entry: one ConnectionHost per connection-host thread. Hot-path traffic arrives and
// leaves as bytes, one batch per tick (contract/send-batch.ts, contract/result-batch.ts; event
// bytes were encoded on the router); commands and state reports are plain messages
// (contract/host-port.ts). Results go at once when no other call of this host is outstanding
// (low load: no extra turn), else at the end of the turn (under load: one message per tick).
import { parentPort } from 'node:worker_threads';
import { ConnectionHost } from '../src/connection/connection-host.js';
import { onRouterMessage, sendResultsToRouter, sendToRouter } from '../src/contract/host-port.js';
import { ResultBatchWriter } from '../src/contract/result-batch.js';
import { readSendBatch } from '../src/contract/send-batch.js';

const port = parentPort;
if (port === null) throw new Error('connection-host must run in a worker thread');

const results = new ResultBatchWriter();
let scheduled = false;
/** While a send batch is being read: results wait for its end, so one batch in gives at most one message out. */
let reading = false;
const flush = () => {
  scheduled = false;
  if (results.size > 0) sendResultsToRouter(port, results.take());
};

const host = new ConnectionHost({
  result(item, replyId) {
    results.add(item, replyId);
    if (!reading && host.pending === 0) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  },
  report(report) {
    sendToRouter(port, { t: 'report', r: report });
  },
});

const onSend = { send: host.send.bind(host), cancel: host.cancel.bind(host) };

onRouterMessage(port, {
  batch(bytes) {
    reading = true;
    try {
      // A corrupt batch throws ZAP_ERROR out of this thread: the router sees the worker lost and replaces it.
      readSendBatch(bytes, onSend);
    } finally {
      reading = false;
    }
    if (results.size > 0 && host.pending === 0) flush();
  },
  command(command) {
    host.command(command);
  },
  terminate() {
    void host.terminate().then(() => sendToRouter(port, { t: 'terminated' }));
  },
});
