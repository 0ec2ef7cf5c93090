// Fault injection on processes and threads with 1 200 calls in flight: the agent process is
// SIGKILLed and restarted on the same socket path (at once, and after a pause), a connection-host
// worker thread is killed, and the circuit breaker is left to open under the fault. Every call
// settles exactly once with its typed outcome, nothing stays in flight, and the pool uses the agent
// again by itself — same connection slots, no addAgent — within the reconnect backoff bound.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import type { AgentPool } from '../src/pool/agent-pool.js';
import type { AgentPoolConfig } from '../src/pool/pool-config.js';
import type { StateReport } from '../src/contract/host-messages.js';
import { FaultAgentProcess, type Behaviour } from './support/fault-agent-process.js';
import { assertQuiescent, CallLedger, fire, sleep, waitFor } from './support/fault-calls.js';
import { requestHeaders } from './support/events.js';
import { BACKOFF, faultPool, IN_FLIGHT, recovered, RECOVERY_BOUND_MS, SETTLE_BOUND_MS, trafficFlows } from './support/fault-setup.js';
import { socketPath } from './support/tmp.js';
import { killWorker } from '../src/testing-entry.js';

/** No light-load connection on the calling thread: every call is on the worker that dies. */
const ALL_ON_THE_WORKER: AgentPoolConfig = { inlineBelowInFlight: 0 };

/** A replacement worker thread has to start (and, under tsx, compile) before it can redial. */
const WORKER_RESTART_BOUND_MS = 15_000 + RECOVERY_BOUND_MS;

interface Scene {
  path: string;
  agent: FaultAgentProcess;
  pool: AgentPool;
  agentId: string;
  ids: number[];
  ledger: CallLedger;
}

/** An agent process, a pool with its four connections ready, and IN_FLIGHT calls the agent has all received. */
async function scene(workers: number, agentId: string, behaviour: Behaviour, extra: AgentPoolConfig = {}): Promise<Scene> {
  const path = socketPath('fault-proc');
  const agent = await FaultAgentProcess.start(path, behaviour);
  const pool = faultPool(workers, extra);
  assert.deepEqual(await pool.addAgent(agentId, `unix:${path}`), { ready: 4, errors: [] });
  const ids = pool.agentStats(agentId).connections.map((c) => c.id);
  const ledger = fire(pool, agentId, IN_FLIGHT, `${agentId}-a`);
  await waitFor(async () => (await agent.stats()).received >= IN_FLIGHT, SETTLE_BOUND_MS, 'the agent received every event');
  return { path, agent, pool, agentId, ids, ledger };
}

/** Kills the agent; every call in flight fails as a lost connection. */
async function killAgent(s: Scene): Promise<void> {
  await s.agent.kill();
  assert.deepEqual(await s.ledger.allSettled(SETTLE_BOUND_MS), { ZAP_CONNECTION_LOST: IN_FLIGHT });
  assert.match(s.ledger.messages.get('ZAP_CONNECTION_LOST') ?? '', /lost: connection closed by peer/);
  assertQuiescent(s.pool, s.agentId);
}

/** The agent is back on the same path: the same slots redial within the bound and carry traffic. */
async function restartAndRecover(s: Scene, prefix: string): Promise<FaultAgentProcess> {
  const agent = await FaultAgentProcess.start(s.path, { kind: 'normal' });
  await recovered(s.pool, s.agentId);
  assert.deepEqual(
    s.pool.agentStats(s.agentId).connections.map((c) => c.id),
    s.ids,
    'the same connection slots, no addAgent',
  );
  assert.deepEqual(s.pool.agentIds(), [s.agentId]);
  await trafficFlows(s.pool, s.agentId, prefix);
  assert.equal((await agent.stats()).handshakes, 4);
  s.ledger.assertStillOnce();
  return agent;
}

describe('agent process killed (SIGKILL) with 1 200 calls in flight', () => {
  for (const workers of [0, 1]) {
    test(
      `workers: ${workers} — every call ZAP_CONNECTION_LOST; calls fail fast while it is down; ` + `restarted, it is used again`,
      async () => {
        const s = await scene(workers, `killed-${workers}`, { kind: 'hang' });
        await killAgent(s);
        await waitFor(() => s.pool.agentStats(s.agentId).healthyConnections === 0, SETTLE_BOUND_MS, 'connections seen as lost');
        const down = fire(s.pool, s.agentId, IN_FLIGHT, 'down');
        assert.deepEqual(await down.allSettled(SETTLE_BOUND_MS), { ZAP_NO_HEALTHY_CONNECTION: IN_FLIGHT });
        await restartAndRecover(s, 'back');
        await s.pool.destroy();
      },
    );
  }
});

