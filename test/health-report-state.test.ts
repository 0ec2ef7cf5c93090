// Health overlay of one connection (spec §10.6): report states, valid_until_ms expiry, timeout
// multiplier, disabled features, and the 3-consecutive-failures rule.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSECUTIVE_FAILURE_LIMIT, HealthReportState, countsAsConnectionFailure } from '../src/pool/health-report-state.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { healthStatusFromWire } from '../src/protocol/health-status.js';
import { HealthState, type HealthStatus } from '../src/protocol/types.js';

function report(state: number, extra: Partial<HealthStatus> = {}): HealthStatus {
  return {
    agentId: 'waf',
    state: state as HealthStatus['state'],
    message: null,
    load: null,
    resources: null,
    validUntilMs: null,
    timestampMs: 0,
    disabledFeatures: [],
    timeoutMultiplier: 1,
    drainEtaMs: null,
    unhealthyReason: null,
    recoverable: true,
    ...extra,
  };
}

const timeout = new AgentPoolError(ErrorCode.Timeout, 't');

describe('reported states', () => {
  test('no report: healthy, selectable, multiplier 1, nothing disabled', () => {
    const h = new HealthReportState();
    assert.equal(h.condition, 'healthy');
    assert.equal(h.selectable, true);
    assert.equal(h.acceptsBound, true);
    assert.equal(h.timeoutMultiplier, 1);
    assert.equal(h.disabledFeatures.size, 0);
    assert.equal(h.reportedState, null);
  });

  test('degraded: selectable, multiplier and disabled features recorded', () => {
    const h = new HealthReportState();
    const r = h.apply(report(HealthState.Degraded, { timeoutMultiplier: 1.5, disabledFeatures: ['guardrails', 'websocket'] }), 0);
    assert.deepEqual(r, { changed: true, close: false });
    assert.equal(h.condition, 'degraded');
    assert.equal(h.selectable, true);
    assert.equal(h.timeoutMultiplier, 1.5);
    assert.equal(h.isFeatureDisabled('guardrails'), true);
    assert.equal(h.isFeatureDisabled('websocket'), true);
    assert.equal(h.isFeatureDisabled('cancellation'), false);
    assert.deepEqual(h.apply(report(HealthState.Degraded, { timeoutMultiplier: 1.5, disabledFeatures: ['websocket', 'guardrails'] }), 1), {
      changed: false,
      close: false,
    });
  });

  test('degraded multiplier that is not finite and > 0 reads as 1', () => {
    for (const m of [0, -2, Number.NaN, Infinity]) {
      const h = new HealthReportState();
      h.apply(report(HealthState.Degraded, { timeoutMultiplier: m }), 0);
      assert.equal(h.timeoutMultiplier, 1, String(m));
    }
  });

  test('draining: not selectable for new requests, bound requests still go there', () => {
    const h = new HealthReportState();
    h.apply(report(HealthState.Draining, { drainEtaMs: 5000, timeoutMultiplier: 3, disabledFeatures: ['guardrails'] }), 0);
    assert.equal(h.condition, 'draining');
    assert.equal(h.selectable, false);
    assert.equal(h.acceptsBound, true);
    assert.equal(h.timeoutMultiplier, 1, 'only degraded reports scale timeouts');
    assert.equal(h.disabledFeatures.size, 0, 'only degraded reports disable features');
  });

  test('unhealthy recoverable: not selectable at all, stays open', () => {
    const h = new HealthReportState();
    assert.deepEqual(h.apply(report(HealthState.Unhealthy, { recoverable: true }), 0), { changed: true, close: false });
    assert.equal(h.selectable, false);
    assert.equal(h.acceptsBound, false);
    assert.equal(h.condition, 'unhealthy');
  });

  test('unhealthy unrecoverable asks for the connection to be closed and replaced', () => {
    const h = new HealthReportState();
    assert.deepEqual(h.apply(report(HealthState.Unhealthy, { recoverable: false }), 0), { changed: true, close: true });
    const lapsed = new HealthReportState();
    const r = lapsed.apply(report(HealthState.Unhealthy, { recoverable: false, validUntilMs: 10 }), 11);
    assert.equal(r.close, true, 'even a lapsed unrecoverable report asks for replacement');
    assert.equal(lapsed.selectable, true);
  });

  test('healthy clears any reported condition; a healthy/degraded report lifts unhealthy', () => {
    const h = new HealthReportState();
    h.apply(report(HealthState.Degraded, { timeoutMultiplier: 2, disabledFeatures: ['guardrails'] }), 0);
    assert.deepEqual(h.apply(report(HealthState.Healthy), 1), { changed: true, close: false });
    assert.equal(h.condition, 'healthy');
    assert.equal(h.timeoutMultiplier, 1);
    assert.equal(h.disabledFeatures.size, 0);
    h.apply(report(HealthState.Unhealthy), 2);
    h.apply(report(HealthState.Degraded), 3);
    assert.equal(h.selectable, true);
    assert.equal(h.condition, 'degraded');
  });

  test('state 0 is ignored', () => {
    const h = new HealthReportState();
    h.apply(report(HealthState.Draining), 0);
    assert.deepEqual(h.apply(report(HealthState.Unspecified), 1), { changed: false, close: false });
    assert.equal(h.condition, 'draining');
  });

  test('tagged wire form has the same effect', () => {
    const h = new HealthReportState();
    const decoded = healthStatusFromWire({
      agent_id: 'waf',
      state: { status: 'degraded', disabled_features: ['config_push'], timeout_multiplier: 2.5 },
      timestamp_ms: 1,
    });
    h.apply(decoded, 0);
    assert.equal(h.timeoutMultiplier, 2.5);
    assert.equal(h.isFeatureDisabled('config_push'), true);
  });
});

