// Fault injection on the wire, against a real agent process (test/support/fault-agent.ts) with
// 1 200 calls in flight: an agent that hangs, one that answers after the deadline, and one that
// writes garbage or stops half-way through a frame. Every call settles exactly once with the
// typed outcome of spec §10.11, nothing stays in flight, and traffic flows again by itself.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { FaultAgentProcess, type AgentStatsSnapshot, type FaultKind } from './support/fault-agent-process.js';
import { assertQuiescent, fire, waitFor } from './support/fault-calls.js';
import { faultPool, IN_FLIGHT, recovered, SETTLE_BOUND_MS, trafficFlows } from './support/fault-setup.js';
import { socketPath } from './support/tmp.js';

/** One agent process serves the whole file; each test reads its counters as deltas. */
let agent: FaultAgentProcess;
let endpoint: string;
before(async () => {
  const path = socketPath('fault-wire');
  agent = await FaultAgentProcess.start(path, { kind: 'hang' });
  endpoint = `unix:${path}`;
});

async function delta(base: AgentStatsSnapshot): Promise<AgentStatsSnapshot> {
  const now = await agent.stats();
  const reasons: Record<string, number> = {};
  for (const [k, v] of Object.entries(now.cancelReasons)) {
    const d = v - (base.cancelReasons[k] ?? 0);
    if (d !== 0) reasons[k] = d;
  }
  return {
    received: now.received - base.received,
    answered: now.answered - base.answered,
    cancels: now.cancels - base.cancels,
    cancelReasons: reasons,
    strayCancels: now.strayCancels - base.strayCancels,
    pings: now.pings - base.pings,
    handshakes: now.handshakes - base.handshakes,
    open: now.open,
    faultsWritten: now.faultsWritten - base.faultsWritten,
  };
}

/** Until the agent has every event of the batch: then all of them are really in flight. */
async function allReceived(base: AgentStatsSnapshot): Promise<void> {
  await waitFor(async () => (await delta(base)).received >= IN_FLIGHT, SETTLE_BOUND_MS, 'the agent received every event');
}

