// The short codec fuzz run inside `npm test` (the long one is `npm run fuzz`): tens of thousands of
// mutated frames and payloads through every reader of peer bytes, with a fixed seed so a failure replays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../fuzz/codec-fuzz.js';

const INPUTS = 30_000;
const SEED = 0x2a11;

test(`codec fuzz: ${INPUTS} mutated inputs (seed ${SEED}) raise nothing but AgentPoolError, heap bounded`, (t) => {
  const summary = runFuzz({ seed: SEED, inputs: INPUTS, heapBoundBytes: 64 * 1024 * 1024 });
  t.diagnostic(
    `${summary.inputs} inputs, ${Math.round(summary.inputsPerSecond)}/s; heapUsed ` +
      `${(summary.heapBaseline / 1048576).toFixed(1)} → max ${(summary.heapMax / 1048576).toFixed(1)} ` +
      `MiB; slowest ${summary.slowestMs.toFixed(1)} ms (${summary.slowestTarget})`,
  );
  const f = summary.failure;
  assert.equal(
    f,
    null,
    f === null
      ? ''
      : `${f.target} #${f.index}: ${f.error}\ninput: ${f.inputHex}\nchunks: ` +
          `${f.chunks.join(',')}\nreplay: npm run fuzz -- --seed ${SEED} --inputs ${f.index + 1}`,
  );
  assert.equal(summary.inputs, INPUTS);
  // Every target got inputs, and the mutations reach past the first check (some inputs are accepted).
  for (const [name, s] of Object.entries(summary.targets)) {
    assert.ok(s.inputs > 0, `${name} got no inputs`);
    assert.ok(s.accepted > 0, `${name} accepted nothing: the mutations never get past the first check`);
  }
});
