// `zap bench pool-uds` with tiny settings: every row measures something, the result file has the
// documented shape, and the raw baseline sends the very bytes the pool sends.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../bench/sample-request.js';
import { readSchedstatCpuUs, readStatCpuUs, threadCpuClock } from '../bench/measure.js';
import { runBench } from '../src/cli/bench.js';
import { UsageError } from '../src/cli/cli-error.js';
import { jsonCodec } from '../src/protocol/payload-codec.js';
import { checkMainCpuColumns, checkSummaryTable } from './support/bench-main-cpu.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('zap bench', () => {
  test('the raw client and the pool send the same RequestHeaders JSON', () => {
    const cid = 'bench-cid-7';
    const pool = jsonCodec.encodeEvent('request_headers', sampleRequestHeaders(cid), cid).toString('utf8');
    assert.equal(JSON.stringify(sampleRequestHeadersWire(cid)), pool);
  });

  test('every request gets its own event objects, header record and value arrays included', () => {
    const a = sampleRequestHeaders('c1');
    const b = sampleRequestHeaders('c1');
    assert.deepEqual(a, b);
    assert.notEqual(a.headers, b.headers);
    assert.notEqual(a.headers['host'], b.headers['host']);
    assert.notEqual(a.metadata, b.metadata);
    const wa = sampleRequestHeadersWire('c1');
    const wb = sampleRequestHeadersWire('c1');
    assert.notEqual(wa['headers'], wb['headers']);
    assert.notEqual(wa['headers'], a.headers);
  });

  test('main-thread CPU is read from /proc when it exists', { skip: process.platform !== 'linux' }, () => {
    const us = readStatCpuUs(`/proc/self/task/${process.pid}/stat`);
    assert.ok(us !== undefined && us > 0, `expected CPU µs, got ${us}`);
    assert.equal(readStatCpuUs('/proc/self/task/0/no-such-file'), undefined);
    assert.equal(readSchedstatCpuUs('/proc/self/task/0/no-such-file'), undefined);
    const clock = threadCpuClock(process.pid);
    assert.ok(clock !== undefined);
    const before = clock() as number;
    let spin = 0;
    for (let i = 0; i < 2_000_000; i++) spin += i % 7;
    assert.ok(spin > 0 && (clock() as number) >= before && before > 0);
    assert.equal(threadCpuClock(0), undefined);
  });

  test('unknown scenario is a usage error', async () => {
    const quiet = { out: () => {}, err: () => {} };
    await assert.rejects(runBench(['no-such-scenario'], quiet), UsageError);
    await assert.rejects(runBench(['pool-uds', '--inflight', '0'], quiet), UsageError);
  });

  test('--only runs the named rows; a left-out baseline leaves the ratio empty', async () => {
    const jsonDir = join(dir, 'only');
    const quiet = { out: () => {}, err: () => {} };
    const code = await runBench(['pool-uds', '--only', 'pool-w0@1', '--warmup', '50', '--duration', '200', '--json-dir', jsonDir], quiet);
    assert.equal(code, 0);
    const file = JSON.parse(readFileSync(join(jsonDir, 'pool-uds.json'), 'utf8')) as { rows: Array<Record<string, unknown>> };
    assert.deepEqual(
      file.rows.map((r) => r['name']),
      ['pool-w0@1'],
    );
    assert.equal(file.rows[0]!['baseline'], 'raw-uds@1');
    assert.equal(file.rows[0]!['ratioToBaseline'], null);
    assert.ok((file.rows[0]!['reqPerSec'] as number) > 0);
    assert.equal(await runBench(['pool-uds', '--only', 'no-such-row', '--json-dir', jsonDir], quiet), 1);
  });

  test('pool-uds with tiny windows writes every row with a measured rate', async () => {
    const jsonDir = join(dir, 'results');
    let out = '';
    let err = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) };
    const code = await runBench(['pool-uds', '--warmup', '100', '--duration', '300', '--inflight', '16', '--json-dir', jsonDir], io);
    assert.equal(code, 0, err);
    assert.match(out, /^pool-uds — .*\nrow +workers/m);
    assert.match(out, /^pool-w2@1 /m);
    assert.match(out, /saved .*pool-uds\.json/);
    const file = JSON.parse(readFileSync(join(jsonDir, 'pool-uds.json'), 'utf8')) as {
      scenario: string;
      machine: { cpuModel: string; cores: number; node: string; loadAvgBefore: number };
      rows: Array<Record<string, unknown>>;
    };
    assert.equal(file.scenario, 'pool-uds');
    assert.equal(typeof file.machine.cpuModel, 'string');
    assert.ok(file.machine.cores >= 1);
    assert.equal(file.machine.node, process.version);
    assert.equal(typeof file.machine.loadAvgBefore, 'number');

    const names = file.rows.map((r) => r['name']);
    assert.deepEqual(names, [
      'raw-uds@16',
      'pool-w0@16',
      'pool-w1@16',
      'pool-w2@16',
      'pool-w0-c1@16',
      'pool-w1-hop@16',
      'raw-uds@1',
      'pool-w0@1',
      'pool-w1@1',
      'pool-w2@1',
      'pool-w1-hop@1',
    ]);
    checkMainCpuColumns(file.rows);
    assert.equal(file.rows.find((r) => r['name'] === 'pool-w0-c1@16')!['p50At1Us'], null);
    checkSummaryTable(out, 16, names.slice(0, 6) as string[]);
    for (const row of file.rows) {
      const name = String(row['name']);
      for (const key of ['reqPerSec', 'p50Us', 'p99Us', 'p999Us', 'mainCpuUsPerReq', 'ratioToBaseline', 'workers', 'inflight']) {
        assert.equal(typeof row[key], 'number', `${name}.${key}`);
      }
      assert.equal(row['transport'], 'uds');
      assert.ok((row['reqPerSec'] as number) > 0, `${name} measured no requests`);
      assert.equal(row['errors'], 0, `${name}: ${String(row['firstError'])}`);
      assert.ok((row['p50Us'] as number) <= (row['p99Us'] as number) && (row['p99Us'] as number) <= (row['p999Us'] as number), name);
      const baseline = file.rows.find((r) => r['name'] === row['baseline']);
      assert.ok(baseline !== undefined, `${name} names a missing baseline`);
      assert.equal(baseline['inflight'], row['inflight']);
      if (name.startsWith('raw-uds')) assert.equal(row['ratioToBaseline'], 1);
      else
        assert.ok(Math.abs((row['ratioToBaseline'] as number) - (row['reqPerSec'] as number) / (baseline['reqPerSec'] as number)) < 1e-9);
    }
  });
});
