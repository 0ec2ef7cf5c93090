// Golden vectors for control payloads (spec §7, §15): GV-03 payload part (Cancel), the §2.4 Ping
// payload, GV-18 (HealthStatus), GV-19 (FlowControl), GV-20 decode part (MetricsReport),
// GV-21 JSON part (ConfigUpdateRequest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cancelReasonFromGrpc,
  cancelReasonFromUds,
  cancelReasonToGrpc,
  cancelReasonToUds,
  decodeCancel,
  encodeCancel,
} from '../../src/protocol/cancel.js';
import { decodePing, encodePing } from '../../src/protocol/ping.js';
import { healthStatusFromWire, healthStatusToWire } from '../../src/protocol/health-status.js';
import { flowControlFromWire, flowControlToWire } from '../../src/protocol/flow-control.js';
import { metricsReportFromWire, metricsReportToWire } from '../../src/protocol/metrics-report.js';
import {
  configUpdateRequestFromWire,
  configUpdateRequestToWire,
  configUpdateResponseFromWire,
  configUpdateResponseToWire,
  defaultConfigUpdateDecision,
} from '../../src/protocol/config-update.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import type { CancelReason, ConfigUpdateRequest, FlowControlSignal, HealthStatus, MetricsReport } from '../../src/protocol/types.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const json = (wire: unknown): string => JSON.stringify(wire);

// ---------------------------------------------------------------------------------------------
// GV-03 (payload part) and the §2.4 Ping payload

const REASONS: [CancelReason, number, number][] = [
  ['client_disconnect', 0, 1],
  ['timeout', 1, 2],
  ['blocked_by_agent', 2, 3],
  ['upstream_error', 3, 4],
  ['proxy_shutdown', 4, 5],
  ['manual', 5, 6],
];

for (const [reason, uds, grpc] of REASONS) {
  test(`GV-03 Cancel req-7 ${reason}: UDS reason ${uds} both ways (gRPC number ${grpc})`, () => {
    const text = `{"correlation_id":"req-7","reason":${uds},"timestamp_ms":1767225600000}`;
    const msg = { correlationId: 'req-7', reason, timestampMs: 1_767_225_600_000 };
    const payload = encodeCancel(msg);
    assert.equal(payload.toString('utf8'), text);
    assert.deepEqual(decodeCancel(utf8(text)), msg);
    assert.equal(cancelReasonToUds(reason), uds);
    assert.equal(cancelReasonFromUds(uds), reason);
    assert.equal(cancelReasonToGrpc(reason), grpc);
    assert.equal(cancelReasonFromGrpc(grpc), reason);
  });
}

test('GV-03 Cancel frame header 00 00 00 43 40', () => {
  const payload = encodeCancel({ correlationId: 'req-7', reason: 'client_disconnect', timestampMs: 1_767_225_600_000 });
  assert.equal(payload.length, 66);
  assert.equal(encodeFrame(0x40, payload).subarray(0, 5).toString('hex'), '0000004340');
});

test('GV-03 the same number means different things per transport; unspecified reads as null', () => {
  assert.equal(cancelReasonFromUds(1), 'timeout');
  assert.equal(cancelReasonFromGrpc(1), 'client_disconnect');
  assert.equal(cancelReasonFromGrpc(0), null);
  assert.equal(cancelReasonFromGrpc(7), null);
  assert.equal(cancelReasonFromUds(6), null);
  assert.equal(cancelReasonFromUds({ ClientDisconnect: null }), null);
  assert.deepEqual(decodeCancel(utf8('{"correlation_id":"c","reason":{"manual":"x"},"timestamp_ms":5}')), {
    correlationId: 'c',
    reason: null,
    timestampMs: 5,
  });
});

test('Ping payload of §2.4 both ways', () => {
  const text = '{"sequence":1,"timestamp_ms":1767225600000}';
  assert.equal(encodePing({ sequence: 1, timestampMs: 1_767_225_600_000 }).toString('utf8'), text);
  assert.equal(utf8(text).length, 43);
  assert.deepEqual(decodePing(utf8(text)), { sequence: 1, timestampMs: 1_767_225_600_000 });
});

// ---------------------------------------------------------------------------------------------
// GV-18 HealthStatus

const HEALTH_INTEGER =
  '{"agent_id":"waf","state":2,"message":"rules reloading","load":null,"resources":null,' +
  '"valid_until_ms":1767225630000,"timestamp_ms":1767225600000,"disabled_features":["guardrails"],' +
  '"timeout_multiplier":1.5,"drain_eta_ms":null,"unhealthy_reason":null,"recoverable":true}';