describe('agent restarted after a long pause', () => {
  test('the pool keeps redialling with backoff (attempts counted, never hot-looping) and uses the agent again', async () => {
    const s = await scene(0, 'paused', { kind: 'hang' });
    // Per connection slot: the attempt number of every backoff it entered, and when.
    const backoffs = new Map<number, Array<{ attempt: number; at: number }>>(s.ids.map((id) => [id, []]));
    const readyAttempts: number[] = [];
    s.pool.on('report', (_agentId, r) => {
      if (r.type !== 'state') return;
      const report = r as StateReport;
      if (report.state === 'backoff') backoffs.get(report.connectionId)?.push({ attempt: report.attempt, at: performance.now() });
      if (report.state === 'ready') readyAttempts.push(report.attempt);
    });
    const everySlotBackedOff = (n: number) => () => [...backoffs.values()].every((b) => b.length >= n);
    await killAgent(s);
    // The loss (backoff 0), then a failed connect to the dead path (backoff 1) on every slot.
    await waitFor(everySlotBackedOff(2), SETTLE_BOUND_MS, 'every slot failed a connect');
    const stats = s.pool.agentStats(s.agentId);
    assert.ok(
      stats.connections.every((c) => c.state === 'backoff' || c.state === 'connecting'),
      JSON.stringify(stats.connections),
    );
    assert.ok(
      stats.connections.every((c) => /^Connect to .* failed/.test(c.lastError ?? '')),
      JSON.stringify(stats.connections),
    );
    const down = fire(s.pool, s.agentId, IN_FLIGHT, 'down');
    assert.deepEqual(await down.allSettled(SETTLE_BOUND_MS), { ZAP_NO_HEALTHY_CONNECTION: IN_FLIGHT });
    const ATTEMPTS = 5;
    await waitFor(everySlotBackedOff(ATTEMPTS), SETTLE_BOUND_MS, `${ATTEMPTS} backoffs on every slot`);
    for (const [id, entries] of backoffs) {
      const attempts = entries.map((e) => e.attempt);
      // The loss itself (attempt 0), then one more failed connect per backoff: 0, 1, 2, …
      assert.deepEqual(
        attempts,
        attempts.map((_, k) => k),
        `connection ${id}: ${attempts.join(',')}`,
      );
      // Never hot-looping: backoff k waits at least d/2, d = min(max, initial × 2^k), before the next attempt.
      for (let k = 0; k + 1 < ATTEMPTS; k++) {
        const d = Math.min(BACKOFF.reconnectMaxBackoffMs, BACKOFF.reconnectInitialBackoffMs * 2 ** k);
        const gap = entries[k + 1]!.at - entries[k]!.at;
        assert.ok(gap >= d / 2 - 1, `connection ${id}: ${gap.toFixed(1)} ms between backoff ${k} and ${k + 1}, at least ${d / 2} expected`);
      }
    }
    assert.deepEqual(readyAttempts, []);
    await restartAndRecover(s, 'back');
    assert.deepEqual(readyAttempts, [0, 0, 0, 0], 'a successful handshake resets the attempt count');
    await s.pool.destroy();
  });
});