describe('agent hangs (accepts, never answers)', () => {
  test('1 200 calls → ZAP_TIMEOUT; each written event gets exactly one Cancel(timeout); the connections stay open', async () => {
    await agent.behave({ kind: 'hang' });
    const base = await agent.stats();
    const pool = faultPool(0);
    assert.deepEqual(await pool.addAgent('hung', endpoint), { ready: 4, errors: [] });
    const ids = pool.agentStats('hung').connections.map((c) => c.id);
    const ledger = fire(pool, 'hung', IN_FLIGHT, 'h', { timeoutMs: 400 });
    assert.deepEqual(await ledger.allSettled(SETTLE_BOUND_MS), { ZAP_TIMEOUT: IN_FLIGHT });
    assert.match(ledger.messages.get('ZAP_TIMEOUT') ?? '', /did not answer within 400 ms/);
    assertQuiescent(pool, 'hung');
    // Withdrawn-before-written events never reach the agent; every one that did is cancelled once.
    await waitFor(
      async () => {
        const d = await delta(base);
        return d.received > 0 && d.cancels === d.received;
      },
      SETTLE_BOUND_MS,
      'one Cancel per event the agent received',
    );
    const d = await delta(base);
    assert.deepEqual(d.cancelReasons, { timeout: d.cancels });
    assert.equal(d.strayCancels, 0, 'each Cancel went on the connection that carried its event');
    assert.equal(d.answered, 0);
    assert.equal(d.handshakes, 4, 'a timeout is not a connection failure: no reconnect');
    const s = pool.agentStats('hung');
    assert.deepEqual(
      s.connections.map((c) => c.id),
      ids,
    );
    assert.ok(s.connections.every((c) => c.state === 'ready'));
    // §10.6: 3 consecutive failed calls make a connection unhealthy; with all four so marked, calls fail fast.
    assert.ok(
      s.connections.every((c) => c.health === 'unhealthy'),
      JSON.stringify(s.connections),
    );
    const during = fire(pool, 'hung', IN_FLIGHT, 'h-during');
    assert.deepEqual(await during.allSettled(SETTLE_BOUND_MS), { ZAP_NO_HEALTHY_CONNECTION: IN_FLIGHT });
    assert.equal((await delta(base)).received, d.received, 'nothing was sent to unhealthy connections');
    ledger.assertStillOnce();
    await pool.destroy();
  });

  // Regression: a connection marked unhealthy by consecutive failures used to be neither pinged nor
  // told of Pongs, so the mark was never cleared (§10.6, §10.8: "a successful ping or reply clears
  // it") and a hung agent that recovered without dropping its sockets stayed unused.
  test('regression: connections marked unhealthy by timeouts are used again once the agent answers (a Pong clears the mark)', async () => {
    await agent.behave({ kind: 'hang' });
    const base = await agent.stats();
    const healthCheckIntervalMs = 100;
    const pool = faultPool(0, { healthCheckIntervalMs, pingTimeoutMs: 500 });
    await pool.addAgent('hung-back', endpoint);
    const ledger = fire(pool, 'hung-back', IN_FLIGHT, 'hb', { timeoutMs: 400 });
    assert.deepEqual(await ledger.allSettled(SETTLE_BOUND_MS), { ZAP_TIMEOUT: IN_FLIGHT });
    assert.equal(pool.agentStats('hung-back').healthyConnections, 0);
    await agent.behave({ kind: 'normal' });
    // Within a few maintenance ticks plus a ping round trip, every connection is selectable again.
    try {
      await recovered(pool, 'hung-back', 3 * healthCheckIntervalMs + 500 + 2_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; meanwhile the agent answered ${(await delta(base)).pings} pings`, { cause: err });
    }
    await trafficFlows(pool, 'hung-back', 'hb2');
    assert.equal((await delta(base)).handshakes, 4, 'the same sockets, not replacements');
    await pool.destroy();
  });
});

describe('agent slow (answers after the deadline)', () => {
  test('1 200 calls → ZAP_TIMEOUT; every late reply is dropped and counted in lateReplies', async () => {
    await agent.behave({ kind: 'slow', delayMs: 1_000 });
    const base = await agent.stats();
    const pool = faultPool(0);
    await pool.addAgent('slow', endpoint);
    const ledger = fire(pool, 'slow', IN_FLIGHT, 's', { timeoutMs: 250 });
    assert.deepEqual(await ledger.allSettled(SETTLE_BOUND_MS), { ZAP_TIMEOUT: IN_FLIGHT });
    assertQuiescent(pool, 'slow');
    // The agent ignores Cancel and answers each event it got, ~1 s late.
    await waitFor(
      async () => {
        const d = await delta(base);
        return d.received > 0 && d.answered === d.received && pool.agentStats('slow').lateReplies === d.answered;
      },
      SETTLE_BOUND_MS,
      () => `late replies counted: ${pool.agentStats('slow').lateReplies}`,
    );
    const d = await delta(base);
    assert.equal(d.cancels, d.received);
    assert.equal(pool.stats().lateResults, 0, 'late replies stop at the connection; no result reaches the router');
    // Every late reply has been handled (counted above): a second settlement would show now.
    ledger.assertStillOnce();
    assertQuiescent(pool, 'slow');
    const s = pool.agentStats('slow');
    assert.equal(s.totalErrors, IN_FLIGHT);
    assert.equal(s.lateReplies, d.answered, 'a late reply is counted once');
    assert.equal(d.handshakes, 4, 'no connection was replaced');
    await pool.destroy();
  });
});

/** Each one-shot fault, the outcome code of every call in flight, and what the message names. */
const WIRE_FAULTS: Array<{ fault: FaultKind; code: string; message: RegExp; workers: number }> = [
  { fault: 'garbage', code: 'ZAP_PROTOCOL_ERROR', message: /^Message too large: \d+ bytes/, workers: 0 },
  { fault: 'garbage', code: 'ZAP_PROTOCOL_ERROR', message: /^Message too large: \d+ bytes/, workers: 1 },
  { fault: 'unknown-type', code: 'ZAP_PROTOCOL_ERROR', message: /Unknown message type: 0xf0/, workers: 0 },
  { fault: 'bad-json', code: 'ZAP_PROTOCOL_ERROR', message: /./, workers: 0 },
  { fault: 'half-frame', code: 'ZAP_PROTOCOL_ERROR', message: /^Truncated frame: stream ended after \d+ of \d+ bytes/, workers: 0 },
  { fault: 'half-header', code: 'ZAP_PROTOCOL_ERROR', message: /^Truncated frame: stream ended inside the length prefix/, workers: 0 },
  // Control: an orderly close between frames is a lost connection, not a protocol error.
  { fault: 'close', code: 'ZAP_CONNECTION_LOST', message: /lost: connection closed by peer/, workers: 0 },
];

describe('agent breaks the framing with calls in flight', () => {
  for (const { fault, code, message, workers } of WIRE_FAULTS) {
    test(`${fault} (workers: ${workers}) → every call ${code}; the connections are replaced and traffic recovers`, async () => {
      await agent.behave({ kind: 'hang' });
      const base = await agent.stats();
      const pool = faultPool(workers);
      const agentId = `${fault}-${workers}`;
      assert.deepEqual(await pool.addAgent(agentId, endpoint), { ready: 4, errors: [] });
      const ids = pool.agentStats(agentId).connections.map((c) => c.id);
      const ledger = fire(pool, agentId, IN_FLIGHT, fault);
      await allReceived(base);
      assert.equal(ledger.settled, 0, 'nothing settled before the fault');
      // New connections (the replacements) get a well-behaved agent.
      await agent.behave({ kind: 'normal' });
      assert.equal(await agent.inject(fault), 4);
      assert.deepEqual(await ledger.allSettled(SETTLE_BOUND_MS), { [code]: IN_FLIGHT });
      assert.match(ledger.messages.get(code) ?? '', message);
      assertQuiescent(pool, agentId);
      await recovered(pool, agentId);
      assert.deepEqual(
        pool.agentStats(agentId).connections.map((c) => c.id),
        ids,
        'the same slots redialled; no addAgent',
      );
      assert.equal((await delta(base)).handshakes, 8, 'each connection was replaced once');
      await trafficFlows(pool, agentId, `${fault}-after`);
      ledger.assertStillOnce();
      await pool.destroy();
    });
  }
});