const DEGRADED: HealthStatus = {
  agentId: 'waf',
  state: 2,
  message: 'rules reloading',
  load: null,
  resources: null,
  validUntilMs: 1_767_225_630_000,
  timestampMs: 1_767_225_600_000,
  disabledFeatures: ['guardrails'],
  timeoutMultiplier: 1.5,
  drainEtaMs: null,
  unhealthyReason: null,
  recoverable: true,
};

test('GV-18 integer form of §7.4 both ways', () => {
  assert.equal(json(healthStatusToWire(DEGRADED)), HEALTH_INTEGER);
  assert.deepEqual(healthStatusFromWire(JSON.parse(HEALTH_INTEGER)), DEGRADED);
});

test('GV-18 integer form with load and resources', () => {
  const h: HealthStatus = {
    ...DEGRADED,
    state: 1,
    message: null,
    disabledFeatures: [],
    timeoutMultiplier: 1,
    load: {
      inFlight: 3,
      queueDepth: 0,
      avgLatencyMs: 1.25,
      p50LatencyMs: 1,
      p95LatencyMs: 4.5,
      p99LatencyMs: 9,
      requestsProcessed: 1000,
      requestsRejected: 2,
      requestsTimedOut: 1,
    },
    resources: {
      cpuPercent: 12.5,
      memoryBytes: 1_048_576,
      memoryLimit: null,
      activeThreads: 8,
      openFds: 40,
      fdLimit: 1024,
      connections: 4,
    },
  };
  const text =
    '{"agent_id":"waf","state":1,"message":null,"load":{"in_flight":3,"queue_depth":0,' +
    '"avg_latency_ms":1.25,"p50_latency_ms":1,"p95_latency_ms":4.5,"p99_latency_ms":9,' +
    '"requests_processed":1000,"requests_rejected":2,"requests_timed_out":1},' +
    '"resources":{"cpu_percent":12.5,"memory_bytes":1048576,"memory_limit":null,"active_threads":8,' +
    '"open_fds":40,"fd_limit":1024,"connections":4},"valid_until_ms":1767225630000,' +
    '"timestamp_ms":1767225600000,"disabled_features":[],"timeout_multiplier":1,"drain_eta_ms":null,' +
    '"unhealthy_reason":null,"recoverable":true}';
  assert.equal(json(healthStatusToWire(h)), text);
  assert.deepEqual(healthStatusFromWire(JSON.parse(text)), h);
});

const TAGGED_BASE = { agent_id: 'waf', message: null, valid_until_ms: null, timestamp_ms: 1_767_225_600_000 };
const INTEGER_BASE = {
  ...TAGGED_BASE,
  load: null,
  resources: null,
  disabled_features: [],
  timeout_multiplier: 1,
  drain_eta_ms: null,
  unhealthy_reason: null,
  recoverable: true,
};

const HEALTH_PAIRS: { name: string; tagged: unknown; integer: unknown; state: number }[] = [
  { name: 'healthy', tagged: { ...TAGGED_BASE, state: { status: 'healthy' } }, integer: { ...INTEGER_BASE, state: 1 }, state: 1 },
  {
    name: 'degraded',
    tagged: { ...TAGGED_BASE, state: { status: 'degraded', disabled_features: ['guardrails'], timeout_multiplier: 1.5 } },
    integer: { ...INTEGER_BASE, state: 2, disabled_features: ['guardrails'], timeout_multiplier: 1.5 },
    state: 2,
  },
  {
    name: 'draining',
    tagged: { ...TAGGED_BASE, state: { status: 'draining', eta_ms: 5000 } },
    integer: { ...INTEGER_BASE, state: 3, drain_eta_ms: 5000 },
    state: 3,
  },
  {
    name: 'draining with eta null',
    tagged: { ...TAGGED_BASE, state: { status: 'draining', eta_ms: null } },
    integer: { ...INTEGER_BASE, state: 3 },
    state: 3,
  },
  {
    name: 'unhealthy',
    tagged: { ...TAGGED_BASE, state: { status: 'unhealthy', reason: 'db down', recoverable: false } },
    integer: { ...INTEGER_BASE, state: 4, unhealthy_reason: 'db down', recoverable: false },
    state: 4,
  },
];

for (const p of HEALTH_PAIRS) {
  test(`GV-18 tagged ${p.name} decodes like the integer form`, () => {
    const fromTagged = healthStatusFromWire(p.tagged);
    assert.equal(fromTagged.state, p.state);
    assert.deepEqual(fromTagged, healthStatusFromWire(p.integer));
    // and what we would emit for it is the integer form
    assert.deepEqual(healthStatusToWire(fromTagged), p.integer);
  });
}

