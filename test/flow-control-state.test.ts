// Flow-control state (spec §10.5): signal effects per scope, the blocking rule, which kinds are
// flow-controlled, and the per-agent container's lifetime rules (connection loss, endRequest, bound).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AgentFlowState,
  applyFlowAction,
  createFlowState,
  isBlocked,
  isFlowControlled,
  skipsPausedConnections,
  type FlowState,
} from '../src/pool/flow-control-state.js';
import { flowControlFromWire } from '../src/protocol/flow-control.js';
import { FlowAction, type EventKind, type FlowControlSignal } from '../src/protocol/types.js';

const ALL_KINDS: EventKind[] = [
  'request_headers',
  'request_body_chunk',
  'response_headers',
  'response_body_chunk',
  'request_complete',
  'websocket_frame',
  'guardrail_inspect',
  'configure',
];

function signal(action: number, correlationId: string | null = null, bufferAvailable: number | null = null): FlowControlSignal {
  return { correlationId, action: action as FlowControlSignal['action'], bufferAvailable, timestampMs: 0 };
}

describe('flow-controlled kinds', () => {
  test('exactly RequestHeaders, RequestBodyChunk, ResponseBodyChunk, GuardrailInspect', () => {
    assert.deepEqual(ALL_KINDS.filter(isFlowControlled), [
      'request_headers',
      'request_body_chunk',
      'response_body_chunk',
      'guardrail_inspect',
    ]);
  });

  test('the selector skips paused connections for RequestHeaders and GuardrailInspect only', () => {
    assert.deepEqual(ALL_KINDS.filter(skipsPausedConnections), ['request_headers', 'guardrail_inspect']);
  });

  test('kinds that are not flow-controlled are never blocked', () => {
    const paused: FlowState = { paused: true, capacity: 1 };
    for (const kind of ALL_KINDS.filter((k) => !isFlowControlled(k))) {
      assert.equal(isBlocked(paused, paused, kind, 1_000), false, kind);
    }
  });
});

describe('signal effects on one scope', () => {
  test('PAUSE, RESUME, UPDATE_CAPACITY per the §10.5 table', () => {
    const s = createFlowState();
    assert.equal(applyFlowAction(s, FlowAction.Pause, null), 'pause');
    assert.deepEqual(s, { paused: true, capacity: null });
    assert.equal(applyFlowAction(s, FlowAction.UpdateCapacity, 4096), 'capacity');
    assert.deepEqual(s, { paused: false, capacity: 4096 });
    assert.equal(applyFlowAction(s, FlowAction.Pause, null), 'pause');
    assert.deepEqual(s, { paused: true, capacity: 4096 }, 'PAUSE keeps the announced capacity');
    assert.equal(applyFlowAction(s, FlowAction.Resume, null), 'resume');
    assert.deepEqual(s, { paused: false, capacity: null }, 'RESUME clears the capacity');
  });

  test('UPDATE_CAPACITY 0 is a PAUSE; absent capacity is ignored; action 0 and unknown are ignored', () => {
    const s = createFlowState();
    assert.equal(applyFlowAction(s, FlowAction.UpdateCapacity, 0), 'pause');
    assert.equal(s.paused, true);
    assert.equal(applyFlowAction(s, FlowAction.UpdateCapacity, null), 'ignored');
    assert.equal(s.paused, true);
    assert.equal(applyFlowAction(s, FlowAction.Unspecified, 10), 'ignored');
    assert.equal(applyFlowAction(s, 9, 10), 'ignored');
    assert.deepEqual(s, { paused: true, capacity: null });
  });

  test('decoded tagged and integer forms have the same effect', () => {
    const tagged = flowControlFromWire({ correlation_id: 'r', action: { type: 'update_capacity', buffer_available: 0 }, timestamp_ms: 1 });
    const a = createFlowState();
    assert.equal(applyFlowAction(a, tagged.action, tagged.bufferAvailable), 'pause');
    assert.equal(a.paused, true);
  });
});