describe('connection-host worker killed', () => {
  test('1 200 calls in flight → every call ZAP_WORKER_LOST; a new worker redials the same slots', async () => {
    const s = await scene(1, 'wk', { kind: 'hang' }, ALL_ON_THE_WORKER);
    const lost = once(s.pool, 'worker-lost');
    await killWorker(s.pool, 0);
    await lost;
    assert.deepEqual(await s.ledger.allSettled(SETTLE_BOUND_MS), { ZAP_WORKER_LOST: IN_FLIGHT });
    assertQuiescent(s.pool, s.agentId);
    await s.agent.behave({ kind: 'normal' });
    await recovered(s.pool, s.agentId, WORKER_RESTART_BOUND_MS);
    assert.deepEqual(
      s.pool.agentStats(s.agentId).connections.map((c) => c.id),
      s.ids,
    );
    await trafficFlows(s.pool, s.agentId, 'wk-after');
    assert.equal((await s.agent.stats()).handshakes, 8, 'each slot redialled once');
    // The dead thread's sockets are closed: only the four new ones stay open at the agent.
    await waitFor(async () => (await s.agent.stats()).open === 4, SETTLE_BOUND_MS, 'old sockets closed');
    s.ledger.assertStillOnce();
    await s.pool.destroy();
  });

  test('killed while replies stream in: each call ends once, answered or ZAP_WORKER_LOST, none lost', async () => {
    const path = socketPath('fault-race');
    // Every second event is answered at once, the others never: replies are still arriving when the worker dies.
    const agent = await FaultAgentProcess.start(path, { kind: 'partial', answerOneIn: 2 });
    const pool = faultPool(1, ALL_ON_THE_WORKER);
    await pool.addAgent('race', `unix:${path}`);
    const ledger = fire(pool, 'race', IN_FLIGHT, 'race');
    await waitFor(() => ledger.settled > 0, SETTLE_BOUND_MS, 'first replies');
    await killWorker(pool, 0);
    const counts = await ledger.allSettled(SETTLE_BOUND_MS);
    assert.deepEqual(
      Object.keys(counts).filter((k) => k !== 'allow' && k !== 'ZAP_WORKER_LOST'),
      [],
      JSON.stringify(counts),
    );
    assert.ok((counts['ZAP_WORKER_LOST'] ?? 0) >= IN_FLIGHT / 2, JSON.stringify(counts));
    assert.ok((counts['allow'] ?? 0) <= (await agent.stats()).answered, 'no call was answered that the agent did not answer');
    assertQuiescent(pool, 'race');
    await agent.behave({ kind: 'normal' });
    await recovered(pool, 'race', WORKER_RESTART_BOUND_MS);
    await trafficFlows(pool, 'race', 'race-after');
    ledger.assertStillOnce();
    await pool.destroy();
  });
});

describe('light-load connection on the calling thread (default inlineBelowInFlight)', () => {
  test('a lone call stays on the calling thread, the burst behind it goes to the worker; its death loses only the burst', async () => {
    const path = socketPath('fault-inline');
    const agent = await FaultAgentProcess.start(path, { kind: 'hang' });
    const pool = faultPool(1);
    assert.deepEqual(await pool.addAgent('mix', `unix:${path}`), { ready: 4, errors: [] });
    const onThisThread = pool.agentStats('mix').connections.filter((c) => c.inline);
    assert.deepEqual(
      onThisThread.map((c) => c.worker),
      [1],
      'exactly one of the four connections is on the calling thread (slot after worker 0)',
    );
    const lone = new CallLedger('mix', 'lone', 1);
    lone.track(0, pool.sendRequestHeaders('mix', lone.cid(0), requestHeaders(lone.cid(0))));
    await waitFor(async () => (await agent.stats()).received === 1, SETTLE_BOUND_MS, 'the agent has the lone call');
    const burst = fire(pool, 'mix', IN_FLIGHT, 'mix-burst');
    await waitFor(async () => (await agent.stats()).received === IN_FLIGHT + 1, SETTLE_BOUND_MS, 'the agent has the burst');
    const where = new Map(pool.agentStats('mix').connections.map((c) => [c.inline, c.inFlight]));
    assert.equal(where.get(true), 1, 'only the lone call is on the calling thread');

    await killWorker(pool, 0);
    assert.deepEqual(await burst.allSettled(SETTLE_BOUND_MS), { ZAP_WORKER_LOST: IN_FLIGHT });
    assert.equal(lone.settled, 0, 'the call on the calling thread is untouched by the dead worker');
    await agent.behave({ kind: 'normal' });
    await recovered(pool, 'mix', WORKER_RESTART_BOUND_MS);
    assert.equal(lone.settled, 0, 'nor by its successor');
    // It is still live on its connection: the agent's reply (written on all four) settles it once.
    assert.equal(await agent.reply(lone.cid(0)), 4);
    assert.deepEqual(await lone.allSettled(SETTLE_BOUND_MS), { allow: 1 });
    assertQuiescent(pool, 'mix');
    await pool.destroy();
  });
});