test('GV-18 state 0, unknown integer, unknown status → state 0 (ignored by the caller)', () => {
  assert.equal(healthStatusFromWire({ ...INTEGER_BASE, state: 0 }).state, 0);
  assert.equal(healthStatusFromWire({ ...INTEGER_BASE, state: 9 }).state, 0);
  assert.equal(healthStatusFromWire({ ...TAGGED_BASE, state: { status: 'sleepy' } }).state, 0);
  assert.equal(healthStatusFromWire({ ...TAGGED_BASE, state: 'healthy' }).state, 0);
  assert.equal(healthStatusFromWire({ agent_id: 'waf' }).state, 0);
});

test('GV-18 timeout_multiplier ≤ 0 or missing reads as 1', () => {
  assert.equal(healthStatusFromWire({ ...INTEGER_BASE, state: 2, timeout_multiplier: 0 }).timeoutMultiplier, 1);
  assert.equal(healthStatusFromWire({ ...INTEGER_BASE, state: 2, timeout_multiplier: -2 }).timeoutMultiplier, 1);
  assert.equal(healthStatusFromWire({ state: 2 }).timeoutMultiplier, 1);
  assert.equal(healthStatusFromWire({ state: { status: 'degraded', timeout_multiplier: 0 } }).timeoutMultiplier, 1);
});

test('GV-18 a wrongly typed field is a protocol error', () => {
  assert.throws(
    () => healthStatusFromWire({ ...INTEGER_BASE, state: 1, disabled_features: 'guardrails' }),
    (e: unknown) => e instanceof AgentPoolError && e.code === 'ZAP_PROTOCOL_ERROR',
  );
  assert.throws(() => healthStatusFromWire('healthy'), /HealthStatus: expected an object/);
});

// ---------------------------------------------------------------------------------------------
// GV-19 FlowControl

test('GV-19 integer form of §7.7 both ways', () => {
  const pause = '{"correlation_id":null,"action":1,"buffer_available":null,"timestamp_ms":1767225600000}';
  const cap = '{"correlation_id":"req-7","action":3,"buffer_available":65536,"timestamp_ms":1767225600100}';
  const pauseSignal: FlowControlSignal = { correlationId: null, action: 1, bufferAvailable: null, timestampMs: 1_767_225_600_000 };
  const capSignal: FlowControlSignal = { correlationId: 'req-7', action: 3, bufferAvailable: 65_536, timestampMs: 1_767_225_600_100 };
  assert.equal(json(flowControlToWire(pauseSignal)), pause);
  assert.equal(json(flowControlToWire(capSignal)), cap);
  assert.deepEqual(flowControlFromWire(JSON.parse(pause)), pauseSignal);
  assert.deepEqual(flowControlFromWire(JSON.parse(cap)), capSignal);
});

const FLOW_PAIRS: { name: string; tagged: unknown; integer: unknown; expected: FlowControlSignal }[] = [
  {
    name: 'pause',
    tagged: { correlation_id: null, action: { type: 'pause' }, timestamp_ms: 10 },
    integer: { correlation_id: null, action: 1, buffer_available: null, timestamp_ms: 10 },
    expected: { correlationId: null, action: 1, bufferAvailable: null, timestampMs: 10 },
  },
  {
    name: 'resume',
    tagged: { correlation_id: 'req-7', action: { type: 'resume' }, timestamp_ms: 11 },
    integer: { correlation_id: 'req-7', action: 2, buffer_available: null, timestamp_ms: 11 },
    expected: { correlationId: 'req-7', action: 2, bufferAvailable: null, timestampMs: 11 },
  },
  {
    name: 'update_capacity (inside the object)',
    tagged: { correlation_id: null, action: { type: 'update_capacity', buffer_available: 65536 }, timestamp_ms: 12 },
    integer: { correlation_id: null, action: 3, buffer_available: 65536, timestamp_ms: 12 },
    expected: { correlationId: null, action: 3, bufferAvailable: 65_536, timestampMs: 12 },
  },
  {
    name: 'update_capacity (top level)',
    tagged: { correlation_id: null, action: { type: 'update_capacity' }, buffer_available: 4096, timestamp_ms: 13 },
    integer: { correlation_id: null, action: 3, buffer_available: 4096, timestamp_ms: 13 },
    expected: { correlationId: null, action: 3, bufferAvailable: 4096, timestampMs: 13 },
  },
  {
    // capacity 0 keeps action 3 here; the pool treats it as PAUSE (§10.5)
    name: 'update_capacity 0',
    tagged: { correlation_id: null, action: { type: 'update_capacity', buffer_available: 0 }, timestamp_ms: 14 },
    integer: { correlation_id: null, action: 3, buffer_available: 0, timestamp_ms: 14 },
    expected: { correlationId: null, action: 3, bufferAvailable: 0, timestampMs: 14 },
  },
];

