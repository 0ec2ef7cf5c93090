// `zap bench reference` with tiny settings: every row of both transports measured without errors,
// each compared with the crate-against-crate row of its transport, and the same event and encoding
// on every row (MessagePack on UDS is checked inside the scenario).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BenchRow } from '../../../bench/scenario.js';
import { runBench } from '../../../src/cli/bench.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-ref-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('reference bench: the crate and zap side by side, each row against the crate-to-crate baseline', async () => {
  let err = '';
  const code = await runBench(['reference', '--warmup', '100', '--duration', '300', '--inflight', '8', '--json-dir', dir], {
    out: () => {},
    err: (t) => (err += t),
  });
  assert.equal(code, 0, err);
  const { rows } = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { rows: BenchRow[] };
  const expected = ['uds', 'grpc'].flatMap((t) => [
    `${t}:ref-proxy>ref-agent@8`,
    `${t}:ref-proxy>zap-echo@8`,
    `${t}:zap-w0>ref-agent@8`,
    `${t}:zap-w1>ref-agent@8`,
  ]);
  assert.deepEqual(
    rows.map((r) => r.name),
    expected,
  );
  for (const row of rows) {
    assert.equal(row.errors, 0, `${row.name}: ${row.firstError}`);
    assert.ok(row.requests > 0 && row.reqPerSec > 0, row.name);
    assert.ok(row.p50Us > 0 && row.p99Us >= row.p50Us, row.name);
    assert.ok(row.processCpuUsPerReq > 0, row.name);
    assert.equal(row.inflight, 8);
    assert.equal(row.baseline, `${row.transport}:ref-proxy>ref-agent@8`);
    assert.ok(Number.isFinite(row.ratioToBaseline), row.name);
  }
});
