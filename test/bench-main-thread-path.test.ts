// bench/main-thread-path.ts runs the real router against a stand-in host: a short run completes every
// call with the reply written for it and prints a per-call CPU figure.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

test('the main-thread path bench settles every call with its own reply and prints CPU per call', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/main-thread-path.ts'], {
    env: { ...process.env, N: '3000', K: '32', ROUNDS: '2' },
    timeout: 60_000,
  });
  const median = /median (\d+\.\d+)/.exec(stdout);
  assert.ok(median !== null, stdout);
  const us = Number(median[1]);
  assert.ok(Number.isFinite(us) && us > 0, stdout);
  assert.match(stdout, /3000 calls × 2 rounds, 32 in flight/);
});
