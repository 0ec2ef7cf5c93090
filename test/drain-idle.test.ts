// Drain without polling (issue 12): a connection drain and a pool drain end on the settle of the
// last call itself (an idle promise), not on the next tick of a 10 ms / 5 ms polling timer. Real
// UDS agents; "before any timer turn" is checked with setImmediate, an ordering, not a duration.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ConnectionActor } from '../src/connection/connection-actor.js';
import type { FramedConnection } from '../src/connection/framed-connection.js';
import { AgentServer } from '../src/agent/agent-server.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { AgentGate } from './support/model-agent-gate.js';
import { openCommand } from './support/model-connection-driver.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

const nextMacrotask = () => new Promise((r) => setImmediate(r));
const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('connection drain without polling', () => {
  test('drain by polling: ConnectionActor.drain() arms no timer, and DRAINED comes with the last reply', async () => {
    const gate = await AgentGate.start();
    gate.setConnectable(true);
    gate.plan('accept');
    const actor = new ConnectionActor(openCommand(gate.endpoint, true), { state: () => {}, established: () => {} });
    actor.start();
    try {
      assert.equal(await gate.until(() => actor.state === 'ready'), true);
      const connection = actor.connection as FramedConnection;
      const reply = connection.send('request_headers', requestHeaders('held', '/hold'), 'held');
      assert.equal(await gate.until(() => gate.heldCount === 1), true);
      const before = activeTimers();
      actor.drain();
      assert.equal(actor.state, 'draining');
      assert.equal(activeTimers(), before, 'drain() waits on the call table, not on an interval');
      gate.release();
      await reply;
      await nextMacrotask();
      assert.equal(actor.state, 'closed', 'closed on the reply itself, before any timer turn');
    } finally {
      actor.close();
      await gate.close();
    }
  });
});

describe('pool drain without polling', () => {
  async function gatedPool(agentId: string) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived = 0;
    const path = socketPath();
    const server = new AgentServer({
      agentId,
      handler: {
        onRequestHeaders: async () => {
          arrived++;
          await gate;
          return {};
        },
      },
    });
    await server.listen(path);
    after(() => server.close());
    const pool = new AgentPool({ workers: 0, drainTimeoutMs: 10_000 });
    after(() => pool.destroy());
    await pool.addAgent(agentId, `unix:${path}`);
    const calls = Array.from({ length: 3 }, (_, i) => pool.sendRequestHeaders(agentId, `c${i}`, requestHeaders(`c${i}`)));
    await waitFor(() => arrived === 3);
    return { pool, calls, release };
  }

  const drains: Array<[string, (pool: AgentPool, agentId: string) => Promise<void>]> = [
    ['drainAgent', (pool, id) => pool.drainAgent(id)],
    ['removeAgent', (pool, id) => pool.removeAgent(id)],
  ];
  for (const [name, drain] of drains) {
    test(`drain by polling: ${name} ends with the last call it waits for, before any timer turn`, async () => {
      const agentId = `di-${name}`;
      const { pool, calls, release } = await gatedPool(agentId);
      let ended = false;
      const ending = drain(pool, agentId).then(() => (ended = true));
      await nextMacrotask();
      assert.equal(ended, false, 'waits while calls are in flight');
      release();
      const results = await Promise.allSettled(calls);
      assert.ok(
        results.every((r) => r.status === 'fulfilled'),
        'the in-flight calls were answered, not cancelled',
      );
      await nextMacrotask();
      assert.equal(ended, true);
      await ending;
      assert.deepEqual(pool.agentIds(), name === 'removeAgent' ? [] : [agentId]);
    });
  }

  test('the drain bound still holds: a call that never answers is cancelled at drainTimeoutMs', async () => {
    const path = socketPath();
    const server = new AgentServer({ agentId: 'di-bound', handler: { onRequestHeaders: () => new Promise(() => {}) } });
    await server.listen(path);
    after(() => server.close());
    const pool = new AgentPool({ workers: 0, drainTimeoutMs: 50 });
    after(() => pool.destroy());
    await pool.addAgent('di-bound', `unix:${path}`);
    const call = pool.sendRequestHeaders('di-bound', 'stuck', requestHeaders('stuck'));
    await pool.removeAgent('di-bound');
    await assert.rejects(call, { code: 'ABORT_ERR' });
  });
});
