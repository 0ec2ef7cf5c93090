// Model-based test of the connection lifecycle: every transition of the xstate connection machine
// (and every external event a state ignores), walked by xstate/graph and replayed against a real
// socket-backed ConnectionActor. The actor's reported state sequence must equal the model path,
// its attempt counter must equal the model's, and the socket side must match the state: a ready /
// paused / draining connection is open and answers, a backoff / closed one is really closed at the
// agent end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConnectionActor } from '../../src/connection/connection-actor.js';
import { connectionMachine as defineConnectionMachine } from '../../src/connection/connection-machine.js';

const connectionMachine = defineConnectionMachine();
import type { FramedConnection } from '../../src/connection/framed-connection.js';
import type { StateReport } from '../../src/contract/host-messages.js';
import { requestHeaders } from '../support/events.js';
import { AgentGate } from '../support/model-agent-gate.js';
import { openCommand, PathDriver } from '../support/model-connection-driver.js';
import { modelCases, modelWalk, type ModelCase } from '../support/model-connection-paths.js';

const STABLE = new Set(['ready', 'paused', 'draining', 'closed']);

async function replay(c: ModelCase): Promise<void> {
  const gate = await AgentGate.start();
  const driver = new PathDriver(c, gate);
  const actor = new ConnectionActor(openCommand(gate.endpoint, c.redial), {
    state: (report) => driver.onReport(report),
    established: () => {},
  });
  driver.actor = actor;
  try {
    driver.arm();
    actor.start();
    const expected = driver.reportSteps.map((i) => c.steps[i]!);
    const n = expected.length;
    await driver.finished();
    const run = driver.run;
    assert.deepEqual(run.problems, []);
    assert.deepEqual(
      run.reports.slice(0, n).map((r) => r.state),
      expected.map((s) => s.state),
      `reported states: ${run.reports.map((r) => r.state).join(' → ')}`,
    );
    assert.deepEqual(
      run.reports.slice(0, n).map((r) => r.attempt),
      expected.map((s) => s.attempt),
      'attempt counter',
    );
    for (const check of run.ignoredChecks) {
      assert.deepEqual(
        { state: check.actual, reports: check.reports },
        { state: check.expected, reports: 0 },
        `${check.event} must be ignored in ${check.expected}`,
      );
    }
    assert.equal(run.ignoredChecks.length, driver.ignoredSteps);
    // Every connect that reached the gate is accepted there: wait for that before judging closes.
    assert.equal(
      await gate.until(() => gate.connections.length >= driver.connectableAttemptsStarted()),
      true,
      'gate accepted the connects',
    );
    const last = expected.at(-1)!;
    await checkSocketSide(gate, actor, run.reports[n - 1]!);
    if (STABLE.has(last.state)) assert.equal(run.reports.length, n, `no spontaneous transition out of ${last.state}`);

    // Tear down through the real close path: whatever the state, CLOSE ends with a closed socket.
    actor.close();
    assert.equal(actor.state, 'closed');
    assert.equal(run.reports.at(-1)!.state, 'closed');
    assert.equal(
      await gate.until(() => gate.connections.length >= driver.connectableAttemptsStarted()),
      true,
      'gate accepted the connects',
    );
    assert.equal(await gate.until(() => gate.open === 0), true, `agent still sees ${gate.open} open connection(s) after CLOSE`);
    assert.equal(actor.connection, undefined);
  } finally {
    actor.close();
    await gate.close();
  }
}

async function checkSocketSide(gate: AgentGate, actor: ConnectionActor, report: StateReport): Promise<void> {
  const state = report.state;
  if (state === 'ready' || state === 'paused' || state === 'draining') {
    const connection = actor.connection as FramedConnection | undefined;
    assert.ok(connection !== undefined && !connection.closed, `a ${state} actor has a live connection`);
    assert.equal(gate.open, 1, 'the agent sees exactly one open connection');
    assert.equal(connection.encoding, 'msgpack');
    // The connection really works in this state (the pool decides whether to route to it).
    const cid = `model-${state}`;
    const reply = await connection.send('request_headers', requestHeaders(cid), cid);
    assert.deepEqual(reply.routingMetadata, { seen: cid });
    if (state === 'ready') {
      assert.equal(report.encoding, 'msgpack');
      assert.ok(report.capabilities !== undefined);
    }
  }
  if (state === 'backoff' || state === 'closed') {
    assert.equal(actor.connection, undefined);
    assert.equal(await gate.until(() => gate.open === 0), true, `agent still sees ${gate.open} open connection(s) in ${state}`);
    if (report.attempt > 0) assert.ok(report.lastError !== null, 'a failure is reported with its cause');
  }
}

for (const redial of [true, false]) {
  const cases = modelCases(redial);
  describe(`connection machine model (redial ${redial}), ${cases.length} cases`, () => {
    test('the cases cover every state and every transition the machine declares', () => {
      const reachable = Object.keys(connectionMachine.root.states).filter((s) => redial || s !== 'backoff');
      assert.deepEqual([...new Set(cases.flatMap((c) => c.steps.map((s) => s.state)))].sort(), reachable.sort());
      const declared = reachable.flatMap((s) => [...connectionMachine.root.states[s]!.transitions.keys()].map((e) => `${s}: ${e}`));
      const covered = new Set(cases.map((c) => `${c.steps.at(-2)!.state}: ${c.steps.at(-1)!.event}`));
      assert.deepEqual(
        declared.filter((t) => !covered.has(t)),
        [],
      );
    });
    for (const c of cases) test(c.name, () => replay(c));
  });
}

describe('connection machine model: random walks', () => {
  // Longer runs through the graph: reconnect loops, pause/resume cycles, ignored events mid-way.
  for (const redial of [true, false]) {
    test(`walks of up to 20 steps replay exactly (redial ${redial})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat({ max: 1_000 }), { minLength: 3, maxLength: 20 }), async (choices) => {
          const walk = modelWalk(redial, choices);
          try {
            await replay(walk);
          } catch (err) {
            throw new Error(`walk: ${walk.name}`, { cause: err });
          }
        }),
        { numRuns: 15, endOnFailure: true },
      );
    });
  }
});
