// The machine events the model test sends directly (PAUSE, RESUME, DRAIN, DRAINED, LOST from the
// pool side), produced here by their real causes: the agent's FlowControl frames through a
// ConnectionHost, ConnectionActor.drain() with and without a request outstanding, and recycle().
// Each checks the reported state sequence and what the agent end of the socket sees.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionActor } from '../../src/connection/connection-actor.js';
import { ConnectionHost } from '../../src/connection/connection-host.js';
import type { FramedConnection } from '../../src/connection/framed-connection.js';
import type { ConnectionStateName } from '../../src/connection/connection-machine.js';
import type { HostReport } from '../../src/contract/host-messages.js';
import { FlowAction } from '../../src/protocol/types.js';
import { requestHeaders } from '../support/events.js';
import { AgentGate } from '../support/model-agent-gate.js';
import { openCommand } from '../support/model-connection-driver.js';

async function withGate(plans: Array<'accept' | 'refuse' | 'hold'>, body: (gate: AgentGate) => Promise<void>): Promise<void> {
  const gate = await AgentGate.start();
  try {
    gate.setConnectable(true);
    for (const p of plans) gate.plan(p);
    await body(gate);
  } finally {
    await gate.close();
  }
}

function startActor(gate: AgentGate): { actor: ConnectionActor; states: ConnectionStateName[] } {
  const states: ConnectionStateName[] = [];
  const actor = new ConnectionActor(openCommand(gate.endpoint, true), { state: (r) => states.push(r.state), established: () => {} });
  actor.start();
  return { actor, states };
}

function flow(action: (typeof FlowAction)[keyof typeof FlowAction], bufferAvailable: number | null = null) {
  return { correlationId: null, action, bufferAvailable, timestampMs: Date.now() };
}

describe('pool-driven connection events from their real causes', () => {
  test('agent FlowControl pause / resume / capacity move a hosted connection ready ⇄ paused', () =>
    withGate(['accept'], async (gate) => {
      const states: string[] = [];
      const host = new ConnectionHost({
        result: () => {},
        report: (r: HostReport) => {
          if (r.type === 'state') states.push(r.state);
        },
      });
      try {
        host.command(openCommand(gate.endpoint, true));
        const agent = gate.acceptingAgent;
        assert.equal(await gate.until(() => states.at(-1) === 'ready'), true);
        agent.sendFlowControl(flow(FlowAction.Pause));
        assert.equal(await gate.until(() => states.at(-1) === 'paused'), true, 'PAUSE');
        agent.sendFlowControl(flow(FlowAction.Resume));
        assert.equal(await gate.until(() => states.at(-1) === 'ready' && states.length === 5), true, 'RESUME');
        agent.sendFlowControl(flow(FlowAction.UpdateCapacity, 0));
        assert.equal(await gate.until(() => states.at(-1) === 'paused'), true, 'capacity 0');
        agent.sendFlowControl(flow(FlowAction.UpdateCapacity, 8));
        assert.equal(await gate.until(() => states.at(-1) === 'ready' && states.length === 7), true, 'capacity 8');
        assert.equal(gate.open, 1, 'pausing never touched the socket');
        host.command({ type: 'close', connectionId: 1 });
        assert.equal(await gate.until(() => gate.open === 0), true, 'close command closed the socket');
        assert.deepEqual(states, ['connecting', 'handshaking', 'ready', 'paused', 'ready', 'paused', 'ready', 'closed']);
      } finally {
        await host.terminate();
      }
    }));

  test('drain() with a request outstanding: draining until the reply, then DRAINED → closed', () =>
    withGate(['accept'], async (gate) => {
      const { actor, states } = startActor(gate);
      try {
        assert.equal(await gate.until(() => actor.state === 'ready'), true);
        const connection = actor.connection as FramedConnection;
        const reply = connection.send('request_headers', requestHeaders('held', '/hold'), 'held');
        assert.equal(await gate.until(() => gate.heldCount === 1), true);
        actor.drain();
        assert.equal(actor.state, 'draining');
        // Still draining while the agent holds the reply: a ping's round trip after drain() is the
        // positive marker that the connection has had its chance to close, and it has not.
        await connection.ping();
        assert.equal(actor.state, 'draining');
        assert.equal(gate.open, 1);
        gate.release();
        assert.deepEqual((await reply).routingMetadata, { seen: 'held' });
        assert.equal(await gate.until(() => actor.state === 'closed'), true, 'DRAINED once nothing is outstanding');
        assert.equal(await gate.until(() => gate.open === 0), true, 'the agent sees the connection end');
        assert.deepEqual(states, ['connecting', 'handshaking', 'ready', 'draining', 'closed']);
      } finally {
        actor.close();
      }
    }));

  test('drain() with nothing outstanding closes at once', () =>
    withGate(['accept'], async (gate) => {
      const { actor, states } = startActor(gate);
      try {
        assert.equal(await gate.until(() => actor.state === 'ready'), true);
        actor.drain();
        assert.equal(await gate.until(() => actor.state === 'closed'), true);
        assert.equal(await gate.until(() => gate.open === 0), true);
        assert.deepEqual(states, ['connecting', 'handshaking', 'ready', 'draining', 'closed']);
      } finally {
        actor.close();
      }
    }));

  test('recycle(): the live connection is dropped as LOST, closed, and replaced by a new one', () =>
    withGate(['accept', 'accept'], async (gate) => {
      const { actor, states } = startActor(gate);
      try {
        assert.equal(await gate.until(() => actor.state === 'ready'), true);
        const first = actor.connection as FramedConnection;
        actor.recycle('model: unrecoverable health report');
        assert.equal(first.closed, true);
        assert.equal(await gate.until(() => states.length === 7 && actor.state === 'ready'), true, `states: ${states.join(' → ')}`);
        assert.deepEqual(states, ['connecting', 'handshaking', 'ready', 'backoff', 'connecting', 'handshaking', 'ready']);
        assert.equal(gate.connections[0]?.closed, true, 'the recycled socket is closed at the agent end');
        assert.equal(gate.open, 1);
        const second = actor.connection as FramedConnection;
        assert.notEqual(second, first);
        assert.deepEqual((await second.send('request_headers', requestHeaders('after'), 'after')).routingMetadata, { seen: 'after' });
      } finally {
        actor.close();
      }
    }));
});