describe('regression: worker killed with calls queued behind a busy correlation id', () => {
  // BUG (found by this test): Router.failHost settled the dead worker's calls before dropping its
  // connections from the candidate snapshot, so each settle's pump dispatched queued calls onto
  // those dead connections. A queued call whose id was lower than a dispatched one (a same-cid
  // follower re-queued behind others) was already passed over by failHost's loop: it sat on the
  // dead worker until its request timeout instead of settling at once.
  test('the queued call settles at once (no connection left → ZAP_NO_HEALTHY_CONNECTION), not at its timeout', async () => {
    const path = socketPath('fault-cid');
    await FaultAgentProcess.start(path, { kind: 'hang' });
    const pool = faultPool(1, { connectionsPerAgent: 1, maxConcurrentPerConnection: 2, ...ALL_ON_THE_WORKER });
    await pool.addAgent('cid', `unix:${path}`);
    const abort = new AbortController();
    const ledger = new CallLedger('cid', 'q', 4);
    const send = (i: number, cid: string, options: { signal?: AbortSignal } = {}) =>
      ledger.track(i, pool.sendRequestHeaders('cid', cid, requestHeaders(cid), options), cid);
    // Call ids follow send order: #0 and #2 take both slots, #1 waits for #0's cid, #3 queues.
    send(0, 'same', { signal: abort.signal });
    send(1, 'same');
    send(2, 'other-2');
    send(3, 'other-3');
    await waitFor(() => pool.agentStats('cid').queued === 1, SETTLE_BOUND_MS, 'one call queued');
    // #0 ends: #1 is admitted behind #3 in the queue, #3 takes the freed slot.
    abort.abort();
    await waitFor(
      () => pool.agentStats('cid').totalInFlight === 2 && pool.agentStats('cid').queued === 1,
      SETTLE_BOUND_MS,
      'the follower re-queued',
    );
    await killWorker(pool, 0);
    await ledger.allSettled(3_000);
    assert.deepEqual(ledger.outcomes, ['ABORT_ERR', 'ZAP_NO_HEALTHY_CONNECTION', 'ZAP_WORKER_LOST', 'ZAP_WORKER_LOST']);
    assertQuiescent(pool, 'cid');
    await pool.destroy();
  });
});

describe('circuit breaker under the fault (defaults, short openDurationMs)', () => {
  test('opens when the agent dies, rejects with ZAP_CIRCUIT_OPEN without I/O, closes again after recovery', async () => {
    const openDurationMs = 1_500;
    const states: number[] = [];
    const s = await scene(0, 'cb', { kind: 'hang' }, { circuitBreaker: { openDurationMs } });
    s.pool.on('circuit-state', (_id, state) => states.push(state));
    await killAgent(s); // calls admitted before the breaker opened keep their own outcome
    assert.equal(s.pool.circuitState('cb'), 1);
    assert.deepEqual(states, [1]);
    const open = fire(s.pool, 'cb', IN_FLIGHT, 'open');
    const counts = await open.allSettled(SETTLE_BOUND_MS);
    // Only if this box was slower than openDurationMs does one half-open probe get through (and fail).
    assert.ok(
      counts['ZAP_CIRCUIT_OPEN'] === IN_FLIGHT ||
        (counts['ZAP_CIRCUIT_OPEN'] === IN_FLIGHT - 1 && counts['ZAP_NO_HEALTHY_CONNECTION'] === 1),
      JSON.stringify(counts),
    );
    const agent = await FaultAgentProcess.start(s.path, { kind: 'normal' });
    await recovered(s.pool, 'cb');
    // One call at a time until the breaker has let probes through and closed (success threshold 2).
    const outcomes: string[] = [];
    await waitFor(
      async () => {
        const cid = `probe-${outcomes.length}`;
        const probe = fire(s.pool, 'cb', 1, cid);
        const c = await probe.allSettled(SETTLE_BOUND_MS);
        outcomes.push(Object.keys(c)[0] as string);
        if (outcomes.at(-1) === 'ZAP_CIRCUIT_OPEN') await sleep(20);
        return s.pool.circuitState('cb') === 0;
      },
      openDurationMs + RECOVERY_BOUND_MS,
      () => `breaker still ${s.pool.circuitState('cb')}: ${outcomes.slice(-5).join(',')}`,
    );
    assert.deepEqual(outcomes.slice(-2), ['allow', 'allow']);
    const rejected = outcomes.filter((o) => o === 'ZAP_CIRCUIT_OPEN').length;
    assert.equal((await agent.stats()).received, outcomes.length - rejected, `the ${rejected} rejected probes never reached the agent`);
    assert.deepEqual(states.slice(-2), [2, 0]);
    assert.equal(states[0], 1);
    await trafficFlows(s.pool, 'cb', 'cb-after');
    assert.equal(s.pool.circuitState('cb'), 0);
    await s.pool.destroy();
    await agent.kill();
  });
});