describe('blocking rule', () => {
  test('a paused connection or a paused cid blocks every flow-controlled kind', () => {
    const paused: FlowState = { paused: true, capacity: null };
    for (const kind of ALL_KINDS.filter(isFlowControlled)) {
      assert.equal(isBlocked(paused, undefined, kind, 0), true, `${kind} connection`);
      assert.equal(isBlocked(undefined, paused, kind, 0), true, `${kind} cid`);
      assert.equal(isBlocked(undefined, undefined, kind, 1 << 30), false, `${kind} no state`);
    }
  });

  test('body chunks larger than the smaller capacity are blocked; headers ignore capacity', () => {
    const conn: FlowState = { paused: false, capacity: 1000 };
    const cid: FlowState = { paused: false, capacity: 300 };
    assert.equal(isBlocked(conn, cid, 'request_body_chunk', 300), false, 'equal to the limit passes');
    assert.equal(isBlocked(conn, cid, 'request_body_chunk', 301), true);
    assert.equal(isBlocked(conn, undefined, 'response_body_chunk', 1000), false);
    assert.equal(isBlocked(conn, undefined, 'response_body_chunk', 1001), true);
    assert.equal(isBlocked(undefined, cid, 'response_body_chunk', 301), true);
    assert.equal(isBlocked(conn, cid, 'request_headers', 5000), false);
    assert.equal(isBlocked(conn, cid, 'guardrail_inspect', 5000), false);
  });

  test('matches a direct reading of the rule for arbitrary states', () => {
    const stateArb = fc.option(fc.record({ paused: fc.boolean(), capacity: fc.option(fc.integer({ min: 1, max: 100 })) }), {
      nil: undefined,
    });
    fc.assert(
      fc.property(stateArb, stateArb, fc.constantFrom(...ALL_KINDS), fc.nat(120), (conn, cid, kind, bytes) => {
        const controlled = ['request_headers', 'request_body_chunk', 'response_body_chunk', 'guardrail_inspect'].includes(kind);
        const chunk = kind === 'request_body_chunk' || kind === 'response_body_chunk';
        const caps = [conn?.capacity, cid?.capacity].filter((c): c is number => typeof c === 'number');
        const want = controlled && (conn?.paused === true || cid?.paused === true || (chunk && caps.some((c) => bytes > c)));
        assert.equal(isBlocked(conn, cid, kind, bytes), want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('AgentFlowState', () => {
  test('signals without a cid scope the connection they arrived on', () => {
    const f = new AgentFlowState();
    f.apply(1, signal(FlowAction.Pause));
    assert.equal(f.isConnectionPaused(1), true);
    assert.equal(f.isConnectionPaused(2), false);
    assert.equal(f.isBlocked(1, 'r1', 'request_body_chunk', 10), true);
    assert.equal(f.isBlocked(2, 'r1', 'request_body_chunk', 10), false);
    assert.equal(f.isBlocked(1, 'r1', 'request_complete'), false);
    f.apply(1, signal(FlowAction.Resume));
    assert.equal(f.isBlocked(1, 'r1', 'request_body_chunk', 10), false);
    assert.equal(f.connectionScopes, 0, 'a resumed scope is dropped');
  });

  test('signals with a cid apply on every connection of the agent, until endRequest', () => {
    const f = new AgentFlowState();
    f.apply(1, signal(FlowAction.UpdateCapacity, 'r1', 100));
    for (const conn of [1, 2, 3]) {
      assert.equal(f.isBlocked(conn, 'r1', 'request_body_chunk', 101), true, `conn ${conn}`);
      assert.equal(f.isBlocked(conn, 'r1', 'request_body_chunk', 100), false, `conn ${conn}`);
    }
    assert.equal(f.isBlocked(1, 'r2', 'request_body_chunk', 101), false, 'other cids are unaffected');
    assert.equal(f.isConnectionPaused(1), false);
    f.endRequest('r1');
    assert.equal(f.isBlocked(1, 'r1', 'request_body_chunk', 101), false);
    assert.equal(f.cidScopes, 0);
  });

  test('connection state disappears with the connection', () => {
    const f = new AgentFlowState();
    f.apply(7, signal(FlowAction.Pause));
    f.apply(7, signal(FlowAction.Pause, 'r1'));
    f.dropConnection(7);
    assert.equal(f.isConnectionPaused(7), false);
    assert.equal(f.isBlocked(8, 'r1', 'request_headers'), true, 'cid state is the agent’s, not the connection’s');
  });

  test('counts pauses (capacity 0 included); ignored signals store nothing', () => {
    const f = new AgentFlowState();
    assert.equal(f.apply(1, signal(FlowAction.Pause)), 'pause');
    assert.equal(f.apply(1, signal(FlowAction.UpdateCapacity, 'r', 0)), 'pause');
    assert.equal(f.apply(1, signal(FlowAction.UpdateCapacity, 'q', null)), 'ignored');
    assert.equal(f.apply(1, signal(FlowAction.Unspecified, 'q')), 'ignored');
    assert.equal(f.apply(2, signal(FlowAction.Resume)), 'resume');
    assert.equal(f.pauses, 2);
    assert.equal(f.connectionScopes, 1);
    assert.equal(f.cidScopes, 1);
  });

  test('per-cid scopes are bounded; signals beyond the bound are dropped and counted', () => {
    const f = new AgentFlowState(3);
    for (let i = 0; i < 5; i++) f.apply(1, signal(FlowAction.Pause, `r${i}`));
    assert.equal(f.cidScopes, 3);
    assert.equal(f.droppedCidSignals, 2);
    assert.equal(f.isBlocked(1, 'r4', 'request_headers'), false);
    f.apply(1, signal(FlowAction.Resume, 'r0'));
    f.apply(1, signal(FlowAction.Pause, 'r4'));
    assert.equal(f.isBlocked(1, 'r4', 'request_headers'), true, 'room again after a RESUME');
    // Existing scopes are always updated, even at the bound.
    f.apply(1, signal(FlowAction.UpdateCapacity, 'r1', 50));
    assert.deepEqual(f.cid('r1'), { paused: false, capacity: 50 });
  });

  test('random signal sequences agree with a scope-by-scope model', () => {
    const sigArb = fc.record({
      conn: fc.integer({ min: 1, max: 3 }),
      cid: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
      action: fc.integer({ min: 0, max: 4 }),
      buf: fc.option(fc.integer({ min: 0, max: 64 }), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.array(sigArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('a', 'b', 'c'),
        fc.nat(80),
        (sigs, conn, cid, bytes) => {
          const f = new AgentFlowState();
          const model = new Map<string, FlowState>();
          for (const s of sigs) {
            f.apply(s.conn, signal(s.action, s.cid, s.buf));
            const key = s.cid === null ? `c${s.conn}` : `r${s.cid}`;
            const st = model.get(key) ?? createFlowState();
            applyFlowAction(st, s.action, s.buf);
            model.set(key, st);
          }
          for (const kind of ['request_headers', 'request_body_chunk', 'websocket_frame'] as const) {
            assert.equal(f.isBlocked(conn, cid, kind, bytes), isBlocked(model.get(`c${conn}`), model.get(`r${cid}`), kind, bytes), kind);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