for (const p of FLOW_PAIRS) {
  test(`GV-19 tagged ${p.name} decodes like the integer form`, () => {
    assert.deepEqual(flowControlFromWire(p.tagged), p.expected);
    assert.deepEqual(flowControlFromWire(p.integer), p.expected);
  });
}

test('GV-19 buffer_available inside the tagged object wins over the top level', () => {
  const s = flowControlFromWire({ action: { type: 'update_capacity', buffer_available: 1 }, buffer_available: 2 });
  assert.equal(s.bufferAvailable, 1);
});

test('GV-19 action 0, unknown number, unknown type → action 0', () => {
  assert.equal(flowControlFromWire({ action: 0, timestamp_ms: 1 }).action, 0);
  assert.equal(flowControlFromWire({ action: 4, timestamp_ms: 1 }).action, 0);
  assert.equal(flowControlFromWire({ action: { type: 'throttle' }, timestamp_ms: 1 }).action, 0);
  assert.equal(flowControlFromWire({ timestamp_ms: 1 }).action, 0);
});

// ---------------------------------------------------------------------------------------------
// GV-20 MetricsReport (decode part; exposition text belongs to the metrics collector)

const METRICS_JSON =
  '{"agent_id":"waf","timestamp_ms":1767225600000,"interval_ms":10000,' +
  '"counters":[{"name":"agent_requests_blocked_total","help":"Requests blocked",' +
  '"labels":{"rule":"942100"},"value":17}],"gauges":[{"name":"agent_in_flight_requests",' +
  '"labels":{},"value":3}],"histograms":[{"name":"agent_rule_eval_seconds","labels":{},"sum":0.42,' +
  '"count":120,"buckets":[{"le":0.001,"count":80},{"le":0.01,"count":118},{"le":"+Inf",' +
  '"count":120}]}]}';

const METRICS: MetricsReport = {
  agentId: 'waf',
  timestampMs: 1_767_225_600_000,
  intervalMs: 10_000,
  counters: [{ name: 'agent_requests_blocked_total', help: 'Requests blocked', labels: { rule: '942100' }, value: 17 }],
  gauges: [{ name: 'agent_in_flight_requests', labels: {}, value: 3 }],
  histograms: [
    {
      name: 'agent_rule_eval_seconds',
      labels: {},
      sum: 0.42,
      count: 120,
      buckets: [
        { le: 0.001, count: 80 },
        { le: 0.01, count: 118 },
        { le: Infinity, count: 120 },
      ],
    },
  ],
};

test('GV-20 the §7.5 example both ways; help omitted when absent; Infinity written as "+Inf"', () => {
  assert.equal(json(metricsReportToWire(METRICS)), METRICS_JSON);
  assert.deepEqual(metricsReportFromWire(JSON.parse(METRICS_JSON)), METRICS);
});

test('GV-20 bucket le "+Inf", "Inf", "0.5" and 0.5', () => {
  const report = metricsReportFromWire({
    agent_id: 'waf',
    timestamp_ms: 1,
    interval_ms: 2,
    histograms: [
      {
        name: 'h',
        sum: 1,
        count: 4,
        buckets: [
          { le: 0.5, count: 1 },
          { le: '0.5', count: 2 },
          { le: 'Inf', count: 3 },
          { le: '+Inf', count: 4 },
        ],
      },
    ],
  });
  assert.deepEqual(report.histograms[0]?.buckets, [
    { le: 0.5, count: 1 },
    { le: 0.5, count: 2 },
    { le: Infinity, count: 3 },
    { le: Infinity, count: 4 },
  ]);
  assert.deepEqual(report.counters, []);
  assert.deepEqual(report.gauges, []);
});

test('GV-20 required fields: missing name, value, buckets or bucket le → protocol error', () => {
  const bad = [
    { counters: [{ labels: {}, value: 1 }] },
    { gauges: [{ name: 'g', labels: {} }] },
    { histograms: [{ name: 'h', sum: 1, count: 1 }] },
    { histograms: [{ name: 'h', sum: 1, count: 1, buckets: [{ count: 1 }] }] },
    { histograms: [{ name: 'h', sum: 1, count: 1, buckets: [{ le: 'lots', count: 1 }] }] },
    { counters: [{ name: 'c', value: 1.5 }] },
  ];
  for (const b of bad) {
    assert.throws(
      () => metricsReportFromWire({ agent_id: 'waf', timestamp_ms: 1, interval_ms: 1, ...b }),
      (e: unknown) => e instanceof AgentPoolError && e.code === 'ZAP_PROTOCOL_ERROR',
      JSON.stringify(b),
    );
  }
});

