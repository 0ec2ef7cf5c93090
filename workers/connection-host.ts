// Worker entry: one ConnectionHost per connection-host thread. Hot-path traffic arrives and
// leaves as one message per tick (arrays of items; event bytes were encoded on the router);
// commands and state reports are plain messages.
import { parentPort } from 'node:worker_threads';
import { ConnectionHost } from '../src/connection/connection-host.js';
import type { CancelItem, HostCommand, ResultItem, SendItem } from '../src/pool/host-protocol.js';

export type ToWorker = { t: 'cmd'; c: HostCommand } | { t: 'batch'; s: SendItem[]; c: CancelItem[] } | { t: 'terminate' };

const port = parentPort;
if (port === null) throw new Error('connection-host must run in a worker thread');

let results: ResultItem[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const batch = results;
  results = [];
  port.postMessage({ t: 'results', r: batch });
};

const host = new ConnectionHost({
  result(item) {
    results.push(item);
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
      for (const item of msg.s) host.send(item);
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
