// Replies the pool no longer (or never) waits for, from a real agent process that answers whatever
// the test tells it to (test/support/fault-agent.ts): a reply with a stale or an unknown
// correlation id must not settle another call waiting on the same connection, and is counted in
// lateReplies; a Cancel goes to the connection that carried the event, and nowhere else.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { AgentPool } from '../src/pool/agent-pool.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { requestHeaders } from './support/events.js';
import { FaultAgentProcess } from './support/fault-agent-process.js';
import { fire } from './support/fault-calls.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

const BOUND_MS = 10_000;

let agent: FaultAgentProcess;
let endpoint: string;
before(async () => {
  const path = socketPath('stray');
  agent = await FaultAgentProcess.start(path, { kind: 'hang' });
  endpoint = `unix:${path}`;
});

/** Every connection on a worker when there are workers: the round-robin markers below count on all four. */
function newPool(workers: number, connectionsPerAgent: number): AgentPool {
  return new AgentPool({
    workers,
    connectionsPerAgent,
    inlineBelowInFlight: 0,
    requestTimeoutMs: 60_000,
    circuitBreaker: { failureThreshold: 1_000_000 },
  });
}

describe('stray replies', () => {
  for (const workers of [0, 1]) {
    test(
      `stray reply (workers ${workers}): replies with a stale and an unknown correlation id do not ` +
        `settle the call waiting on the same connection; both are counted in lateReplies`,
      async () => {
        await agent.behave({ kind: 'hang' });
        const base = await agent.stats();
        const pool = newPool(workers, 1);
        try {
          const id = `sr${workers}`;
          await pool.addAgent(id, endpoint);
          const stale = pool.sendRequestHeaders(id, `${id}-stale`, requestHeaders(`${id}-stale`), { timeoutMs: 500 });
          let waitingSettled = false;
          const waiting = pool.sendRequestHeaders(id, `${id}-waiting`, requestHeaders(`${id}-waiting`));
          waiting.then(
            () => (waitingSettled = true),
            () => (waitingSettled = true),
          );
          await agent.statsWhen((s) => s.received - base.received === 2);
          await assert.rejects(stale, { code: 'ZAP_TIMEOUT' });
          // Once the agent has the Cancel, the connection has forgotten the call (with workers, a
          // reply that overtakes the Cancel reaches the router instead and counts as a late result).
          await agent.statsWhen((s) => s.cancels - base.cancels === 1);

          assert.equal(await agent.reply(`${id}-stale`), 1, 'the stale reply, after its call timed out');
          assert.equal(await agent.reply(`${id}-never-sent`), 1, 'a reply to a cid nobody asked about');
          await waitFor(() => pool.agentStats(id).lateReplies === 2, BOUND_MS);
          assert.equal(waitingSettled, false, 'neither reply settled the call waiting on that connection');
          assert.equal(pool.agentStats(id).totalInFlight, 1);

          // Its own reply does settle it, and counts as nothing late.
          assert.equal(await agent.reply(`${id}-waiting`), 1);
          const response = await waiting;
          assert.equal(response.decision.type, 'allow');
          assert.equal(pool.agentStats(id).lateReplies, 2);
          assert.equal(pool.stats().lateResults, 0, 'late replies stop at the connection');
          assert.equal(pool.stats().inFlight, 0);
        } finally {
          await pool.destroy();
        }
      },
    );
  }

  test(
    'late replies: an aborted and a timed-out call are cancelled on their carrying connection only; ' +
      'the agent answers them anyway and both replies are dropped and counted',
    async () => {
      await agent.behave({ kind: 'hang' });
      const base = await agent.stats();
      const pool = newPool(1, 4);
      try {
        await pool.addAgent('late', endpoint);
        const ac = new AbortController();
        const aborted = pool.sendRequestHeaders('late', 'late-x1', requestHeaders('late-x1'), {
          signal: ac.signal,
          cancelReason: 'client_disconnect',
        });
        await agent.statsWhen((s) => s.received - base.received === 1);
        ac.abort();
        await assert.rejects(aborted, (err: unknown) => err instanceof AgentPoolError && err.code === 'ABORT_ERR');
        await assert.rejects(pool.sendRequestHeaders('late', 'late-x2', requestHeaders('late-x2'), { timeoutMs: 500 }), {
          code: 'ZAP_TIMEOUT',
        });
        const cancelled = await agent.statsWhen((s) => s.cancels - base.cancels === 2);
        assert.equal(cancelled.received - base.received, 2);

        // The agent ignores the Cancels and answers (here: on every connection, carrier or not).
        assert.equal(await agent.reply('late-x1'), 4);
        assert.equal(await agent.reply('late-x2'), 4);
        await waitFor(() => pool.agentStats('late').lateReplies === 8, BOUND_MS);
        assert.equal(pool.stats().lateResults, 0);

        // Positive marker: one call on each connection (round-robin), written after any Cancel the
        // pool could have sent; once all four are answered, every Cancel has reached the agent.
        await agent.behave({ kind: 'normal' });
        const marker = fire(pool, 'late', 4, 'late-m');
        assert.deepEqual(await marker.allSettled(BOUND_MS), { allow: 4 });
        assert.deepEqual(new Set(pool.agentStats('late').connections.map((c) => c.dispatched)), new Set([1, 2]));
        const s = await agent.stats();
        assert.equal(s.cancels - base.cancels, 2, 'one Cancel per call, not one per connection');
        assert.equal(s.strayCancels - base.strayCancels, 0, 'each Cancel went on the connection that carried its event');
        assert.equal((s.cancelReasons.client_disconnect ?? 0) - (base.cancelReasons.client_disconnect ?? 0), 1);
        assert.equal((s.cancelReasons.timeout ?? 0) - (base.cancelReasons.timeout ?? 0), 1);
        assert.equal(pool.agentStats('late').lateReplies, 8);
        assert.equal(pool.stats().inFlight, 0);
      } finally {
        await pool.destroy();
      }
    },
  );
});
