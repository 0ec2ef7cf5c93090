// CircuitBreaker class API (spec §10.10): neutral outcomes, reset, the event-free hot path,
// outcome classification and config validation. The table itself is model-tested in
// test/model/circuit-breaker.model.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, CircuitState, classifyOutcome, resolveCircuitBreakerConfig } from '../src/pool/circuit-breaker.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';

/** Admits or fails the test; returns the generation (assert.ok without a message is slow under tsx). */
function mustAdmit(b: CircuitBreaker, now: number, what: string): number {
  const a = b.admit(now);
  if (!a.admitted) assert.fail(`${what}: rejected at ${now} in state ${b.state}`);
  return a.generation;
}

test('neutral outcomes only release the probe slot', () => {
  const b = new CircuitBreaker({ failureThreshold: 1, successThreshold: 2, openDurationMs: 10 });
  const a = mustAdmit(b, 0, 'a');
  b.onNeutral(a);
  assert.equal(b.failures, 0);
  b.onFailure(a, 0);
  assert.equal(b.state, CircuitState.Open);
  const p = mustAdmit(b, 10, 'p');
  assert.deepEqual(b.admit(10), { admitted: false });
  b.onNeutral(p);
  assert.equal(b.state, CircuitState.HalfOpen);
  assert.equal(b.probes, 0);
  const q = mustAdmit(b, 10, 'q');
  assert.equal(q, p);
});

test('reset() forces CLOSED with a new generation', () => {
  const changes: number[] = [];
  const b = new CircuitBreaker({ failureThreshold: 1 }, { onStateChange: (s) => changes.push(s) });
  const a = mustAdmit(b, 0, 'a');
  b.onFailure(a, 0);
  assert.equal(b.state, CircuitState.Open);
  b.reset();
  assert.equal(b.state, CircuitState.Closed);
  const c = mustAdmit(b, 1, 'c');
  assert.notEqual(c, a);
  assert.deepEqual(changes, [1, 0]);
});

test('a healthy CLOSED breaker sends no machine events on admit/onSuccess', () => {
  const b = new CircuitBreaker();
  for (let i = 0; i < 10_000; i++) {
    const a = mustAdmit(b, i, 'a');
    b.onSuccess(a);
    b.onNeutral(a);
  }
  assert.equal(b.machineEvents, 0);
  const a = mustAdmit(b, 0, 'a');
  b.onFailure(a, 0); // a real change: one event
  const c = mustAdmit(b, 0, 'c');
  b.onSuccess(c); // clears the count: one event
  b.onSuccess(c); // nothing to clear: none
  assert.equal(b.machineEvents, 2);
});

test('GV-29 (ours): onAgentReachable moves only an OPEN breaker, to HALF_OPEN, with one machine event', () => {
  const changes: number[] = [];
  const b = new CircuitBreaker({ failureThreshold: 1, openDurationMs: 30_000 }, { onStateChange: (s) => changes.push(s) });
  b.onAgentReachable();
  assert.equal(b.machineEvents, 0, 'CLOSED: nothing to do, no event');
  b.onFailure(mustAdmit(b, 0, 'a'), 0);
  assert.deepEqual(b.admit(1), { admitted: false });
  const before = b.machineEvents;
  const generation = b.generation;
  b.onAgentReachable();
  assert.equal(b.state, CircuitState.HalfOpen);
  assert.equal(b.generation, generation + 1);
  assert.equal(b.machineEvents, before + 1);
  b.onAgentReachable();
  assert.equal(b.machineEvents, before + 1, 'HALF_OPEN: nothing to do, no event');
  mustAdmit(b, 2, 'the probe, 29.998 s before open_duration ends');
  assert.deepEqual(changes, [1, 2]);
});

