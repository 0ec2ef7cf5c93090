// The consecutive-failure rule at pool level (spec §10.6, §10.8), one connection, a real agent
// process that never answers events but does answer pings: two timeouts leave the connection
// selectable, the third marks it unhealthy (calls fail fast), the maintenance tick pings it, and
// the Pong alone makes it selectable again. A call kept in flight on the connection throughout
// stops the idle-liveness ping, so the ping the agent sees is the maintenance one.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { AgentPool } from '../src/pool/agent-pool.js';
import { CONSECUTIVE_FAILURE_LIMIT } from '../src/pool/health-report-state.js';
import { requestHeaders } from './support/events.js';
import { FaultAgentProcess } from './support/fault-agent-process.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

const BOUND_MS = 10_000;

let agent: FaultAgentProcess;
let endpoint: string;
before(async () => {
  const path = socketPath('unhealthy');
  agent = await FaultAgentProcess.start(path, { kind: 'hang' });
  endpoint = `unix:${path}`;
});

for (const workers of [0, 1]) {
  test(
    `unhealthy by failures (workers ${workers}): ${CONSECUTIVE_FAILURE_LIMIT} timeouts mark the ` +
      `connection unhealthy, the maintenance ping goes out, the Pong makes it selectable again`,
    async () => {
      assert.equal(CONSECUTIVE_FAILURE_LIMIT, 3, 'spec §10.6: three consecutive failures');
      const base = await agent.stats();
      const pool = new AgentPool({
        workers,
        connectionsPerAgent: 1,
        requestTimeoutMs: 60_000,
        healthCheckIntervalMs: 50,
        pingTimeoutMs: 5_000,
        circuitBreaker: { failureThreshold: 1_000_000 },
      });
      const id = `uh${workers}`;
      try {
        await pool.addAgent(id, endpoint);
        const health = () => pool.agentStats(id).connections[0]?.health;

        // A call that stays in flight: the connection is never idle, so liveness does not ping it.
        let heldSettled = false;
        const held = pool.sendRequestHeaders(id, `${id}-held`, requestHeaders(`${id}-held`));
        held.then(
          () => (heldSettled = true),
          () => (heldSettled = true),
        );
        await agent.statsWhen((s) => s.received - base.received === 1);

        for (let i = 1; i <= 3; i++) {
          await assert.rejects(pool.sendRequestHeaders(id, `${id}-t${i}`, requestHeaders(`${id}-t${i}`), { timeoutMs: 60 }), {
            code: 'ZAP_TIMEOUT',
          });
          if (i < 3) {
            assert.equal(health(), 'healthy', `after ${i} failure(s)`);
            assert.equal(pool.agentStats(id).healthyConnections, 1);
          }
        }
        assert.equal(health(), 'unhealthy', 'after the third consecutive failure');
        assert.equal(pool.agentStats(id).healthyConnections, 0);
        await assert.rejects(pool.sendRequestHeaders(id, `${id}-fast`, requestHeaders(`${id}-fast`)), {
          code: 'ZAP_NO_HEALTHY_CONNECTION',
        });

        // The maintenance tick pings it; the agent answers the ping (and still no event).
        const pinged = await agent.statsWhen((s) => s.pings - base.pings >= 1);
        await waitFor(() => pool.agentStats(id).healthyConnections === 1, BOUND_MS);
        assert.equal(health(), 'healthy');
        assert.equal(pinged.answered - base.answered, 0, 'no event was answered: the Pong cleared the mark');
        assert.equal(heldSettled, false, 'the held call is still waiting');
        assert.equal(pool.agentStats(id).connections[0]?.state, 'ready', 'the same connection, not a replacement');
        assert.equal((await agent.stats()).handshakes - base.handshakes, 1);

        // Selectable again: a new call goes out on it (and is answered once the agent is).
        await agent.behave({ kind: 'normal' });
        const again = await pool.sendRequestHeaders(id, `${id}-again`, requestHeaders(`${id}-again`));
        assert.equal(again.decision.type, 'allow');
        assert.equal(pool.cancelRequest(id, `${id}-held`, 'manual'), true);
        await assert.rejects(held, { code: 'ABORT_ERR' });
      } finally {
        await agent.behave({ kind: 'hang' });
        await pool.destroy();
      }
    },
  );
}
