// Issue 11 item 8, second half: "connection lost while outstanding" surfaced as the catch-all
// ZAP_ERROR, so a caller could not tell a dead agent from a bug in the pool. Now it is
// ZAP_CONNECTION_LOST on every transport (spec §10.11), a failure for the breaker (§10.10) and
// agent_errors_total{kind="connection_lost"}. Real agent processes, killed with calls in flight,
// through a real pool (workers 0 and 1); and the host's "connection already gone" path.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConnectionHost } from '../../src/connection/connection-host.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import type { ResultItem } from '../../src/contract/host-messages.js';
import { AgentPoolError, ErrorCode } from '../../src/protocol/errors.js';
import { requestHeaders } from '../support/events.js';
import { FaultAgentProcess } from '../support/fault-agent-process.js';
import { waitFor } from '../support/fault-calls.js';
import { socketPath } from '../support/tmp.js';

const IN_FLIGHT = 50;
/** Hang guard: settling takes milliseconds once the agent is gone. */
const BOUND_MS = 15_000;

function lostPool(workers: number): AgentPool {
  const pool = new AgentPool({
    workers,
    connectionsPerAgent: 2,
    inlineBelowInFlight: 0, // with workers, both connections on the worker
    failureMode: 'closed',
    requestTimeoutMs: 60_000,
    circuitBreaker: { failureThreshold: 5, openDurationMs: 30_000 },
  });
  after(() => pool.destroy());
  return pool;
}

function fireCalls(pool: AgentPool, agentId: string): Promise<Array<PromiseSettledResult<unknown>>> {
  return Promise.allSettled(
    Array.from({ length: IN_FLIGHT }, (_, i) => pool.sendRequestHeaders(agentId, `l-${i}`, requestHeaders(`l-${i}`))),
  );
}

async function assertAllLost(pool: AgentPool, agentId: string, settled: Array<PromiseSettledResult<unknown>>): Promise<void> {
  for (const r of settled) {
    assert.equal(r.status, 'rejected');
    const err = (r as PromiseRejectedResult).reason as unknown;
    assert.ok(err instanceof AgentPoolError, String(err));
    assert.equal(err.code, ErrorCode.ConnectionLost, err.message);
    assert.match(err.message, /lost/);
    assert.equal(err.agentId, agentId);
  }
  assert.equal(pool.circuitState(agentId), 1, 'counted as failures: the breaker opened');
  const text = await pool.metrics();
  assert.match(text, new RegExp(`agent_errors_total\\{agent="${agentId}",kind="connection_lost"\\} ${IN_FLIGHT}\\n`));
  assert.doesNotMatch(text, new RegExp(`agent_errors_total\\{agent="${agentId}",kind="error"\\}`));
}

describe('connection lost while outstanding → ZAP_CONNECTION_LOST', () => {
  for (const workers of [0, 1]) {
    test(`UDS, workers: ${workers} — agent process killed with ${IN_FLIGHT} calls in flight`, async () => {
      const path = socketPath('caller-lost');
      const agent = await FaultAgentProcess.start(path, { kind: 'hang' });
      const pool = lostPool(workers);
      const agentId = `uds-lost-${workers}`;
      await pool.addAgent(agentId, `unix:${path}`);
      const calls = fireCalls(pool, agentId);
      await waitFor(async () => (await agent.stats()).received >= IN_FLIGHT, BOUND_MS, 'the agent received every event');
      await agent.kill();
      await assertAllLost(pool, agentId, await calls);
      await pool.destroy();
    });

    test(`gRPC, workers: ${workers} — agent process killed with ${IN_FLIGHT} calls on its stream`, async () => {
      const child = fork(fileURLToPath(new URL('../support/grpc-hanging-agent.ts', import.meta.url)), [], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => /listening \S+/.test(out), BOUND_MS, 'the gRPC agent listens');
      const endpoint = (/listening (\S+)/.exec(out) as RegExpExecArray)[1] as string;
      const pool = lostPool(workers);
      const agentId = `grpc-lost-${workers}`;
      await pool.addAgent(agentId, endpoint);
      const calls = fireCalls(pool, agentId);
      // The agent prints "got N" every 100 events, so count what left the pool instead.
      await waitFor(
        () => pool.agentStats(agentId).connections.reduce((n, c) => n + c.inFlight, 0) === IN_FLIGHT,
        BOUND_MS,
        'every call on a stream',
      );
      child.kill('SIGKILL');
      await once(child, 'exit');
      await assertAllLost(pool, agentId, await calls);
      await pool.destroy();
    });
  }

  test('the router routed to a connection its host had already closed: ZAP_CONNECTION_LOST, not an internal ZAP_ERROR', async () => {
    const results: ResultItem[] = [];
    const host = new ConnectionHost({ result: (item) => results.push(item), report: () => {} });
    try {
      host.send([7, 999, 'gone-1', Buffer.alloc(0), 0]);
      assert.equal(results.length, 1);
      const [id, response, error] = results[0] as ResultItem;
      assert.equal(id, 7);
      assert.equal(response, null);
      assert.equal(error?.code, ErrorCode.ConnectionLost);
      assert.equal(error?.correlationId, 'gone-1');
      assert.match(error?.message ?? '', /connection 999 closed before the event was written/);
    } finally {
      await host.terminate();
    }
  });
});
