// `zap bench gateway --quick` with tiny windows: the undici baseline and the 0, 1 and 3 agent rows
// all measure requests without errors, name the baseline, and carry the added latency and the
// main-thread share.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BenchRow } from '../bench/scenario.js';
import { benchJson } from './support/bench-json.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-gateway-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('zap bench gateway --quick: undici baseline, then zap gateway with 0, 1 and 3 agents', async () => {
  const { rows } = await benchJson<BenchRow>(['gateway', '--quick', '--warmup', '100', '--duration', '500', '--inflight', '8'], dir);
  assert.deepEqual(
    rows.map((r) => r.name),
    ['undici-proxy', 'gateway-0-agents', 'gateway-1-agent', 'gateway-3-agents'],
  );
  for (const row of rows) {
    assert.equal(row.errors, 0, `${row.name}: ${String(row.firstError)}`);
    assert.ok(row.requests > 0 && row.reqPerSec > 0, `${row.name} measured no requests`);
    assert.equal(row.baseline, 'undici-proxy');
    assert.ok(row.p50Us <= row.p99Us, row.name);
    const extra = row.extra ?? {};
    assert.ok('addedP50Us' in extra && 'addedP99Us' in extra && 'mainThreadShare' in extra, row.name);
    if (process.platform === 'linux') {
      const share = extra['mainThreadShare'];
      assert.ok(typeof share === 'number' && share > 0 && share <= 1, `${row.name}: main-thread share ${String(share)}`);
    }
    if (row.name !== 'undici-proxy') assert.equal(typeof extra['addedP50Us'], 'number', row.name);
  }
  assert.equal(rows.find((r) => r.name === 'gateway-0-agents')?.agentCpuPct, null, 'no agent consulted without agents');
  assert.equal(typeof rows.find((r) => r.name === 'gateway-3-agents')?.agentCpuPct, 'number');
});
