// `zap bench import --quick --only root`: fresh node processes import the root by the package's
// name (through the exports map, so dist/ must be built) and the bare baseline imports nothing;
// the row carries its cost over the baseline. Checks the shape and sanity, not the target.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { median } from '../bench/scenarios/import.js';
import { benchJson } from './support/bench-json.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('median of odd and even counts', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('bench import measures the root against bare node in fresh processes', async () => {
  const { rows, out } = await benchJson<{ name: string; baseline: string; requests: number; extra: Record<string, number | string> }>(
    ['import', '--quick', '--only', 'root'],
    dir,
  );
  assert.deepEqual(
    rows.map((r) => r.name),
    ['bare node', 'root'],
  );
  const [bare, root] = rows;
  assert.ok(bare !== undefined && root !== undefined);
  assert.equal(root.baseline, 'bare node');
  assert.equal(root.requests, 3, '--quick: three runs per row');
  assert.equal(bare.extra['overBareMiB'], 0);
  assert.ok(
    (root.extra['importMs'] as number) > (bare.extra['importMs'] as number),
    'importing the root takes longer than importing nothing',
  );
  assert.ok((root.extra['rssMiB'] as number) > 0);
  assert.match(out, /overBareMs/);
});
