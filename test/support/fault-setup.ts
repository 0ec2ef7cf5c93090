// Shared settings of the fault-injection tests: how many calls are in flight, the pool shape
// that keeps them all dispatched at once, reconnect backoff and the recovery bound derived from it.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { AgentPool } from '../../src/pool/agent-pool.js';
import type { AgentPoolConfig } from '../../src/pool/pool-config.js';
import { fire, assertQuiescent, waitFor } from './fault-calls.js';

/** Calls in flight when a fault hits. */
export const IN_FLIGHT = 1_200;
const CONNECTIONS = 4;

export const BACKOFF = { reconnectInitialBackoffMs: 20, reconnectMaxBackoffMs: 200 } as const;
/**
 * Once the agent listens again, every connection slot's next attempt starts within
 * reconnectMaxBackoffMs (the delay is drawn from [d/2, d], d ≤ max); connect + handshake on a
 * loaded 2-core box fit in the slack.
 */
const RECOVERY_SLACK_MS = 2_000;
export const RECOVERY_BOUND_MS = BACKOFF.reconnectMaxBackoffMs + RECOVERY_SLACK_MS;
/** How long every call may take to settle once the fault has hit (they settle in ms; bugs never). */
export const SETTLE_BOUND_MS = 10_000;

/**
 * Four connections that together take every call at once (round-robin: 300 each, under the cap),
 * a request timeout far beyond the test, fast backoff, and a breaker that never opens (raw outcomes).
 */
export function faultPool(workers: number, extra: AgentPoolConfig = {}): AgentPool {
  const pool = new AgentPool({
    workers,
    connectionsPerAgent: CONNECTIONS,
    maxConcurrentPerConnection: IN_FLIGHT,
    requestTimeoutMs: 60_000,
    ...BACKOFF,
    circuitBreaker: { failureThreshold: 1_000_000 },
    ...extra,
  });
  after(() => pool.destroy());
  return pool;
}

/** Waits (within the recovery bound) until every connection is selectable again. */
export async function recovered(pool: AgentPool, agentId: string, boundMs = RECOVERY_BOUND_MS): Promise<void> {
  await waitFor(
    () => pool.agentStats(agentId).healthyConnections === CONNECTIONS,
    boundMs,
    () => {
      const connections = pool.agentStats(agentId).connections.map((c) => [c.id, c.state, c.health, c.lastError]);
      return `connections of '${agentId}' back: ${JSON.stringify(connections)}`;
    },
  );
}

/** A full batch of new calls succeeds, and nothing is left over. */
export async function trafficFlows(pool: AgentPool, agentId: string, prefix: string): Promise<void> {
  const ledger = fire(pool, agentId, IN_FLIGHT, prefix);
  assert.deepEqual(await ledger.allSettled(SETTLE_BOUND_MS), { allow: IN_FLIGHT });
  assertQuiescent(pool, agentId);
}
