// `npm run fuzz [-- --seed N --inputs N --heap-bound-mib N]`: the full codec fuzz run (not part of
// `npm test`, which runs a short one). Prints progress, inputs/s and a per-target summary; exits 1
// on an untyped exception (printing the failing input as hex and how to replay it) or heap growth.
import { parseArgs } from 'node:util';
import { runFuzz } from './codec-fuzz.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    inputs: { type: 'string', default: '1000000' },
    'heap-bound-mib': { type: 'string', default: '64' },
  },
});
const seed = values.seed === undefined ? Date.now() % 0x1_0000_0000 : Number(values.seed);
const inputs = Number(values.inputs);
const heapBoundBytes = Number(values['heap-bound-mib']) * 1024 * 1024;
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(inputs) || inputs <= 0 || !(heapBoundBytes > 0)) {
  console.error('usage: npm run fuzz -- [--seed <uint32>] [--inputs <count>] [--heap-bound-mib <MiB>]');
  process.exit(2);
}

const mib = (n: number): string => (n / 1048576).toFixed(1);
console.log(`codec fuzz: seed ${seed}, ${inputs} inputs, heap bound +${mib(heapBoundBytes)} MiB`);
const summary = runFuzz({
  seed,
  inputs,
  heapBoundBytes,
  progressEvery: 50_000,
  onProgress: (done, rate, heap) => console.log(`  ${done} inputs, ${Math.round(rate)}/s, heapUsed ${mib(heap)} MiB`),
});

console.log(`\n${summary.inputs} inputs in ${summary.seconds.toFixed(1)} s (${Math.round(summary.inputsPerSecond)} inputs/s)`);
console.log(`heapUsed after warm-up ${mib(summary.heapBaseline)} MiB, max ${mib(summary.heapMax)} MiB`);
console.log(`slowest input ${summary.slowestMs.toFixed(1)} ms (${summary.slowestTarget})`);
console.log('target                                   inputs  accepted   refused');
for (const [name, s] of Object.entries(summary.targets)) {
  console.log(`${name.padEnd(38)} ${String(s.inputs).padStart(8)} ${String(s.accepted).padStart(9)} ${String(s.refused).padStart(9)}`);
}
if (summary.failure !== null) {
  const f = summary.failure;
  console.error(`\nFAILED at input #${f.index} on ${f.target}: ${f.error}`);
  if (f.inputHex !== '') console.error(`input (${f.inputHex.length / 2} bytes): ${f.inputHex}`);
  if (f.chunks.length > 0) console.error(`pushed in chunks of: ${f.chunks.join(', ')} (repeating)`);
  console.error(`replay: npm run fuzz -- --seed ${seed} --inputs ${f.index + 1}`);
  process.exit(1);
}
console.log('\nOK: every refusal was an AgentPoolError');
