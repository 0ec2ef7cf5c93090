// Micro-benchmark of the per-call argument checks (src/pool/call-arguments.ts), which run on the
// main thread for every send. Not a scenario of `npm run bench`; run it on its own:
//   node --import tsx bench/call-arguments.ts [iterations]
// Prints ns per check for the bench's sample RequestHeaders (10 headers), the test suite's small
// one (2 headers) and a body chunk, each with a timeoutMs option. Bounded: a fixed iteration count.
import { invalidCallArguments } from '../src/pool/call-arguments.js';
import type { EventKind } from '../src/protocol/types.js';
import { requestHeaders, sampleDomainEvent } from '../test/support/events.js';
import { sampleRequestHeaders } from './sample-request.js';

const iterations = Number(process.argv[2] ?? 2_000_000);
if (!Number.isSafeInteger(iterations) || iterations <= 0) throw new Error('iterations must be a positive integer');

const cases: Array<[string, EventKind, unknown]> = [
  ['request_headers (bench sample, 10 headers)', 'request_headers', sampleRequestHeaders('bench-cid')],
  ['request_headers (test sample, 2 headers)', 'request_headers', requestHeaders('bench-cid')],
  ['request_body_chunk', 'request_body_chunk', sampleDomainEvent('request_body_chunk', 'bench-cid')],
];
const options = { timeoutMs: 1_000 };

function run(kind: EventKind, event: unknown, n: number): number {
  let failures = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (invalidCallArguments('waf', kind, event, 'bench-cid', options) !== undefined) failures++;
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (failures !== 0) throw new Error(`${kind}: the sample event was rejected`);
  return ns;
}

for (const [name, kind, event] of cases) {
  run(kind, event, Math.min(iterations, 200_000)); // warm-up: let the JIT settle
  const samples = [run(kind, event, iterations), run(kind, event, iterations), run(kind, event, iterations)].sort((a, b) => a - b);
  process.stdout.write(`${name}: ${(samples[1] as number).toFixed(1)} ns per call (median of 3 × ${iterations})\n`);
}
