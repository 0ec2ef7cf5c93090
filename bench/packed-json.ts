// What a JSON RequestHeaders event costs each side of a worker hand-off (src/transport/packed-json*.ts),
// on one thread, with the event built fresh per call as in every scenario (sample-request.ts):
//   stringify  the router's cost without packing: wire object, JSON.stringify, the UTF-8 copy
//   pack       the router's cost with packing (PackedJsonWriter.packEvent)
//   write      the worker's cost with packing: the JSON frame written from the packed bytes
// The building of the event itself is measured alone and taken off the first two rows.
// Run: npm run build && node dist/bench/packed-json.js   (N=… to change the count)
import { eventToWire } from '../src/protocol/events.js';
import { packedJsonFrame } from '../src/transport/packed-json-frame.js';
import { PackedJsonWriter } from '../src/transport/packed-json.js';
import { sampleRequestHeaders } from './sample-request.js';
import { nsPerCall as timed } from './ns-per-call.js';

const N = Number(process.env['N'] ?? 300_000);
const ROUNDS = 3;

/** ns per call of `step`, the best of ROUNDS rounds of N calls. */
const nsPerCall = (step: (i: number) => number): number => timed(step, N, ROUNDS);

const scratch = Buffer.allocUnsafeSlow(64 * 1024);
const packer = new PackedJsonWriter();
const cid = (i: number) => `p-${i}`;

const build = nsPerCall((i) => sampleRequestHeaders(cid(i)).uri.length);
const stringify = nsPerCall((i) => {
  const c = cid(i);
  return scratch.write(JSON.stringify(eventToWire('request_headers', sampleRequestHeaders(c), c, false)), 5, 'utf8');
});
const pack = nsPerCall((i) => {
  const c = cid(i);
  if (!packer.packEvent('request_headers', sampleRequestHeaders(c), c)) throw new Error('the sample event did not pack');
  return packer.length;
});
const packed = Buffer.from(packer.bytes.subarray(0, packer.length));
const write = nsPerCall(() => packedJsonFrame(packed, 0x10).length);

console.log(
  `packed JSON, sample RequestHeaders event, ${N} calls, best of ${ROUNDS} rounds (event building, ${build.toFixed(0)} ns, taken off):`,
);
console.log(`  router, stringify + UTF-8 copy  ${(stringify - build).toFixed(0).padStart(6)} ns`);
console.log(`  router, pack                    ${(pack - build).toFixed(0).padStart(6)} ns`);
console.log(`  worker, JSON frame from packed  ${write.toFixed(0).padStart(6)} ns`);
