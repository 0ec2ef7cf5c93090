// Property round trips for every control, handshake and registration message (spec §5, §7, §9):
// domain → wire → (JSON text | MessagePack with Map structs | positional arrays) → domain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { decodeCancel, encodeCancel } from '../src/protocol/cancel.js';
import { decodePing, encodePing } from '../src/protocol/ping.js';
import { healthStatusFromWire, healthStatusToWire } from '../src/protocol/health-status.js';
import { flowControlFromWire, flowControlToWire } from '../src/protocol/flow-control.js';
import { metricsReportFromWire, metricsReportToWire } from '../src/protocol/metrics-report.js';
import {
  configUpdateRequestFromWire,
  configUpdateRequestToWire,
  configUpdateResponseFromWire,
  configUpdateResponseToWire,
} from '../src/protocol/config-update.js';
import { capabilitiesFromWire, capabilitiesToWire, DEFAULT_HEALTH_CONFIG, EVENT_CODE } from '../src/protocol/capabilities.js';
import {
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
} from '../src/protocol/handshake.js';
import {
  decodeRegistrationRequest,
  decodeRegistrationResponse,
  encodeRegistrationRequest,
  encodeRegistrationResponse,
} from '../src/protocol/registration.js';
import {
  CANCEL_REASONS,
  type Capabilities,
  type ConfigUpdateType,
  type EventKind,
  type HealthStatus,
  type HistogramSample,
  type MetricSample,
  type RuleDefinition,
} from '../src/protocol/types.js';

const RUNS = { numRuns: 200 };
// fast-check v4 may build null-prototype records; the decoders return plain objects.
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true });
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

const viaJson = (wire: unknown): unknown => JSON.parse(JSON.stringify(wire));
/** MessagePack with every struct decoded as a Map (reader leniency, §4.2). */
const viaMsgpackMaps = (wire: unknown): unknown => unpackr.unpack(packr.pack(wire));
/** Every plain object turned into the array of its values (positional structs, §4.2). */
function positional(wire: unknown): unknown {
  if (Array.isArray(wire)) return wire.map(positional);
  if (typeof wire === 'object' && wire !== null) return Object.values(wire).map(positional);
  return wire;
}
/** JSON cannot tell -0 from 0; normalise generated numbers so deepEqual compares what JSON can carry. */
const normalise = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

// ---------------------------------------------------------------------------------------------
// arbitraries

const text = fc.string({ unit: 'binary', maxLength: 24 });
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
const labels = fc.dictionary(key, text, { maxKeys: 4, noNullPrototype: true });
const u64 = fc.maxSafeNat();
const u32 = fc.nat({ max: 0xffff_ffff });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0); // -0 → 0
const positive = fc.double({ min: 0.001, max: 1000, noNaN: true });
const json = fc.jsonValue({ maxDepth: 2 }).map(normalise);

const healthStatus: fc.Arbitrary<HealthStatus> = rec({
  agentId: text,
  state: fc.constantFrom(0, 1, 2, 3, 4),
  message: fc.option(text, { nil: null }),
  load: fc.option(
    rec({
      inFlight: u32,
      queueDepth: u32,
      avgLatencyMs: finite,
      p50LatencyMs: finite,
      p95LatencyMs: finite,
      p99LatencyMs: finite,
      requestsProcessed: u64,
      requestsRejected: u64,
      requestsTimedOut: u64,
    }),
    { nil: null },
  ),
  resources: fc.option(
    rec({
      cpuPercent: fc.option(finite, { nil: null }),
      memoryBytes: fc.option(u64, { nil: null }),
      memoryLimit: fc.option(u64, { nil: null }),
      activeThreads: fc.option(u32, { nil: null }),
      openFds: fc.option(u32, { nil: null }),
      fdLimit: fc.option(u32, { nil: null }),
      connections: fc.option(u32, { nil: null }),
    }),
    { nil: null },
  ),
  validUntilMs: fc.option(u64, { nil: null }),
  timestampMs: u64,
  disabledFeatures: fc.array(text, { maxLength: 3 }),
  timeoutMultiplier: positive,
  drainEtaMs: fc.option(u64, { nil: null }),
  unhealthyReason: fc.option(text, { nil: null }),
  recoverable: fc.boolean(),
}) as fc.Arbitrary<HealthStatus>;

const flowSignal = rec({
  correlationId: fc.option(text, { nil: null }),
  action: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
  bufferAvailable: fc.option(u64, { nil: null }),
  timestampMs: u64,
});

