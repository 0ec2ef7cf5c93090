// Where the bindings pick (spec §10.4, src/pool/connection-chooser.ts), on router-side records
// with no I/O: a sticky session's connection first, then the connection that carried the request's
// headers, then the agent's picker — each with its exact connection, and the per-connection cap.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentEntry, ConnectionRecord, type PoolCall } from '../src/pool/agent-entry.js';
import { chooseConnection, type Choice } from '../src/pool/connection-chooser.js';
import { DEFAULT_AGENT_OPTIONS, resolveAgentOptions } from '../src/pool/pool-config.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import type { EventKind } from '../src/protocol/types.js';
import { parseEndpoint } from '../src/transport/endpoint.js';

const CAP = 2;

/** An agent with `n` ready connections (ids 1…n), round-robin. */
function agentWith(n: number): { agent: AgentEntry; conns: ConnectionRecord[] } {
  const options = resolveAgentOptions(
    DEFAULT_AGENT_OPTIONS,
    { maxConcurrentPerConnection: CAP, loadBalanceStrategy: 'round-robin' },
    'test',
  );
  const agent = new AgentEntry('waf', parseEndpoint('unix:/nowhere.sock'), options);
  const conns: ConnectionRecord[] = [];
  for (let id = 1; id <= n; id++) {
    const c = new ConnectionRecord(id, agent, undefined as never, 0);
    c.state = 'ready';
    agent.connections.set(id, c);
    conns.push(c);
  }
  agent.rebuildCandidates();
  return { agent, conns };
}

function call(agent: AgentEntry, kind: EventKind, correlationId: string, stickySession?: string): PoolCall {
  return { agent, kind, correlationId, event: {}, stickySession, usedSticky: false, forced: undefined } as unknown as PoolCall;
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
});
