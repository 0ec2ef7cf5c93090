// Worker entry: one ConnectionHost per connection-host thread. Hot-path traffic arrives and
// leaves as one packed byte buffer per tick; commands and state reports are plain messages.
import { parentPort } from 'node:worker_threads';
import { ConnectionHost } from '../src/connection/connection-host.js';
import { packResults, unpackRequests } from '../src/pool/host-batch.js';
import type { HostCommand, ResultItem } from '../src/pool/host-protocol.js';

export type ToWorker = { t: 'cmd'; c: HostCommand } | { t: 'batch'; b: Uint8Array } | { t: 'terminate' };

const port = parentPort;
if (port === null) throw new Error('connection-host must run in a worker thread');

let results: ResultItem[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const batch = results;
  results = [];
  port.postMessage({ t: 'results', b: packResults(batch) });
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
    case 'batch': {
      const [sends, cancels] = unpackRequests(msg.b);
      for (const item of sends) host.send(item);
      for (const item of cancels) host.cancel(item);
      return;
    }
    case 'cmd':
      host.command(msg.c);
      return;
    case 'terminate':
      void host.terminate().then(() => port.postMessage({ t: 'terminated' }));
      return;
  }
});