test('classifyOutcome follows §10.10', () => {
  const err = (code: (typeof ErrorCode)[keyof typeof ErrorCode]) => new AgentPoolError(code, 'x');
  assert.equal(classifyOutcome(undefined), 'success');
  assert.equal(classifyOutcome(undefined, { synthetic: false }), 'success');
  assert.equal(classifyOutcome(undefined, { synthetic: true }), 'neutral');
  for (const code of [
    ErrorCode.Timeout,
    ErrorCode.NoHealthyConnection,
    ErrorCode.ConnectionLost,
    ErrorCode.ProtocolError,
    ErrorCode.WorkerLost,
  ]) {
    assert.equal(classifyOutcome(err(code)), 'failure', code);
    assert.equal(classifyOutcome(err(code).toSerialized()), 'failure', `${code} serialized`);
  }
  // ZAP_ERROR is internal only (spec §10.11) and ZAP_INVALID_ARGUMENT the caller's bug: neither is evidence against the agent.
  for (const code of [
    ErrorCode.Abort,
    ErrorCode.FlowPaused,
    ErrorCode.FrameTooLarge,
    ErrorCode.QueueFull,
    ErrorCode.Error,
    ErrorCode.InvalidArgument,
  ]) {
    assert.equal(classifyOutcome(err(code)), 'neutral', code);
  }
  const domAbort = new DOMException('aborted', 'AbortError');
  assert.equal(classifyOutcome(domAbort), 'neutral');
  assert.equal(classifyOutcome(new Error('untyped')), 'neutral');
  assert.equal(classifyOutcome('string'), 'neutral');
  assert.equal(classifyOutcome(null), 'neutral');
});

test('onOutcome routes by class', () => {
  const b = new CircuitBreaker({ failureThreshold: 2 });
  const a = mustAdmit(b, 0, 'a');
  b.onOutcome(a, new AgentPoolError(ErrorCode.Timeout, 't'), 0);
  assert.equal(b.failures, 1);
  b.onOutcome(a, new AgentPoolError(ErrorCode.Abort, 'a'), 0);
  assert.equal(b.failures, 1);
  b.onOutcome(a, undefined, 0, { synthetic: true });
  assert.equal(b.failures, 1);
  b.onOutcome(a, undefined, 0);
  assert.equal(b.failures, 0);
});

test('config is validated', () => {
  assert.deepEqual(resolveCircuitBreakerConfig(), {
    failureThreshold: 5,
    successThreshold: 2,
    openDurationMs: 30_000,
    halfOpenMaxRequests: 1,
  });
  assert.equal(resolveCircuitBreakerConfig({ openDurationMs: 5 }).openDurationMs, 5);
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
    assert.throws(
      () => new CircuitBreaker({ halfOpenMaxRequests: bad }),
      (e: unknown) => e instanceof AgentPoolError && e.code === ErrorCode.InvalidConfig && /halfOpenMaxRequests/.test(e.message),
    );
  }
  assert.throws(
    () => resolveCircuitBreakerConfig({ threshold: 1 } as never, 'agent waf'),
    (e: unknown) => e instanceof AgentPoolError && /agent waf: option 'threshold'/.test(e.message),
  );
});

test('open duration: OPEN rejects until exactly openDurationMs after it opened, then admits one probe (HALF_OPEN)', () => {
  const b = new CircuitBreaker({ failureThreshold: 1, openDurationMs: 150, halfOpenMaxRequests: 1 });
  const a = mustAdmit(b, 1_000, 'a');
  b.onFailure(a, 1_000);
  assert.equal(b.state, CircuitState.Open);
  const events = b.machineEvents;
  for (const now of [1_000, 1_010, 1_100, 1_149]) assert.deepEqual(b.admit(now), { admitted: false }, `at +${now - 1_000} ms`);
  assert.equal(b.state, CircuitState.Open);
  assert.equal(b.machineEvents, events, 'rejecting while OPEN is a field read, no machine event');
  mustAdmit(b, 1_150, 'the probe at +150 ms');
  assert.equal(b.state, CircuitState.HalfOpen);
  assert.deepEqual(b.admit(1_150), { admitted: false }, 'one probe at a time');
});