function withHelp<T extends object>(base: T, help: string | undefined): T & { help?: string } {
  return help === undefined ? base : { ...base, help };
}
const optHelp = fc.option(text, { nil: undefined });
const counter: fc.Arbitrary<MetricSample> = fc
  .tuple(text, optHelp, labels, u64)
  .map(([name, help, l, value]) => withHelp({ name, labels: l, value }, help));
const gauge: fc.Arbitrary<MetricSample> = fc
  .tuple(text, optHelp, labels, finite)
  .map(([name, help, l, value]) => withHelp({ name, labels: l, value }, help));
const bound = fc.oneof(finite, fc.constant(Infinity), fc.constant(-Infinity));
const histogram: fc.Arbitrary<HistogramSample> = fc
  .tuple(text, optHelp, labels, finite, u64, fc.array(rec({ le: bound, count: u64 }), { maxLength: 4 }))
  .map(([name, help, l, sum, count, buckets]) => withHelp({ name, labels: l, sum, count, buckets }, help));
const metricsReport = rec({
  agentId: text,
  timestampMs: u64,
  intervalMs: u64,
  counters: fc.array(counter, { maxLength: 3 }),
  gauges: fc.array(gauge, { maxLength: 3 }),
  histograms: fc.array(histogram, { maxLength: 2 }),
});

const rule: fc.Arbitrary<RuleDefinition> = rec({
  id: text,
  priority: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  definition: json,
  enabled: fc.boolean(),
  description: fc.option(text, { nil: null }),
  tags: fc.array(text, { maxLength: 3 }),
});
const updateType: fc.Arbitrary<ConfigUpdateType> = fc.oneof(
  fc.constant({ type: 'request_reload' as const }),
  rec({
    type: fc.constant('rule_update' as const),
    ruleSet: text,
    rules: fc.array(rule, { maxLength: 3 }),
    removeRules: fc.array(text, { maxLength: 3 }),
  }),
  rec({
    type: fc.constant('list_update' as const),
    listId: text,
    add: fc.array(text, { maxLength: 3 }),
    remove: fc.array(text, { maxLength: 3 }),
  }),
  rec({ type: fc.constant('restart_required' as const), reason: text, gracePeriodMs: u64 }),
  rec({ type: fc.constant('config_error' as const), error: text, field: fc.option(text, { nil: null }) }),
);

const EMITTABLE: EventKind[] = (Object.keys(EVENT_CODE) as EventKind[]).filter((k) => k !== 'configure');
const capabilities: fc.Arbitrary<Capabilities> = rec({
  agentId: text,
  name: text,
  version: text,
  supportedEvents: fc.shuffledSubarray(EMITTABLE),
  features: rec({
    streamingBody: fc.boolean(),
    websocket: fc.boolean(),
    guardrails: fc.boolean(),
    configPush: fc.boolean(),
    metricsExport: fc.boolean(),
    concurrentRequests: u32,
    cancellation: fc.boolean(),
    flowControl: fc.boolean(),
    healthReporting: fc.boolean(),
  }),
  limits: rec({ maxBodySize: u64, maxConcurrency: u32, preferredChunkSize: u64 }),
});
/** What a UDS reader gives back for capabilities that went over the wire. */
const asRead = (c: Capabilities): Capabilities => ({ ...c, protocolVersion: 2, healthConfig: { ...DEFAULT_HEALTH_CONFIG } });

// ---------------------------------------------------------------------------------------------
// properties

test('Cancel: encode → decode is the identity (UDS, every reason)', () => {
  fc.assert(
    fc.property(text, fc.constantFrom(...CANCEL_REASONS), u64, (correlationId, reason, timestampMs) => {
      const msg = { correlationId, reason, timestampMs };
      assert.deepEqual(decodeCancel(encodeCancel(msg)), msg);
    }),
    RUNS,
  );
});

test('Ping: encode → decode is the identity; the payload is exactly two keys', () => {
  fc.assert(
    fc.property(u64, u64, (sequence, timestampMs) => {
      const bytes = encodePing({ sequence, timestampMs });
      assert.equal(bytes.toString('utf8'), `{"sequence":${sequence},"timestamp_ms":${timestampMs}}`);
      assert.deepEqual(decodePing(bytes), { sequence, timestampMs });
    }),
    RUNS,
  );
});

test('HealthStatus: JSON, MessagePack maps and positional arrays all round-trip', () => {
  fc.assert(
    fc.property(healthStatus, (h) => {
      const wire = healthStatusToWire(h);
      assert.deepEqual(healthStatusFromWire(viaJson(wire)), h);
      assert.deepEqual(healthStatusFromWire(viaMsgpackMaps(wire)), h);
      assert.deepEqual(healthStatusFromWire(positional(wire)), h);
    }),
    RUNS,
  );
});

