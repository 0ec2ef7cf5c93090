// `zap bench grpc`, `reverse-uds` and `reverse-tcp` with tiny windows: the rows the scenarios
// promise, the documented JSON shape, a measured rate in every row, ratios against the right
// baseline; and the raw gRPC client sends the very bytes the pool's gRPC encoder sends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeRawProxyToAgent, sampleRequestHeadersProto } from '../bench/raw-grpc-client.js';
import { sampleRequestHeaders } from '../bench/sample-request.js';
import type { ScenarioSettings } from '../bench/scenario.js';
import { findScenario } from '../bench/scenarios/index.js';
import { reverseLoads, workerSweep } from '../bench/scenarios/reverse.js';
import { grpcEventEncoder } from '../src/transport/grpc-event-encoder.js';
import { checkMainCpuColumns, checkSummaryTable } from './support/bench-main-cpu.js';
import { benchJson, type Row } from './support/bench-json.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-grpc-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bench = (args: string[]) => benchJson([...args, '--warmup', '50', '--duration', '150'], join(dir, args[0] as string));

/** Every row: the documented numeric fields, a measured rate, no errors, a consistent ratio. */
function checkRows(rows: Row[], transportOf: (name: string) => string): void {
  for (const row of rows) {
    const name = String(row['name']);
    for (const key of [
      'reqPerSec',
      'p50Us',
      'p99Us',
      'p999Us',
      'mainCpuUsPerReq',
      'processCpuUsPerReq',
      'workers',
      'inflight',
      'connectionsPerAgent',
    ]) {
      assert.equal(typeof row[key], 'number', `${name}.${key}`);
    }
    assert.equal(row['transport'], transportOf(name), name);
    assert.ok((row['reqPerSec'] as number) > 0, `${name} measured no requests`);
    assert.equal(row['errors'], 0, `${name}: ${String(row['firstError'])}`);
    assert.ok((row['p50Us'] as number) <= (row['p99Us'] as number) && (row['p99Us'] as number) <= (row['p999Us'] as number), name);
    const baseline = rows.find((r) => r['name'] === row['baseline']);
    assert.ok(baseline !== undefined, `${name} names a missing baseline ${String(row['baseline'])}`);
    assert.equal(baseline['inflight'], row['inflight'], name);
    if (baseline === row) assert.equal(row['ratioToBaseline'], 1, name);
    else
      assert.ok(
        Math.abs((row['ratioToBaseline'] as number) - (row['reqPerSec'] as number) / (baseline['reqPerSec'] as number)) < 1e-9,
        name,
      );
  }
}

describe('zap bench grpc / reverse-uds / reverse-tcp', () => {
  test('the raw gRPC client and the pool encode the same RequestHeaders bytes', () => {
    const cid = 'bench-cid-9';
    const pool = grpcEventEncoder.encode('request_headers', sampleRequestHeaders(cid), cid);
    assert.deepEqual(encodeRawProxyToAgent(sampleRequestHeadersProto(cid)), Buffer.from(pool));
  });

  test('the scenarios are registered; reverse sweeps 256/16/1 in flight and workers 0, 1, 2 … cores', () => {
    for (const name of ['grpc', 'reverse-uds', 'reverse-tcp', 'reverse']) assert.ok(findScenario(name), name);
    const settings = { inflight: 256 } as ScenarioSettings;
    assert.deepEqual(reverseLoads(settings), [256, 16, 1]);
    assert.deepEqual(reverseLoads({ inflight: 16 } as ScenarioSettings), [16, 1]);
    const sweep = workerSweep();
    assert.deepEqual(sweep.slice(0, 3), [0, 1, 2]);
    assert.ok(
      sweep.every((w, i) => i < 3 || (w <= availableParallelism() && w === 2 * (sweep[i - 1] as number))),
      String(sweep),
    );
  });

  test('grpc: raw baseline, pool rows by workers × connections, then 1 in flight', async () => {
    // A subset keeps the test short (each worker pool starts threads); the row plan is the scenario's order.
    const only = ['raw-grpc@8', 'pool-w0-c4@8', 'pool-w0-c1@8', 'pool-w1-c4@8', 'raw-grpc@1', 'pool-w0-c4@1'];
    const { rows, notes, out } = await bench(['grpc', '--inflight', '8', '--only', only.join(',')]);
    assert.deepEqual(
      rows.map((r) => r['name']),
      only,
    );
    checkRows(rows, () => 'grpc');
    checkMainCpuColumns(rows);
    checkSummaryTable(out, 8, only.slice(0, 4));
    for (const row of rows) {
      const name = String(row['name']);
      assert.equal(row['baseline'], `raw-grpc@${String(row['inflight'])}`, name);
      assert.equal(row['connectionsPerAgent'], name.startsWith('raw') ? 1 : Number(/-c(\d)@/.exec(name)?.[1]), name);
      const vsRef = (row['extra'] as Record<string, unknown> | undefined)?.['×ref28K'];
      if (row['inflight'] === 1) assert.equal(vsRef, null, name);
      else assert.ok(Math.abs((vsRef as number) - (row['reqPerSec'] as number) / 28_000) < 1e-9, name);
    }
    assert.ok(
      notes.some((n) => /best pool row pool-w\d-c\d@8: .*28K/.test(n)),
      notes.join('\n'),
    );
    assert.match(out, /^raw-grpc@8 /m);
  });

  for (const [scenario, rev] of [
    ['reverse-uds', 'rev-uds'],
    ['reverse-tcp', 'rev-tcp'],
  ] as const) {
    test(`${scenario}: forward UDS baseline right before each reverse row (workers 0)`, async () => {
      const only = ['fwd-uds-w0@16', `${rev}-w0@16`, 'fwd-uds-w0@1', `${rev}-w0@1`].join(',');
      const { rows } = await bench([scenario, '--inflight', '16', '--only', only]);
      assert.deepEqual(
        rows.map((r) => r['name']),
        only.split(','),
      );
      checkRows(rows, (name) => (name.startsWith('fwd-') ? 'uds' : scenario));
      for (const row of rows) {
        assert.equal(row['baseline'], `fwd-uds-w0@${String(row['inflight'])}`);
        assert.equal(row['connectionsPerAgent'], 4);
      }
    });
  }
});