// ---------------------------------------------------------------------------------------------
// GV-21 ConfigUpdateRequest (JSON part)

const CONFIG_UPDATES: { name: string; json: string; request: ConfigUpdateRequest; accepted: boolean; error: string | null }[] = [
  {
    name: 'request_reload',
    json: '{"update_type":{"type":"request_reload"},"request_id":"cu-1","timestamp_ms":1767225600000}',
    request: { updateType: { type: 'request_reload' }, requestId: 'cu-1', timestampMs: 1_767_225_600_000 },
    accepted: true,
    error: null,
  },
  {
    name: 'rule_update',
    json:
      '{"update_type":{"type":"rule_update","rule_set":"crs","rules":[{"id":"r1","priority":10,' +
      '"definition":{"match":"/admin"},"enabled":true,"description":null,"tags":["admin"]}],' +
      '"remove_rules":["r0"]},"request_id":"cu-2","timestamp_ms":1767225600000}',
    request: {
      updateType: {
        type: 'rule_update',
        ruleSet: 'crs',
        rules: [{ id: 'r1', priority: 10, definition: { match: '/admin' }, enabled: true, description: null, tags: ['admin'] }],
        removeRules: ['r0'],
      },
      requestId: 'cu-2',
      timestampMs: 1_767_225_600_000,
    },
    accepted: false,
    error: 'Rule updates not supported',
  },
  {
    name: 'list_update',
    json:
      '{"update_type":{"type":"list_update","list_id":"blocked-ips","add":["198.51.100.7"],' +
      '"remove":[]},"request_id":"cu-42","timestamp_ms":1767225600000}',
    request: {
      updateType: { type: 'list_update', listId: 'blocked-ips', add: ['198.51.100.7'], remove: [] },
      requestId: 'cu-42',
      timestampMs: 1_767_225_600_000,
    },
    accepted: false,
    error: 'List updates not supported',
  },
  {
    name: 'restart_required',
    json:
      '{"update_type":{"type":"restart_required","reason":"new binary","grace_period_ms":30000},' +
      '"request_id":"cu-4","timestamp_ms":1767225600000}',
    request: {
      updateType: { type: 'restart_required', reason: 'new binary', gracePeriodMs: 30_000 },
      requestId: 'cu-4',
      timestampMs: 1_767_225_600_000,
    },
    accepted: true,
    error: null,
  },
  {
    name: 'config_error',
    json: '{"update_type":{"type":"config_error","error":"bad regex","field":"rules[3]"},"request_id":"cu-5","timestamp_ms":1767225600000}',
    request: {
      updateType: { type: 'config_error', error: 'bad regex', field: 'rules[3]' },
      requestId: 'cu-5',
      timestampMs: 1_767_225_600_000,
    },
    accepted: true,
    error: null,
  },
];

for (const c of CONFIG_UPDATES) {
  test(`GV-21 ConfigUpdateRequest ${c.name} both ways, and its no-callback decision`, () => {
    assert.equal(json(configUpdateRequestToWire(c.request)), c.json);
    assert.deepEqual(configUpdateRequestFromWire(JSON.parse(c.json)), c.request);
    assert.deepEqual(defaultConfigUpdateDecision(c.request), { accepted: c.accepted, error: c.error });
  });
}

test('GV-21 config_error with the field key absent reads as null; unknown type is a protocol error', () => {
  const r = configUpdateRequestFromWire({ update_type: { type: 'config_error', error: 'x' }, request_id: 'a', timestamp_ms: 1 });
  assert.deepEqual(r.updateType, { type: 'config_error', error: 'x', field: null });
  assert.throws(
    () => configUpdateRequestFromWire({ update_type: { type: 'rollback' }, request_id: 'a', timestamp_ms: 1 }),
    /unknown type 'rollback'/,
  );
});

test('GV-21 ConfigUpdateResponse shape', () => {
  const r = { requestId: 'cu-42', accepted: false, error: 'List updates not supported', timestampMs: 1_767_225_600_001 };
  const text = '{"request_id":"cu-42","accepted":false,"error":"List updates not supported","timestamp_ms":1767225600001}';
  assert.equal(json(configUpdateResponseToWire(r)), text);
  assert.deepEqual(configUpdateResponseFromWire(JSON.parse(text)), r);
});
