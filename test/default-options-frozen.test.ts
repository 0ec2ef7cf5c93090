// DEFAULT_AGENT_OPTIONS is mutable (issue 11 item 9): it is the base of every pool, so a write to it
// (or to its nested circuitBreaker) would silently change every pool created afterwards. Now deeply
// frozen; resolving options over it still yields fresh, writable objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentPool } from '../src/pool/agent-pool.js';
import { DEFAULT_AGENT_OPTIONS, resolveAgentOptions } from '../src/pool/pool-config.js';

test('DEFAULT_AGENT_OPTIONS is mutable: now frozen, nested circuitBreaker included; writes throw', () => {
  assert.ok(Object.isFrozen(DEFAULT_AGENT_OPTIONS));
  assert.ok(Object.isFrozen(DEFAULT_AGENT_OPTIONS.circuitBreaker));
  const writable = DEFAULT_AGENT_OPTIONS as unknown as Record<string, unknown> & { circuitBreaker: Record<string, unknown> };
  assert.throws(() => {
    writable['requestTimeoutMs'] = 1;
  }, TypeError);
  assert.throws(() => {
    writable.circuitBreaker['failureThreshold'] = 1;
  }, TypeError);
  assert.equal(DEFAULT_AGENT_OPTIONS.requestTimeoutMs, 30_000);
  assert.equal(DEFAULT_AGENT_OPTIONS.circuitBreaker.failureThreshold, 5);
});

test('DEFAULT_AGENT_OPTIONS is mutable: resolving over the frozen defaults gives fresh writable options; a pool starts', async () => {
  const resolved = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, { requestTimeoutMs: 7 }, 'test');
  assert.ok(!Object.isFrozen(resolved));
  assert.notEqual(resolved.circuitBreaker, DEFAULT_AGENT_OPTIONS.circuitBreaker);
  resolved.circuitBreaker.failureThreshold = 9;
  assert.equal(DEFAULT_AGENT_OPTIONS.circuitBreaker.failureThreshold, 5);
  const pool = new AgentPool({ workers: 0, requestTimeoutMs: 1_000 });
  await pool.close();
});
