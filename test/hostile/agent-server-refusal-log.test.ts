// Issue 11 item 5: refusals a peer provokes at will are logged at most once per kind per interval,
// so a flood cannot flood the log; the next line says how many were left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedWarning } from '../../src/agent/rate-limited-warning.js';

test('refusal log flood: one line per kind per interval, the next one counts what was left out', () => {
  const lines: string[] = [];
  let now = 1_000_000;
  const log = new RateLimitedWarning(
    (l) => lines.push(l),
    60_000,
    () => now,
  );
  for (let i = 0; i < 10_000; i++) log.warn('maxConnections', 'refused a UDS connection');
  log.warn('frame', 'closed a slow frame');
  assert.deepEqual(lines, [
    'refused a UDS connection (logged at most once per 60 s)',
    'closed a slow frame (logged at most once per 60 s)',
  ]);
  now += 59_999;
  log.warn('maxConnections', 'refused a UDS connection');
  assert.equal(lines.length, 2);
  now += 1;
  log.warn('maxConnections', 'refused a UDS connection');
  assert.equal(lines[2], 'refused a UDS connection (10000 more since the last line)');
  now += 60_000;
  log.warn('maxConnections', 'refused a UDS connection');
  assert.equal(lines[3], 'refused a UDS connection (logged at most once per 60 s)');
});