describe('valid_until_ms', () => {
  test('a report lapses once the clock passes valid_until_ms', () => {
    const h = new HealthReportState();
    h.apply(report(HealthState.Draining, { validUntilMs: 1000 }), 500);
    assert.equal(h.validUntilMs, 1000);
    assert.equal(h.expire(999), false);
    assert.equal(h.expire(1000), false, 'not yet passed at exactly valid_until_ms');
    assert.equal(h.selectable, false);
    assert.equal(h.expire(1001), true);
    assert.equal(h.selectable, true);
    assert.equal(h.condition, 'healthy');
    assert.equal(h.reportedState, null);
    assert.equal(h.expire(5000), false, 'nothing left to expire');
  });

  test('reports without valid_until_ms never lapse; a newer report replaces the deadline', () => {
    const h = new HealthReportState();
    h.apply(report(HealthState.Degraded, { validUntilMs: 100, timeoutMultiplier: 2 }), 0);
    h.apply(report(HealthState.Degraded, { validUntilMs: null, timeoutMultiplier: 2 }), 50);
    assert.equal(h.expire(Number.MAX_SAFE_INTEGER), false);
    assert.equal(h.timeoutMultiplier, 2);
  });

  test('a report already past its valid_until_ms on arrival changes nothing', () => {
    const h = new HealthReportState();
    assert.deepEqual(h.apply(report(HealthState.Draining, { validUntilMs: 10 }), 11), { changed: false, close: false });
    assert.equal(h.selectable, true);
  });
});

describe('consecutive failures', () => {
  test(`${CONSECUTIVE_FAILURE_LIMIT} consecutive timeouts / lost connections / protocol errors make it unhealthy`, () => {
    for (const code of [ErrorCode.Timeout, ErrorCode.ConnectionLost, ErrorCode.ProtocolError]) {
      const h = new HealthReportState();
      const err = new AgentPoolError(code, 'x');
      assert.equal(h.recordFailure(err), false);
      assert.equal(h.recordFailure(err.toSerialized()), false);
      assert.equal(h.selectable, true, code);
      assert.equal(h.recordFailure(err), true, code);
      assert.equal(h.selectable, false);
      assert.equal(h.acceptsBound, false);
      assert.equal(h.unhealthyByFailures, true);
      assert.equal(h.condition, 'unhealthy');
      assert.equal(h.recordFailure(err), false, 'already unhealthy: no new change');
    }
  });

  test('a success in between restarts the count', () => {
    const h = new HealthReportState();
    h.recordFailure(timeout);
    h.recordFailure(timeout);
    assert.equal(h.recordSuccess(), false);
    assert.equal(h.consecutiveFailures, 0);
    h.recordFailure(timeout);
    h.recordFailure(timeout);
    assert.equal(h.selectable, true);
  });

  test('other errors neither count nor reset', () => {
    const h = new HealthReportState();
    h.recordFailure(timeout);
    h.recordFailure(timeout);
    for (const code of [
      ErrorCode.Abort,
      ErrorCode.FlowPaused,
      ErrorCode.FrameTooLarge,
      ErrorCode.WorkerLost,
      ErrorCode.Error,
      ErrorCode.InvalidArgument,
    ]) {
      assert.equal(h.recordFailure(new AgentPoolError(code, 'x')), false, code);
    }
    assert.equal(h.recordFailure(new Error('plain')), false);
    assert.equal(h.consecutiveFailures, 2);
    assert.equal(countsAsConnectionFailure(undefined), false);
  });

  test('a successful reply or ping clears it, independently of reports', () => {
    const h = new HealthReportState();
    for (let i = 0; i < CONSECUTIVE_FAILURE_LIMIT; i++) h.recordFailure(timeout);
    h.apply(report(HealthState.Healthy), 0);
    assert.equal(h.selectable, false, 'a healthy report does not lift the failure mark');
    h.apply(report(HealthState.Degraded, { timeoutMultiplier: 2 }), 0);
    assert.equal(h.recordSuccess(), true);
    assert.equal(h.selectable, true);
    assert.equal(h.condition, 'degraded');
    assert.equal(h.unhealthyByFailures, false);
  });
});
