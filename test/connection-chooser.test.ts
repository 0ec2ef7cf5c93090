// Where the bindings pick (spec §10.4, src/pool/connection-chooser.ts), on router-side records
// with no I/O: a sticky session's connection first, then the connection that carried the request's
// headers, then the agent's picker — each with its exact connection, and the per-connection cap.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentEntry, ConnectionRecord, type PoolCall } from '../src/pool/agent-entry.js';
import { chooseConnection, type Choice } from '../src/pool/connection-chooser.js';
import { DEFAULT_AGENT_OPTIONS, resolveAgentOptions } from '../src/pool/pool-config.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { FlowAction, type EventKind } from '../src/protocol/types.js';
import { parseEndpoint } from '../src/transport/endpoint.js';
import type { HostHandle } from '../src/contract/host-messages.js';

const CAP = 2;

const THIS_THREAD = { onOtherThread: false } as HostHandle;
const WORKER = { onOtherThread: true } as HostHandle;

/**
 * An agent with `n` ready connections (ids 1…n), round-robin; all on this thread, or with
 * `inline` the first one on this thread and the rest on a worker (the light-load split).
 */
function agentWith(n: number, inline?: { inlineBelowInFlight: number }): { agent: AgentEntry; conns: ConnectionRecord[] } {
  const options = resolveAgentOptions(
    DEFAULT_AGENT_OPTIONS,
    { maxConcurrentPerConnection: CAP, loadBalanceStrategy: 'round-robin', ...inline },
    'test',
  );
  const agent = new AgentEntry('waf', parseEndpoint('unix:/nowhere.sock'), options);
  const conns: ConnectionRecord[] = [];
  for (let id = 1; id <= n; id++) {
    const onWorker = inline !== undefined && id > 1;
    const c = new ConnectionRecord(id, agent, onWorker ? WORKER : THIS_THREAD, onWorker ? 0 : 1);
    c.state = 'ready';
    agent.connections.set(id, c);
    conns.push(c);
  }
  agent.rebuildCandidates();
  return { agent, conns };
}

/** A call as the router admits it: it holds its cid's entry (affinity lives there). */
function call(agent: AgentEntry, kind: EventKind, correlationId: string, stickySession?: string): PoolCall {
  const c = { agent, kind, correlationId, event: {}, stickySession, usedSticky: false, forced: undefined } as unknown as PoolCall;
  c.correlation = agent.correlations.enter(correlationId, c);
  return c;
}

/** The chosen connection's id, or the kind of non-choice. */
function chosen(choice: Choice): number | string {
  return choice.kind === 'connection' ? choice.connection.id : choice.kind;
}

const timeout = new AgentPoolError(ErrorCode.Timeout, 't');

