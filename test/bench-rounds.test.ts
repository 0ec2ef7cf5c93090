// `zap bench pool-uds --rounds N` (bench/rounds.ts): rows measured round after round are reported
// once each, every figure the median of its rounds and every ratio the median of the ratios each
// round took against its own baseline (not a ratio of medians); a real run writes one row per
// configuration and names the per-round ratios in a note.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { toBenchRow } from '../bench/bench-row.js';
import type { ClosedLoopResult } from '../bench/measure.js';
import { median, medianOfRounds, roundsNote } from '../bench/rounds.js';
import type { BenchRow } from '../bench/scenario.js';
import { runBench } from '../src/cli/bench.js';
import { UsageError } from '../src/cli/cli-error.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-rounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A measured row: `reqPerSec` calls per second at `mainUs` of main-thread CPU each, over one second. */
function measured(reqPerSec: number, mainUs: number): ClosedLoopResult {
  return {
    requests: reqPerSec,
    reqPerSec,
    windowMs: 1000,
    latency: { count: reqPerSec, p50Us: 1e6 / reqPerSec, p99Us: 2e6 / reqPerSec, p999Us: 3e6 / reqPerSec, maxUs: 4e6 / reqPerSec },
    mainCpuUs: mainUs * reqPerSec,
    processCpuUs: 2 * mainUs * reqPerSec,
    peerCpuUs: null,
    eventLoopUtilization: 0.5,
    errors: 0,
    firstError: null,
    cpuSource: 'thread',
  };
}

function round(raw: [number, number], pool: [number, number]): BenchRow[] {
  const spec = { transport: 'uds', workers: 0, inflight: 256, connectionsPerAgent: 1 };
  const base = toBenchRow({ ...spec, name: 'raw@256', base: undefined }, measured(...raw));
  return [base, toBenchRow({ ...spec, name: 'pool@256', workers: 1, base }, measured(...pool))];
}

test('median of numbers: odd and even counts, NaN left out', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([Number.NaN, 5]), 5);
  assert.ok(Number.isNaN(median([])));
});

test('each figure is the median of its rounds; each ratio the median of per-round ratios, paired with that round’s baseline', () => {
  // Round 2 is a slow moment for both rows alike: paired, its ratio is like the others.
  const rounds = [round([100, 8], [60, 4]), round([50, 16], [30, 8.4]), round([110, 7.5], [62, 4.4])];
  const [raw, pool] = medianOfRounds(rounds);
  assert.equal(raw?.name, 'raw@256');
  assert.equal(raw?.mainCpuVsBaseline, 1);
  assert.equal(pool?.mainCpuUsPerReq, 4.4);
  assert.equal(pool?.reqPerSec, 60);
  assert.equal(pool?.requests, 60 + 30 + 62, 'requests are summed');
  // Per round 0.5, 0.525, 0.5867: the median is 0.525. The ratio of the medians would be 4.4 / 8 = 0.55.
  assert.ok(Math.abs((pool?.mainCpuVsBaseline ?? 0) - 0.525) < 1e-9, String(pool?.mainCpuVsBaseline));
  assert.ok(Math.abs((pool?.mainCeilingPerSec ?? 0) - 1e6 / 4.4) < 1e-6);
  assert.match(roundsNote(rounds), /pool@256 0\.50 0\.53 0\.59 \(median 0\.53\)/);
  assert.doesNotMatch(roundsNote(rounds), /raw@256 /, 'the baseline is not compared with itself');
});

test('rounds whose rows differ are refused', () => {
  const other = round([100, 8], [60, 4]).reverse();
  assert.throws(() => medianOfRounds([round([100, 8], [60, 4]), other]), /round 2: row 0 is pool@256, not raw@256/);
});

test('pool-uds --rounds 2: one row per configuration, the rounds in a note; --rounds 0 is a usage error', async () => {
  const quiet = { out: () => {}, err: () => {} };
  await assert.rejects(runBench(['pool-uds', '--rounds', '0'], quiet), UsageError);
  const jsonDir = join(dir, 'two');
  let err = '';
  const code = await runBench(
    ['pool-uds', '--rounds', '2', '--only', 'raw-uds@256,pool-w0@256', '--warmup', '50', '--duration', '200', '--json-dir', jsonDir],
    { out: () => {}, err: (t) => (err += t) },
  );
  assert.equal(code, 0, err);
  assert.match(err, /round 2 of 2/);
  const file = JSON.parse(readFileSync(join(jsonDir, 'pool-uds.json'), 'utf8')) as { rows: BenchRow[]; notes: string[] };
  assert.deepEqual(
    file.rows.map((r) => r.name),
    ['raw-uds@256', 'pool-w0@256'],
  );
  assert.ok((file.rows[1]?.requests ?? 0) > 0);
  assert.ok(file.notes.some((n) => /^2 rounds, .*pool-w0@256 \d\.\d\d \d\.\d\d \(median \d\.\d\d\)/.test(n)));
});
