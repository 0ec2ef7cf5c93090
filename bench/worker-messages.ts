// Router ↔ worker hand-off formats, measured side by side on the main thread. A worker answers each
// request with the echo agent's reply; the main thread keeps K requests in flight (a closed loop,
// sends of one turn batched, a send going at once when nothing is outstanding, as WorkerHost does)
// and rebuilds each reply as an AgentResponse. Three formats:
//   clone  one message per tick: send tuples + one transferred frame buffer; replies as sparse
//          objects by structured clone, rebuilt by fromSparse (the pool's format before issue 13)
//   moved  one transferred ArrayBuffer per tick each way (contract/send-batch.ts, result-batch.ts)
//   bytes  the same, but a batch under COPY_BELOW_BYTES is copied instead of transferred (the pool's rule)
//   ring   the same bytes through a SharedArrayBuffer ring per direction, Atomics.waitAsync as the
//          doorbell (bench/worker-messages-ring.ts)
// Printed per format: calls/s, main-thread CPU µs per call (the design's ceiling), and at K = 1 the
// round-trip p50. The event frame is built once: encoding costs the same in every format.
// Run: npm run build && node dist/bench/worker-messages.js   (N=… K=… to change the counts)
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { COPY_BELOW_BYTES } from '../src/contract/host-port.js';
import { readResultBatch } from '../src/contract/result-batch.js';
import { SendBatchWriter } from '../src/contract/send-batch.js';
import { fromSparse, type SparseResponse } from '../src/contract/sparse-response.js';
import type { ResultItem } from '../src/contract/host-messages.js';
import { mainThreadCpu } from './measure.js';
import { sampleRequestHeadersWire } from './sample-request.js';
import type { Mode, PeerData } from './worker-messages-peer.js';
import { ringBuffers, RingReader, RingWriter } from './worker-messages-ring.js';

const N = Number(process.env['N'] ?? 200_000);
const K = Number(process.env['K'] ?? 256);
const LATENCY_N = Math.min(N, 20_000);
const RING_BYTES = 16 * 1024 * 1024;
const FRAME = Buffer.from(JSON.stringify(sampleRequestHeadersWire('p-000001')));

interface Outcome {
  mode: Mode;
  inflight: number;
  perSec: number;
  mainCpuUs: number;
  p50Us: number;
}

function peerFile(): { file: URL; workerData: Record<string, unknown> } {
  const peer = new URL('./worker-messages-peer.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return { file: peer, workerData: {} };
  return {
    file: new URL('../workers/ts-bootstrap.mjs', import.meta.url),
    workerData: { __zapTsEntry: new URL('./worker-messages-peer.ts', import.meta.url).href },
  };
}

async function run(mode: Mode, inflight: number, total: number): Promise<Outcome> {
  const toPeer = ringBuffers(RING_BYTES);
  const toMain = ringBuffers(RING_BYTES);
  const spec = peerFile();
  const data: PeerData = { mode, ...(mode === 'ring' ? { rings: { toPeer, toMain } } : {}) };
  const worker = new Worker(fileURLToPath(spec.file), { workerData: { ...spec.workerData, ...data } });
  const ringOut = mode === 'ring' ? new RingWriter(toPeer) : undefined;
  const batch = new SendBatchWriter();
  let clones: Array<[number, number, string, Buffer]> = [];
  const startedAt = new Float64Array(total);
  const latencies: number[] = [];
  let sent = 0;
  let received = 0;
  let outstanding = 0;
  let scheduled = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const flush = () => {
    scheduled = false;
    if (mode === 'clone') {
      if (clones.length === 0) return;
      const bytes = new Uint8Array(clones.reduce((n, c) => n + c[3].byteLength, 0));
      let offset = 0;
      const s = clones.map(([id, conn, cid, frame]) => {
        bytes.set(frame, offset);
        offset += frame.byteLength;
        return [id, conn, cid, offset - frame.byteLength, frame.byteLength];
      });
      worker.postMessage({ t: 'batch', s, b: bytes.buffer, c: [] }, [bytes.buffer]);
      clones = [];
    } else if (batch.size > 0) {
      const bytes = batch.take();
      if (ringOut !== undefined) ringOut.write(new Uint8Array(bytes));
      else worker.postMessage(bytes, mode === 'bytes' && bytes.byteLength < COPY_BELOW_BYTES ? [] : [bytes]);
    }
  };
  const send = () => {
    const id = sent++;
    startedAt[id] = performance.now();
    if (mode === 'clone') clones.push([id, 1, `p${id}`, FRAME]);
    else batch.send([id, 1, `p${id}`, FRAME, 0]);
    if (outstanding++ === 0 && !scheduled) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const settle = (item: ResultItem) => {
    outstanding--;
    if (inflight === 1) latencies.push((performance.now() - (startedAt[item[0]] as number)) * 1000);
    if (++received === total) done();
    else if (sent < total) void Promise.resolve().then(send);
  };
  const onBytes = (bytes: ArrayBuffer) => readResultBatch({ bytes, rare: [] }, settle, (id) => `p${id}`);
  const ringIn = mode === 'ring' ? new RingReader(toMain, onBytes) : undefined;
  ringIn?.start();
  worker.on('message', (m: ArrayBuffer | { r: Array<[number, SparseResponse]> }) => {
    if (m instanceof ArrayBuffer) onBytes(m);
    else for (const [id, sparse] of m.r) settle([id, fromSparse(sparse)]);
  });
  await new Promise((resolve) => worker.once('online', resolve));

  const cpu = mainThreadCpu();
  const cpu0 = cpu.read();
  const t0 = performance.now();
  for (let i = 0; i < inflight; i++) send();
  await finished;
  const ms = performance.now() - t0;
  const mainCpuUs = (cpu.read() - cpu0) / total;
  ringIn?.stop();
  await worker.terminate();
  latencies.sort((a, b) => a - b);
  const p50Us = latencies.length === 0 ? Number.NaN : (latencies[Math.floor(latencies.length / 2)] as number);
  return { mode, inflight, perSec: Math.round((total / ms) * 1000), mainCpuUs, p50Us };
}

const outcomes: Outcome[] = [];
const MODES = ['clone', 'moved', 'bytes', 'ring'] as const;
for (const mode of MODES) outcomes.push(await run(mode, K, N));
for (const mode of MODES) outcomes.push(await run(mode, 1, LATENCY_N));
console.log('format  in flight     calls/s  main CPU µs/call  p50 µs');
for (const o of outcomes) {
  console.log(
    `${o.mode.padEnd(6)} ${String(o.inflight).padStart(10)} ${String(o.perSec).padStart(11)} ${o.mainCpuUs.toFixed(2).padStart(17)} ` +
      `${Number.isNaN(o.p50Us) ? '     -' : o.p50Us.toFixed(0).padStart(7)}`,
  );
}