test('FlowControl: JSON, MessagePack maps and positional arrays all round-trip', () => {
  fc.assert(
    fc.property(flowSignal, (f) => {
      const wire = flowControlToWire(f);
      assert.deepEqual(flowControlFromWire(viaJson(wire)), f);
      assert.deepEqual(flowControlFromWire(viaMsgpackMaps(wire)), f);
      assert.deepEqual(flowControlFromWire(positional(wire)), f);
    }),
    RUNS,
  );
});

test('MetricsReport: JSON and MessagePack maps round-trip, infinite bounds included', () => {
  fc.assert(
    fc.property(metricsReport, (m) => {
      const wire = metricsReportToWire(m);
      assert.deepEqual(metricsReportFromWire(viaJson(wire)), m);
      assert.deepEqual(metricsReportFromWire(viaMsgpackMaps(wire)), m);
    }),
    RUNS,
  );
});

test('ConfigUpdateRequest and ConfigUpdateResponse round-trip through JSON', () => {
  fc.assert(
    fc.property(updateType, text, u64, (u, requestId, timestampMs) => {
      const r = { updateType: u, requestId, timestampMs };
      assert.deepEqual(configUpdateRequestFromWire(viaJson(configUpdateRequestToWire(r))), r);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(text, fc.boolean(), fc.option(text, { nil: null }), u64, (requestId, accepted, error, timestampMs) => {
      const r = { requestId, accepted, error, timestampMs };
      assert.deepEqual(configUpdateResponseFromWire(viaJson(configUpdateResponseToWire(r))), r);
    }),
    RUNS,
  );
});

test('Capabilities: every key written, configure never emitted, round trip through every form', () => {
  fc.assert(
    fc.property(capabilities, fc.boolean(), (c, withConfigure) => {
      const input: Capabilities = withConfigure ? { ...c, supportedEvents: ['configure', ...c.supportedEvents] } : c;
      const wire = capabilitiesToWire(input);
      const codes = wire['supported_events'] as number[];
      assert.ok(codes.every((n) => n >= 1 && n <= 7));
      assert.deepEqual(Object.keys(wire), ['agent_id', 'name', 'version', 'supported_events', 'features', 'limits']);
      assert.equal(Object.keys(wire['features'] as object).length, 9);
      assert.equal(Object.keys(wire['limits'] as object).length, 3);
      assert.deepEqual(capabilitiesFromWire(viaJson(wire)), asRead(c));
      assert.deepEqual(capabilitiesFromWire(viaMsgpackMaps(wire)), asRead(c));
      assert.deepEqual(capabilitiesFromWire(positional(wire)), asRead(c));
    }),
    RUNS,
  );
});

test('Handshake request and response round-trip through their JSON bytes', () => {
  const encodings = fc.constantFrom<('json' | 'msgpack')[]>(['json'], ['msgpack', 'json'], ['msgpack'], []);
  fc.assert(
    fc.property(fc.array(u32, { maxLength: 3 }), text, text, json, encodings, (versions, proxyId, proxyVersion, config, enc) => {
      const r = { supportedVersions: versions, proxyId, proxyVersion, config, supportedEncodings: enc };
      assert.deepEqual(decodeHandshakeRequest(encodeHandshakeRequest(r)), r);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(
      capabilities,
      fc.boolean(),
      fc.option(text, { nil: null }),
      fc.constantFrom('json' as const, 'msgpack' as const),
      u32,
      (c, success, error, encoding, protocolVersion) => {
        const r = { protocolVersion, capabilities: c, success, error, encoding };
        assert.deepEqual(decodeHandshakeResponse(encodeHandshakeResponse(r)), { ...r, capabilities: asRead(c) });
      },
    ),
    RUNS,
  );
});

test('Registration request and response round-trip through their JSON bytes', () => {
  fc.assert(
    fc.property(u32, text, capabilities, fc.option(text, { nil: null }), json, (protocolVersion, agentId, c, authToken, metadata) => {
      const r = { protocolVersion, agentId, capabilities: c, authToken, metadata };
      assert.deepEqual(decodeRegistrationRequest(encodeRegistrationRequest(r)), { ...r, capabilities: asRead(c) });
    }),
    RUNS,
  );
  fc.assert(
    fc.property(fc.boolean(), fc.option(text, { nil: null }), text, text, text, (success, error, proxyId, proxyVersion, connectionId) => {
      const r = { success, error, proxyId, proxyVersion, connectionId };
      assert.deepEqual(decodeRegistrationResponse(encodeRegistrationResponse(r)), r);
    }),
    RUNS,
  );
});
