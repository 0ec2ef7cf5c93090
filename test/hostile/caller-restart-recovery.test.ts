// Issue 11 item 8, "recovery after an agent restart": the pool reconnected within about a second,
// but callers got ZAP_CIRCUIT_OPEN for another 29 s. Now (spec §10.10, as Envoy un-ejects a host
// after a passing health check) a connection of an OPEN agent becoming ready, or answering a ping,
// moves the breaker to HALF_OPEN at once. With open_duration 30 s — far longer than these tests —
// a call admitted before it ends can only have come through that shortcut.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentPool } from '../../src/pool/agent-pool.js';
import type { HostReport } from '../../src/contract/host-messages.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { requestHeaders } from '../support/events.js';
import { FaultAgentProcess } from '../support/fault-agent-process.js';
import { waitFor } from '../support/fault-calls.js';
import { socketPath } from '../support/tmp.js';

const OPEN_DURATION_MS = 30_000;
/** Hang guard for reconnects and settles on a loaded 2-core box (they take milliseconds). */
const BOUND_MS = 15_000;

/** The first report of `type` for `agentId` (state reports: of that state) from now on. */
function nextReport(pool: AgentPool, agentId: string, match: (r: HostReport) => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pool.off('report', listener);
      reject(new Error(`no matching report for '${agentId}' within ${BOUND_MS} ms`));
    }, BOUND_MS);
    const listener = (id: string, r: HostReport) => {
      if (id !== agentId || !match(r)) return;
      clearTimeout(timer);
      pool.off('report', listener);
      resolve(Date.now());
    };
    pool.on('report', listener);
  });
}

async function call(pool: AgentPool, agentId: string, cid: string, timeoutMs = 5_000): Promise<string> {
  try {
    const r = await pool.sendRequestHeaders(agentId, cid, requestHeaders(cid), { timeoutMs });
    return r.synthetic === true ? 'synthetic' : r.decision.type;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe('recovery after an agent restart', () => {
  for (const workers of [0, 1]) {
    test(
      `workers: ${workers} — killed and restarted on the same socket: the first call after a ` +
        `connection is ready again is a probe, long before open_duration`,
      async (t) => {
        const path = socketPath('caller-restart');
        let agent = await FaultAgentProcess.start(path, { kind: 'normal' });
        const pool = new AgentPool({
          workers,
          connectionsPerAgent: 2,
          inlineBelowInFlight: 0, // with workers, both connections on the worker
          failureMode: 'closed',
          reconnectInitialBackoffMs: 20,
          reconnectMaxBackoffMs: 200,
          circuitBreaker: { failureThreshold: 5, successThreshold: 2, openDurationMs: OPEN_DURATION_MS },
        });
        after(() => pool.destroy());
        const agentId = `phoenix-${workers}`;
        const states: number[] = [];
        pool.on('circuit-state', (_id, s) => states.push(s));
        assert.deepEqual(await pool.addAgent(agentId, `unix:${path}`), { ready: 2, errors: [] });
        assert.equal(await call(pool, agentId, 'before'), 'allow');

        await agent.kill();
        await waitFor(() => pool.agentStats(agentId).healthyConnections === 0, BOUND_MS, 'connections seen as lost');
        // While it is down, calls fail as unavailable and open the breaker.
        const down: string[] = [];
        for (let i = 0; i < 5; i++) down.push(await call(pool, agentId, `down-${i}`));
        assert.deepEqual(down, Array(5).fill(ErrorCode.NoHealthyConnection));
        assert.equal(pool.circuitState(agentId), 1);
        const openedAt = Date.now();
        assert.equal(await call(pool, agentId, 'rejected'), ErrorCode.CircuitOpen);

        // Restarted on the same socket; the pool redials by itself. Wait for the ready report, not a timer.
        const ready = nextReport(pool, agentId, (r) => r.type === 'state' && r.state === 'ready');
        const restartedAt = Date.now();
        agent = await FaultAgentProcess.start(path, { kind: 'normal' });
        after(() => agent.kill());
        const readyAt = await ready;
        assert.equal(pool.circuitState(agentId), 2, 'HALF_OPEN as soon as a connection is ready');

        const probe = await call(pool, agentId, 'probe-1');
        const probedAt = Date.now();
        assert.equal(probe, 'allow', 'the first call after the ready connection is admitted as a probe');
        assert.ok(probedAt - openedAt < OPEN_DURATION_MS, 'admitted before open_duration ended: only the shortcut allows that');
        assert.equal(await call(pool, agentId, 'probe-2'), 'allow');
        assert.equal(pool.circuitState(agentId), 0, 'two probe successes close it');
        assert.deepEqual(states, [1, 2, 0]);
        assert.equal((await agent.stats()).received, 2, 'the rejected call never reached the agent; both probes did');
        t.diagnostic(
          `restart → ready ${readyAt - restartedAt} ms; opened → first probe served ${probedAt - openedAt} ` +
            `ms (open_duration ${OPEN_DURATION_MS} ms)`,
        );
        await pool.destroy();
      },
    );
  }

  test('a breaker opened by timeouts on a live connection: the Pong of a liveness ping makes the next call a probe', async (t) => {
    const path = socketPath('caller-pong');
    const agent = await FaultAgentProcess.start(path, { kind: 'hang' });
    after(() => agent.kill());
    // A short health-check interval: the maintenance tick pings connections marked unhealthy by
    // consecutive failures (spec §10.8) every 200 ms.
    const pool = new AgentPool({
      workers: 0,
      connectionsPerAgent: 1,
      failureMode: 'closed',
      healthCheckIntervalMs: 200,
      circuitBreaker: { failureThreshold: 5, successThreshold: 1, openDurationMs: OPEN_DURATION_MS },
    });
    after(() => pool.destroy());
    const states: number[] = [];
    pool.on('circuit-state', (_id, s) => states.push(s));
    await pool.addAgent('hung', `unix:${path}`);
    // The agent hangs: three timeouts mark its connection unhealthy (spec §10.6), two more calls
    // find no healthy connection; five failures open the breaker. The connection itself stays up.
    const failures: string[] = [];
    for (let i = 0; i < 5; i++) failures.push(await call(pool, 'hung', `t-${i}`, 30));
    assert.deepEqual(failures, [...Array(3).fill(ErrorCode.Timeout), ...Array(2).fill(ErrorCode.NoHealthyConnection)]);
    assert.equal(pool.circuitState('hung'), 1);
    const openedAt = Date.now();
    await agent.behave({ kind: 'normal' });
    await nextReport(pool, 'hung', (r) => r.type === 'pong');
    assert.equal(pool.circuitState('hung'), 2, 'HALF_OPEN on the Pong');
    assert.equal(await call(pool, 'hung', 'probe'), 'allow');
    assert.ok(Date.now() - openedAt < OPEN_DURATION_MS, 'admitted before open_duration ended');
    assert.deepEqual(states, [1, 2, 0]);
    t.diagnostic(`opened → probe served ${Date.now() - openedAt} ms`);
    await pool.destroy();
  });
});
