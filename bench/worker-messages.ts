// Router ↔ worker message formats, measured side by side (issue: "measure and record the
// alternative you rejected"). A worker echoes what it receives; the main thread sends N requests
// shaped like the pool's hot-path items and waits for N results, three ways:
//   per-item   one postMessage per request, objects (structured clone)
//   batch-obj  one postMessage per tick carrying an array of objects (structured clone)
//   batch-msgp one postMessage per tick carrying one msgpack-packed buffer
// The pool uses batch-obj: the event bytes are encoded once on the main thread either way, and
// V8's structured clone of the batch array beats packing it in JavaScript (msgpackr without its
// native addon, which npm may not install here).
// Run: node --import tsx bench/worker-messages.ts   (or the compiled dist/bench/worker-messages.js)
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false });
const N = Number(process.env['N'] ?? 200_000);
const BATCH = 256;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { Packr } = require(${JSON.stringify(fileURLToPath(import.meta.resolve('msgpackr')))});
const packr = new Packr({ useRecords: false });
const response = { version: 2, decision: { type: 'allow' }, requestHeaders: [], responseHeaders: [], routingMetadata: {},
  audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: { correlation_id: 'x' } }, needsMore: false,
  requestBodyMutation: null, responseBodyMutation: null, websocketDecision: null };
parentPort.on('message', (m) => {
  if (m.t === 'item') parentPort.postMessage({ t: 'item', id: m.id, r: response });
  else if (m.t === 'objs') parentPort.postMessage({ t: 'objs', items: m.items.map((i) => [i[0], response]) });
  else { const items = packr.unpack(m.b); parentPort.postMessage({ t: 'bytes', b: packr.pack(items.map((i) => [i[0], response])) }); }
});`;

function frame(i: number): Buffer {
  return Buffer.from(`{"metadata":{"correlation_id":"c-${i}"},"method":"GET","uri":"/x","headers":{"host":["a"]}}`);
}

async function run(mode: 'item' | 'objs' | 'bytes'): Promise<{ mode: string; perSec: number; mainCpuUs: number }> {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  worker.on('message', (m: { t: string; items?: unknown[]; b?: Uint8Array }) => {
    if (m.t === 'item') received++;
    else if (m.t === 'objs') received += m.items!.length;
    else received += (packr.unpack(m.b!) as unknown[]).length;
    if (received >= N) done();
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let sent = 0; sent < N;) {
    const batch: Array<[number, number, string, Buffer]> = [];
    for (let j = 0; j < BATCH && sent < N; j++, sent++) batch.push([sent, 1, `c-${sent}`, frame(sent)]);
    if (mode === 'item') for (const item of batch) worker.postMessage({ t: 'item', id: item[0], item });
    else if (mode === 'objs') worker.postMessage({ t: 'objs', items: batch });
    else worker.postMessage({ t: 'bytes', b: packr.pack(batch) });
    await new Promise((r) => setImmediate(r));
  }
  await finished;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await worker.terminate();
  return { mode, perSec: Math.round((N / ms) * 1000), mainCpuUs: (cpu.user + cpu.system) / N };
}

const results = [];
for (const mode of ['item', 'objs', 'bytes'] as const) results.push(await run(mode));
const base = results[2]!.perSec;
for (const r of results) {
  console.log(
    `${r.mode.padEnd(6)} ${String(r.perSec).padStart(9)} msg/s  ${(r.perSec / base).toFixed(2)}× ` +
      `bytes  process CPU ${r.mainCpuUs.toFixed(2)} µs/msg`,
  );
}
