// The worker side of bench/worker-messages.ts: answers every request with the echo agent's reply
// (as the pool decodes it), in the format the main thread asked for (workerData.mode). Each batch
// in gives one batch out at once, as the connection host does when nothing else is pending.
import { parentPort, workerData } from 'node:worker_threads';
import { COPY_BELOW_BYTES } from '../src/contract/host-port.js';
import type { SendItem } from '../src/contract/host-messages.js';
import { ResultBatchWriter } from '../src/contract/result-batch.js';
import { readSendBatch } from '../src/contract/send-batch.js';
import { toSparse } from '../src/contract/sparse-response.js';
import { agentResponseFromWire, agentResponseToWire, allowResponse } from '../src/protocol/agent-response.js';
import type { AgentResponse } from '../src/protocol/types.js';
import { RingReader, RingWriter, type RingBuffers } from './worker-messages-ring.js';

/**
 * clone: tuples and sparse replies by structured clone; moved: byte batches, always transferred;
 * bytes: byte batches, copied below COPY_BELOW_BYTES (the pool's rule); ring: byte batches through SharedArrayBuffer rings.
 */
export type Mode = 'clone' | 'moved' | 'bytes' | 'ring';

export interface PeerData {
  mode: Mode;
  rings?: { toPeer: RingBuffers; toMain: RingBuffers };
}

const port = parentPort;
if (port === null) throw new Error('worker-messages-peer runs in a worker');
const { mode, rings } = workerData as PeerData;

const echo: AgentResponse = {
  ...allowResponse(),
  requestHeaders: [{ op: 'set', name: 'x-agent-echo', value: 'GET /products/42?ref=home&utm_source=newsletter' }],
};
const reply = (cid: string) => agentResponseFromWire(JSON.parse(JSON.stringify(agentResponseToWire(echo, cid))));

const results = new ResultBatchWriter();
const ringOut = rings === undefined ? undefined : new RingWriter(rings.toMain);

function flush(): void {
  if (results.size === 0) return;
  const batch = results.take();
  if (ringOut !== undefined) ringOut.write(new Uint8Array(batch.bytes));
  else port!.postMessage(batch.bytes, mode === 'bytes' && batch.bytes.byteLength < COPY_BELOW_BYTES ? [] : [batch.bytes]);
}

const onSends = {
  send: (item: SendItem) => results.add([item[0], reply(item[2])], item[2]),
  cancel: () => {},
};

if (rings !== undefined) {
  new RingReader(rings.toPeer, (bytes) => {
    readSendBatch(bytes, onSends);
    flush();
  }).start();
}

port.on('message', (m: unknown) => {
  if (mode === 'clone') {
    const { s } = m as { s: Array<[number, number, string, number, number]> };
    port.postMessage({ t: 'results', r: s.map((i) => [i[0], toSparse(reply(i[2]))]) });
  } else if (mode === 'bytes' || mode === 'moved') {
    readSendBatch(m as ArrayBuffer, onSends);
    flush();
  }
});