describe('chooseConnection', () => {
  test('chooser order: with no binding the picker decides (round-robin 1, 2, 3, 1)', () => {
    const { agent } = agentWith(3);
    const ids = ['a', 'b', 'c', 'd'].map((cid) => chosen(chooseConnection(call(agent, 'request_headers', cid), 0)));
    assert.deepEqual(ids, [1, 2, 3, 1]);
  });

  test('chooser order: a sticky session binds on first use and then wins over the picker', () => {
    const { agent } = agentWith(3);
    const first = call(agent, 'request_headers', 'a', 's1');
    assert.equal(chosen(chooseConnection(first, 0)), 1);
    assert.equal(first.usedSticky, false, 'bound now, not used');
    for (const cid of ['b', 'c', 'd']) {
      const next = call(agent, 'request_headers', cid, 's1');
      assert.equal(chosen(chooseConnection(next, 1)), 1, `${cid} follows its session`);
      assert.equal(next.usedSticky, true);
    }
    // Calls without the session still rotate: the sticky ones did not move the picker.
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'e'), 1)), 2);
  });

  test('chooser order: every later event of a request goes to the connection that carried its headers', () => {
    const { agent } = agentWith(3);
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'r1'), 0)), 1);
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'r2'), 0)), 2);
    for (const kind of ['request_body_chunk', 'response_headers', 'response_body_chunk'] as const) {
      assert.equal(chosen(chooseConnection(call(agent, kind, 'r1'), 1)), 1, `${kind} of r1`);
      assert.equal(chosen(chooseConnection(call(agent, kind, 'r2'), 1)), 2, `${kind} of r2`);
    }
    // A new request's headers go to the picker again (3), not to a bound connection.
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'r3'), 2)), 3);
  });

  test('chooser order: a bound draining connection still serves its request; an unhealthy one falls back to the picker', () => {
    const { agent, conns } = agentWith(3);
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'r1'), 0)), 1);
    conns[0]!.state = 'draining';
    agent.rebuildCandidates();
    assert.equal(chosen(chooseConnection(call(agent, 'request_body_chunk', 'r1'), 1)), 1, 'draining: bound events still go there');
    assert.equal(
      chosen(chooseConnection(call(agent, 'request_headers', 'r2'), 1)),
      3,
      'but no new request (round-robin over 2, 3; counter at 1)',
    );
    conns[0]!.state = 'ready';
    for (let i = 0; i < 3; i++) conns[0]!.health.recordFailure(timeout);
    agent.rebuildCandidates();
    assert.equal(chosen(chooseConnection(call(agent, 'request_body_chunk', 'r1'), 2)), 2, 'unhealthy: the picker chooses among 2 and 3');
  });

  test('per-connection cap: the picked one at cap gives way to one with room; all at cap → full; none → why', () => {
    const { agent, conns } = agentWith(2);
    conns[0]!.inFlight = CAP;
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'a'), 0)), 2, 'round-robin picked 1 (full): 2 instead');
    conns[1]!.inFlight = CAP;
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'b'), 0)), 'full');
    for (const c of conns) c.state = 'connecting';
    agent.rebuildCandidates();
    const none = chooseConnection(call(agent, 'request_headers', 'c'), 0);
    assert.deepEqual(none, { kind: 'none', why: 'No healthy connections for agent waf' });
  });

  test('light load: a new request stays on this thread while few calls are live; under load the workers take it', () => {
    const { agent, conns } = agentWith(3, { inlineBelowInFlight: 2 });
    const live = (c: PoolCall): PoolCall => (agent.liveCalls++, c);
    // The call itself is live when it is chosen: 1 and 2 live calls are below the bound of 2 others.
    const first = live(call(agent, 'request_headers', 'a'));
    assert.equal(chosen(chooseConnection(first, 0)), 1);
    conns[0]!.inFlight++;
    assert.equal(chosen(chooseConnection(live(call(agent, 'request_headers', 'b')), 0)), 1);
    // Three live: the workers' connections in turn, never this thread's.
    const under = ['c', 'd', 'e'].map((cid) => chosen(chooseConnection(live(call(agent, 'request_headers', cid)), 0)));
    assert.deepEqual(under, [2, 3, 2]);
    // A later event of request a follows its headers to this thread, load or not.
    assert.equal(chosen(chooseConnection(live(call(agent, 'request_body_chunk', 'a')), 0)), 1);
  });

  test('light load: at cap on every worker connection the one on this thread takes the call; all at cap → full', () => {
    const { agent, conns } = agentWith(3, { inlineBelowInFlight: 1 });
    for (let i = 0; i < 5; i++) agent.liveCalls++;
    conns[1]!.inFlight = CAP;
    conns[2]!.inFlight = CAP;
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'x'), 0)), 1);
    conns[0]!.inFlight = CAP;
    assert.equal(chosen(chooseConnection(call(agent, 'request_headers', 'y'), 0)), 'full');
  });

  test('light load: with the bound at 0 a lone call still goes to a worker; an unhealthy worker connection is skipped', () => {
    const { agent, conns } = agentWith(3, { inlineBelowInFlight: 0 });
    const lone = call(agent, 'request_headers', 'a');
    agent.liveCalls++;
    assert.equal(chosen(chooseConnection(lone, 0)), 2);
    for (let i = 0; i < 3; i++) conns[2]!.health.recordFailure(timeout);
    agent.rebuildCandidates();
    assert.deepEqual(
      ['b', 'c'].map((cid) => chosen(chooseConnection(call(agent, 'request_headers', cid), 0))),
      [2, 2],
      'connection 3 is out of the candidates, 1 is for light load only',
    );
  });

  test('light load: a call that opens a sticky session binds it to a worker connection, not to this thread', () => {
    const { agent } = agentWith(3, { inlineBelowInFlight: 1 });
    const first = call(agent, 'request_headers', 'a', 'session-1');
    agent.liveCalls++;
    assert.equal(chosen(chooseConnection(first, 0)), 2, 'lone, but sticky: a worker connection');
    agent.liveCalls--;
    const next = call(agent, 'request_headers', 'b', 'session-1');
    agent.liveCalls++;
    assert.equal(chosen(chooseConnection(next, 1)), 2, 'the session stays there');
    assert.equal(next.usedSticky, true);
    agent.liveCalls--;
    const plain = call(agent, 'request_headers', 'c');
    agent.liveCalls++;
    assert.equal(chosen(chooseConnection(plain, 1)), 1, 'a lone call without a session stays on this thread');
  });

  test('light load: a paused worker connection (a filtered candidate list) keeps the split; so does a picker refusing the workers', () => {
    const { agent } = agentWith(4, { inlineBelowInFlight: 1 });
    agent.flow.apply(4, { correlationId: null, action: FlowAction.Pause, bufferAvailable: null, timestampMs: 0 });
    assert.equal(agent.flow.isConnectionPaused(4), true);
    const lone = call(agent, 'request_headers', 'a');
    agent.liveCalls++;
    assert.equal(chosen(chooseConnection(lone, 0)), 1, 'lone: this thread');
    for (let i = 0; i < 3; i++) agent.liveCalls++;
    const under = ['b', 'c', 'd'].map((cid) => chosen(chooseConnection(call(agent, 'request_headers', cid), 0)));
    assert.deepEqual(under, [2, 3, 2], 'under load: the open worker connections, never this thread nor the paused one');

    const pinned = agentWith(3, { inlineBelowInFlight: 1 });
    pinned.agent.picker = { pick: (cs) => cs.find((c) => c.id === 1) };
    for (let i = 0; i < 3; i++) pinned.agent.liveCalls++;
    assert.equal(
      chosen(chooseConnection(call(pinned.agent, 'request_headers', 'e'), 0)),
      1,
      'the picker is asked again with every connection',
    );
  });
});
