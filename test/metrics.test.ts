// Prometheus metrics of the pool (spec §12): GV-30 (exact text of the §12.1/§12.2 families from fixed
// observations), GV-20 (agent-reported series from JSON and gRPC reports), the §12.3 series cap,
// expiry and name rules. Real prom-client output throughout; every text is also run through a
// small exposition parser so it stays valid Prometheus text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { Gauge, register as globalRegistry, Registry } from 'prom-client';
import { PoolMetrics, type GaugeSnapshot } from '../src/metrics/pool-metrics.js';
import { metricsReportFromWire } from '../src/protocol/metrics-report.js';
import { agentToProxyFromProto, metricsToProto, type PbAgentToProxy } from '../src/protocol/proto-mapping.js';
import { loadProtoDefinition } from '../src/transport/proto-schema.js';
import { isAgentPoolError } from '../src/protocol/errors.js';
import type { MetricSample, MetricsReport } from '../src/protocol/types.js';
import { parseExposition, type Family } from './support/prometheus-text.js';

/** The text block of one family (HELP through its last sample), as printed. */
function familyText(text: string, name: string): string | undefined {
  return text
    .split('\n\n')
    .find((block) => block.startsWith(`# HELP ${name} `))
    ?.replace(/\n$/, '');
}

async function scrape(m: PoolMetrics): Promise<{ text: string; families: Map<string, Family> }> {
  const text = await m.metrics();
  return { text, families: parseExposition(text) };
}

function report(parts: Partial<MetricsReport>): MetricsReport {
  return { agentId: 'ignored', timestampMs: 0, intervalMs: 10_000, counters: [], gauges: [], histograms: [], ...parts };
}

function quiet(): { warnings: string[]; onWarning: (m: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (m) => warnings.push(m) };
}

// ---- GV-30: §12.1 and §12.2 families from fixed observations ---------------------------------

const PROTOCOL_LE = ['0.00001', '0.00005', '0.0001', '0.0005', '0.001', '0.005', '0.01', '0.05', '0.1', '0.5', '1', '+Inf'];
const AGENT_LE = ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf'];

/** Bucket lines from cumulative counts: a short way to write the expected text, checked line by line below. */
function buckets(name: string, les: string[], counts: number[], labels = ''): string {
  assert.equal(counts.length, les.length);
  return les.map((le, i) => `${name}_bucket{le="${le}"${labels}} ${counts[i]}`).join('\n');
}

const GV30_EXPECTED =
  [
    '# HELP agent_protocol_requests_total Total requests sent to agents\n# TYPE ' +
      'agent_protocol_requests_total counter\nagent_protocol_requests_total 5',
    '# HELP agent_protocol_responses_total Total responses received from agents\n# TYPE ' +
      'agent_protocol_responses_total counter\nagent_protocol_responses_total 3',
    '# HELP agent_protocol_timeouts_total Total request timeouts\n# TYPE ' +
      'agent_protocol_timeouts_total counter\nagent_protocol_timeouts_total 1',
    '# HELP agent_protocol_connection_errors_total Total connection errors\n# TYPE ' +
      'agent_protocol_connection_errors_total counter\nagent_protocol_connection_errors_total 3',
    '# HELP agent_protocol_flow_control_pauses_total Flow control pause events\n# TYPE ' +
      'agent_protocol_flow_control_pauses_total counter\nagent_protocol_flow_control_pauses_total 2',
    '# HELP agent_protocol_flow_control_rejections_total Requests rejected due to flow control\n# ' +
      'TYPE agent_protocol_flow_control_rejections_total ' +
      'counter\nagent_protocol_flow_control_rejections_total 1',
    '# HELP agent_protocol_affinity_evictions_total Correlation affinities reclaimed by TTL sweep\n# ' +
      'TYPE agent_protocol_affinity_evictions_total counter\nagent_protocol_affinity_evictions_total 3',
    '# HELP agent_protocol_affinity_rejections_total Affinities dropped because the map was at ' +
      'capacity\n# TYPE agent_protocol_affinity_rejections_total ' +
      'counter\nagent_protocol_affinity_rejections_total 2',
    '# HELP agent_protocol_in_flight_requests Current in-flight requests\n# TYPE ' +
      'agent_protocol_in_flight_requests gauge\nagent_protocol_in_flight_requests 4',
    '# HELP agent_protocol_correlation_affinities Current correlation affinity entries\n# TYPE ' +
      'agent_protocol_correlation_affinities gauge\nagent_protocol_correlation_affinities 7',
    '# HELP agent_protocol_buffer_utilization_percent Buffer utilization percentage\n# TYPE ' +
      'agent_protocol_buffer_utilization_percent gauge\nagent_protocol_buffer_utilization_percent 37.5',
    '# HELP agent_protocol_healthy_connections Number of healthy agent connections\n# TYPE ' +
      'agent_protocol_healthy_connections gauge\nagent_protocol_healthy_connections 3',
    '# HELP agent_protocol_paused_connections Number of flow-control paused connections\n# TYPE ' +
      'agent_protocol_paused_connections gauge\nagent_protocol_paused_connections 1',
    '# HELP agent_protocol_serialization_seconds Serialization time in seconds\n# TYPE agent_protocol_serialization_seconds histogram\n' +
      buckets('agent_protocol_serialization_seconds', PROTOCOL_LE, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5]) +
      '\nagent_protocol_serialization_seconds_sum 2.25830078125\nagent_protocol_serialization_seconds_count 5',
    '# HELP agent_protocol_request_duration_seconds Request duration in seconds\n# TYPE ' +
      'agent_protocol_request_duration_seconds histogram\n' +
      buckets('agent_protocol_request_duration_seconds', PROTOCOL_LE, [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 3]) +
      '\nagent_protocol_request_duration_seconds_sum 1.53125\nagent_protocol_request_duration_seconds_count 3',
    '# HELP agent_requests_total Replies received from agents, by decision\n# TYPE agent_requests_total counter\n' +
      'agent_requests_total{agent="waf",decision="allow"} 1\nagent_requests_total{agent="waf",decision="block"} 1\n' +
      'agent_requests_total{agent="auth",decision="allow"} 1',
    '# HELP agent_request_duration_seconds Agent call duration from call start to reply in ' +
      'seconds\n# TYPE agent_request_duration_seconds histogram\n' +
      buckets('agent_request_duration_seconds', AGENT_LE, [0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2], ',agent="waf"') +
      '\nagent_request_duration_seconds_sum{agent="waf"} 0.5078125\nagent_request_duration_seconds_count{agent="waf"} 2\n' +
      buckets('agent_request_duration_seconds', AGENT_LE, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], ',agent="auth"') +
      '\nagent_request_duration_seconds_sum{agent="auth"} 40\nagent_request_duration_seconds_count{agent="auth"} 1',
    '# HELP agent_connections_active Ready agent connections\n# TYPE agent_connections_active gauge\n' +
      'agent_connections_active{agent="waf"} 2\nagent_connections_active{agent="auth"} 1',
    '# HELP agent_circuit_breaker_state Circuit breaker state (0 closed, 1 open, 2 half-open)\n# TYPE agent_circuit_breaker_state gauge\n' +
      'agent_circuit_breaker_state{agent="waf"} 0\nagent_circuit_breaker_state{agent="auth"} 1',
    '# HELP agent_errors_total Failed agent calls and connection failures, by kind\n# TYPE agent_errors_total counter\n' +
      'agent_errors_total{agent="waf",kind="timeout"} 1\nagent_errors_total{agent="auth",kind="abort_err"} 1\n' +
      'agent_errors_total{agent="auth",kind="circuit_open"} 1\nagent_errors_total{agent="auth",kind="connect_failed"} 1\n' +
      'agent_errors_total{agent="auth",kind="handshake_failed"} 1',
  ].join('\n\n') + '\n';

const SNAPSHOT: GaugeSnapshot = {
  inFlight: 4,
  correlationAffinities: 7,
  bufferUtilizationPercent: 37.5,
  healthyConnections: 3,
  pausedConnections: 1,
  agents: [
    { agentId: 'waf', connectionsActive: 2, circuitState: 0 },
    { agentId: 'auth', connectionsActive: 1, circuitState: 1 },
  ],
};

/** The fixed observations of GV-30; binary-exact values so the sums print exactly. */
function observeFixed(m: PoolMetrics): void {
  // Serialization: 0 and 2^-11 sit in the lowest buckets, 2 only in +Inf. Sum 2.25830078125.
  for (const s of [0, 0.00048828125, 0.0078125, 0.25, 2]) m.dispatched('waf', s);
  // Bounds are inclusive: write→reply 0.5 counts in le="0.5", 1 in le="1".
  m.settled('waf', { decision: 'allow', callSeconds: 0.0078125, writeToReplySeconds: 0.03125 });
  m.settled('waf', { decision: 'block', callSeconds: 0.5, writeToReplySeconds: 0.5 });
  m.settled('auth', { decision: 'allow', callSeconds: 40, writeToReplySeconds: 1 });
  // A synthetic Allow is no reply: nothing of it reaches responses, agent_requests or durations.
  m.settled('waf', { decision: 'allow', synthetic: true, callSeconds: 0.001, writeToReplySeconds: 0.001 });
  m.settled('waf', { errorCode: 'ZAP_TIMEOUT', callSeconds: 1 });
  m.settled('auth', { errorCode: 'ABORT_ERR', callSeconds: 0.1 });
  m.settled('auth', { errorCode: 'ZAP_CIRCUIT_OPEN', callSeconds: 0 });
  m.connectionError('auth', 'connect_failed');
  m.connectionError('auth', 'handshake_failed');
  m.connectionError('waf', 'lost'); // protocol family only
  m.flowPause('waf');
  m.flowPause('waf');
  m.flowRejection('waf');
  m.affinityEvictions(3);
  m.affinityEvictions(0);
  m.affinityRejections(2);
  m.setGaugeSource(() => SNAPSHOT);
}

test('GV-30: fixed observations print the exact §12.1 and §12.2 text', async () => {
  const m = new PoolMetrics();
  observeFixed(m);
  const { text, families } = await scrape(m);
  assert.equal(text, GV30_EXPECTED);
  assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  // The helper that wrote the bucket lines is itself checked on one literal line.
  assert.ok(text.includes('\nagent_protocol_serialization_seconds_bucket{le="0.0005"} 2\n'), 'le=0.0005 line');
  assert.ok(text.includes('\nagent_request_duration_seconds_bucket{le="0.01",agent="waf"} 1\n'), 'le=0.01 waf line');
  assert.equal(families.size, 20);
});

test('families are empty before any observation, the prefix is configurable, the registry is private', async () => {
  const m = new PoolMetrics({ prefix: 'zap' });
  const { text, families } = await scrape(m);
  assert.deepEqual([...families.keys()].slice(0, 2), ['zap_requests_total', 'zap_responses_total']);
  assert.equal(
    familyText(text, 'zap_in_flight_requests'),
    '# HELP zap_in_flight_requests Current in-flight requests\n# TYPE zap_in_flight_requests gauge\nzap_in_flight_requests 0',
  );
  assert.equal(families.get('agent_errors_total')?.samples.length, 0);
  assert.equal(families.get('agent_connections_active')?.samples.length, 0);
  // Two pools side by side: no name clash, nothing in prom-client's global registry.
  const other = new PoolMetrics();
  other.dispatched('waf', 0);
  assert.match(await other.metrics(), /^agent_protocol_requests_total 1$/m);
  assert.doesNotMatch(await globalRegistry.metrics(), /agent_protocol_|agent_requests_total/);
  assert.throws(
    () => new PoolMetrics({ prefix: 'bad-prefix' }),
    (e) => isAgentPoolError(e) && e.code === 'ZAP_INVALID_CONFIG',
  );
  assert.throws(
    () => new PoolMetrics({ reportedTtlMs: 0 }),
    (e) => isAgentPoolError(e) && e.code === 'ZAP_INVALID_CONFIG',
  );
});

test('gauges: one source read per scrape, a removed agent disappears, a failing source keeps the scrape', async () => {
  const { warnings, onWarning } = quiet();
  const m = new PoolMetrics({ onWarning });
  let reads = 0;
  let agents = SNAPSHOT.agents;
  let fail = false;
  m.setGaugeSource(() => {
    reads++;
    if (fail) throw new Error('pool state unavailable');
    return { ...SNAPSHOT, agents };
  });
  await scrape(m);
  assert.equal(reads, 1);
  agents = [{ agentId: 'auth', connectionsActive: 0, circuitState: 2 }];
  let { text } = await scrape(m);
  assert.equal(reads, 2);
  assert.equal(familyText(text, 'agent_circuit_breaker_state')?.split('\n')[2], 'agent_circuit_breaker_state{agent="auth"} 2');
  assert.equal(familyText(text, 'agent_connections_active')?.split('\n').length, 3);
  fail = true;
  ({ text } = await scrape(m));
  await scrape(m);
  assert.match(text, /^agent_protocol_in_flight_requests 4$/m);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /pool state unavailable/);
});

// ---- GV-20: agent-reported series --------------------------------------------------------------

const GV20_JSON = {
  agent_id: 'spoofed',
  timestamp_ms: 1_767_225_600_000,
  interval_ms: 10_000,
  counters: [
    { name: 'agent_requests_total', help: 'Requests seen by the agent', labels: { agent_id: 'spoofed', route: 'checkout' }, value: 17 },
  ],
  gauges: [{ name: 'agent_queue_depth', labels: { path: 'C:\\tmp "q"\nx' }, value: 3 }],
  histograms: [
    {
      name: 'agent_rule_eval_seconds',
      labels: { engine: 'string-bounds' },
      sum: 0.75,
      count: 4,
      buckets: [
        { le: '0.5', count: 3 },
        { le: '+Inf', count: 4 },
      ],
    },
    {
      name: 'agent_rule_eval_seconds',
      help: 'Rule evaluation time',
      labels: { engine: 'number-bounds' },
      sum: 0.75,
      count: 4,
      buckets: [
        { le: 0.5, count: 3 },
        { le: 'Inf', count: 4 },
      ],
    },
  ],
};

const A2P = loadProtoDefinition()['zentinel.agent.v2.AgentToProxy'] as MessageTypeDefinition<PbAgentToProxy, PbAgentToProxy>;

/** A report as the gRPC transport hands it over: domain → proto bytes → domain. */
function viaGrpc(r: MetricsReport): MetricsReport {
  const decoded = agentToProxyFromProto(A2P.deserialize(A2P.serialize(metricsToProto(r))));
  assert.equal(decoded.type, 'metrics');
  return (decoded as { metrics: MetricsReport }).metrics;
}

const GV20_EXPECTED =
  [
    '# HELP reported_agent_requests_total Requests seen by the agent\n# TYPE reported_agent_requests_total counter\n' +
      'reported_agent_requests_total{agent_id="waf",route="checkout"} 17\n' +
      'reported_agent_requests_total{agent_id="auth",route="checkout"} 2',
    '# HELP agent_queue_depth agent_queue_depth\n# TYPE agent_queue_depth gauge\n' +
      'agent_queue_depth{agent_id="waf",path="C:\\\\tmp \\"q\\"\\nx"} 3',
    '# HELP agent_rule_eval_seconds Rule evaluation time\n# TYPE agent_rule_eval_seconds histogram\n' +
      'agent_rule_eval_seconds_bucket{agent_id="waf",engine="string-bounds",le="0.5"} 3\n' +
      'agent_rule_eval_seconds_bucket{agent_id="waf",engine="string-bounds",le="+Inf"} 4\n' +
      'agent_rule_eval_seconds_sum{agent_id="waf",engine="string-bounds"} 0.75\n' +
      'agent_rule_eval_seconds_count{agent_id="waf",engine="string-bounds"} 4\n' +
      'agent_rule_eval_seconds_bucket{agent_id="waf",engine="number-bounds",le="0.5"} 3\n' +
      'agent_rule_eval_seconds_bucket{agent_id="waf",engine="number-bounds",le="+Inf"} 4\n' +
      'agent_rule_eval_seconds_sum{agent_id="waf",engine="number-bounds"} 0.75\n' +
      'agent_rule_eval_seconds_count{agent_id="waf",engine="number-bounds"} 4\n' +
      'agent_rule_eval_seconds_bucket{agent_id="auth",engine="grpc",le="0.5"} 1\n' +
      'agent_rule_eval_seconds_bucket{agent_id="auth",engine="grpc",le="+Inf"} 2\n' +
      'agent_rule_eval_seconds_sum{agent_id="auth",engine="grpc"} 1.5\n' +
      'agent_rule_eval_seconds_count{agent_id="auth",engine="grpc"} 2',
    '# HELP agent_temperature agent_temperature\n# TYPE agent_temperature gauge\n' +
      'agent_temperature{agent_id="auth",probe="hot"} +Inf\n' +
      'agent_temperature{agent_id="auth",probe="cold"} -Inf',
    '# HELP agent_ratio Hit ratio\n# TYPE agent_ratio gauge\nagent_ratio{agent_id="auth"} NaN',
  ].join('\n\n') + '\n';

test('GV-20: JSON and gRPC reports become §12.3 exposition text', async () => {
  const { warnings, onWarning } = quiet();
  const m = new PoolMetrics({ onWarning });
  m.agentReported('waf', metricsReportFromWire(JSON.parse(JSON.stringify(GV20_JSON))), 1000);
  const grpc = viaGrpc(
    report({
      counters: [{ name: 'agent_requests_total', labels: { route: 'checkout' }, value: 2 }],
      gauges: [
        { name: 'agent_temperature', labels: { probe: 'hot' }, value: Infinity },
        { name: 'agent_temperature', labels: { probe: 'cold' }, value: -Infinity },
      ],
      histograms: [
        {
          name: 'agent_rule_eval_seconds',
          labels: { engine: 'grpc' },
          sum: 1.5,
          count: 2,
          buckets: [
            { le: 0.5, count: 1 },
            { le: Infinity, count: 2 },
          ],
        },
      ],
    }),
  );
  assert.equal(grpc.histograms[0]?.buckets[1]?.le, Infinity);
  m.agentReported('auth', grpc, 1000);
  // NaN cannot cross the gRPC mapping (it encodes as the default 0), so it comes in as a domain report.
  m.agentReported('auth', report({ gauges: [{ name: 'agent_ratio', help: 'Hit ratio', labels: {}, value: NaN }] }), 1000);
  const { text, families } = await scrape(m);
  const ours = familyText(text, 'agent_errors_total');
  assert.ok(ours !== undefined, 'agent_errors_total block');
  assert.equal(text.slice(text.indexOf(ours) + ours.length + 2), GV20_EXPECTED);
  assert.equal(families.get('agent_queue_depth')?.samples[0]?.labels['path'], 'C:\\tmp "q"\nx');
  // registry.metrics() itself carries the reported families (the exporter may use either).
  assert.ok((await m.registry.metrics()).includes('reported_agent_requests_total{agent_id="waf",route="checkout"} 17'), 'registry text');
  assert.equal(m.reportedSeries, 9);
  assert.deepEqual(warnings, []);
});

test('§12.3: a report replaces the stored value; our own names are renamed, others are not', async () => {
  const m = new PoolMetrics({ onWarning: quiet().onWarning });
  const counter = (name: string, value: number): MetricSample => ({ name, labels: { rule: '942100' }, value });
  m.agentReported(
    'waf',
    report({ counters: [counter('agent_requests_blocked_total', 17), counter('agent_protocol_requests_total', 1)] }),
    0,
  );
  m.agentReported('waf', report({ counters: [counter('agent_requests_blocked_total', 5)] }), 1);
  m.agentReported(
    'waf',
    report({
      gauges: [
        { name: 'agent_request_duration_seconds_bucket', labels: {}, value: 1 },
        { name: 'agent_in_flight_requests', labels: {}, value: 3 },
      ],
    }),
    2,
  );
  const { families } = await scrape(m);
  assert.deepEqual(families.get('agent_requests_blocked_total')?.samples, [
    { name: 'agent_requests_blocked_total', labels: { agent_id: 'waf', rule: '942100' }, value: '5' },
  ]);
  // Reported families follow our 20, in order of first appearance.
  assert.deepEqual([...families.keys()].slice(20), [
    'agent_requests_blocked_total',
    'reported_agent_protocol_requests_total',
    'reported_agent_request_duration_seconds_bucket',
    'agent_in_flight_requests',
  ]);
  assert.equal(families.get('agent_protocol_requests_total')?.samples[0]?.value, '0');
  assert.equal(m.reportedSeries, 4);
});

test('§12.3: invalid names and conflicting series are dropped with one warning each', async () => {
  const { warnings, onWarning } = quiet();
  const m = new PoolMetrics({ onWarning });
  const gauge = (name: string, labels: Record<string, string> = {}): MetricSample => ({ name, labels, value: 1 });
  const bad = report({
    gauges: [
      gauge('1starts_with_digit'),
      gauge('has-dash'),
      gauge(''),
      gauge('good_gauge', { 'bad-label': 'x' }),
      gauge('good_gauge', { __reserved: 'x' }),
      gauge('good_gauge', { fine: 'x' }),
      gauge('ns:with_colon'),
      gauge('h_count'),
    ],
    histograms: [
      { name: 'h', labels: {}, sum: 1, count: 1, buckets: [{ le: Infinity, count: 1 }] },
      { name: 'h2', labels: { le: '1' }, sum: 1, count: 1, buckets: [{ le: Infinity, count: 1 }] },
      { name: 'good_gauge', labels: { other: 'y' }, sum: 1, count: 1, buckets: [{ le: Infinity, count: 1 }] },
    ],
  });
  m.agentReported('waf', bad, 0);
  m.agentReported('waf', bad, 1);
  const { families } = await scrape(m);
  assert.deepEqual([...families.keys()].slice(20), ['good_gauge', 'ns:with_colon', 'h_count']);
  assert.equal(families.get('good_gauge')?.samples.length, 1);
  assert.equal(families.get('good_gauge')?.type, 'gauge');
  // `h_count` came before histogram `h` in this report, so `h` is the one refused.
  assert.equal(families.has('h'), false);
  assert.equal(families.has('h2'), false);
  assert.equal(m.reportedSeries, 3);
  assert.equal(warnings.length, 8, warnings.join('\n'));
  assert.ok(warnings.every((w) => w.includes("agent 'waf'")));
});

test('§12.3: 10 000-series cap, existing series still update, one warning per saturation episode', async () => {
  const { warnings, onWarning } = quiet();
  const m = new PoolMetrics({ onWarning });
  const gauges = (from: number, to: number, value: number): MetricSample[] =>
    Array.from({ length: to - from }, (_, i) => ({ name: 'agent_queue_depth', labels: { q: String(from + i) }, value }));
  m.agentReported('waf', report({ gauges: gauges(0, 10_001, 1) }), 0);
  assert.equal(m.reportedSeries, 10_000);
  assert.equal(warnings.length, 1);
  // Still saturated: the new series is dropped silently, the old ones take the new value.
  m.agentReported('waf', report({ gauges: [...gauges(10_001, 10_002, 2), ...gauges(0, 5000, 2)] }), 100_000);
  assert.equal(m.reportedSeries, 10_000);
  assert.equal(warnings.length, 1);
  const { families } = await scrape(m);
  const samples = families.get('agent_queue_depth')?.samples ?? [];
  assert.equal(samples.length, 10_000);
  assert.equal(samples.find((s) => s.labels['q'] === '0')?.value, '2');
  assert.equal(samples.find((s) => s.labels['q'] === '9999')?.value, '1');
  assert.equal(
    samples.some((s) => s.labels['q'] === '10000' || s.labels['q'] === '10001'),
    false,
  );
  // Maintenance frees the 5000 not updated since t=0: the episode ends, the next one warns again.
  m.sweep(300_000);
  assert.equal(m.reportedSeries, 5000);
  m.agentReported('waf', report({ gauges: gauges(20_000, 25_001, 3) }), 300_000);
  assert.equal(m.reportedSeries, 10_000);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /10000 series/);
});

test('§12.3: series not updated for 300 s are removed by sweep, and an empty family disappears', async () => {
  const m = new PoolMetrics();
  const r = (name: string): MetricsReport => report({ gauges: [{ name, labels: {}, value: 1 }] });
  m.agentReported('waf', r('agent_old'), 0);
  m.agentReported('waf', r('agent_fresh'), 0);
  m.agentReported('waf', r('agent_fresh'), 200_000);
  m.sweep(299_999);
  assert.equal(m.reportedSeries, 2);
  m.sweep(300_000);
  assert.equal(m.reportedSeries, 1);
  let { families } = await scrape(m);
  assert.equal(families.has('agent_old'), false);
  assert.equal(families.has('agent_fresh'), true);
  m.sweep(500_000);
  ({ families } = await scrape(m));
  assert.equal(families.has('agent_fresh'), false);
  assert.equal(m.reportedSeries, 0);
  // The TTL is configurable; a series comes back after expiry as a new one.
  const short = new PoolMetrics({ reportedTtlMs: 1000 });
  short.agentReported('waf', r('agent_fresh'), 0);
  short.sweep(999);
  assert.equal(short.reportedSeries, 1);
  short.sweep(1000);
  assert.equal(short.reportedSeries, 0);
  short.agentReported('waf', r('agent_fresh'), 2000);
  assert.equal(short.reportedSeries, 1);
});

test('a caller-supplied registry is filled; a name already taken there drops the reported family', async () => {
  const registry = new Registry();
  registry.registerMetric(new Gauge({ name: 'taken', help: 'Someone else', registers: [] }));
  const { warnings, onWarning } = quiet();
  const m = new PoolMetrics({ registry, onWarning });
  assert.equal(m.registry, registry);
  m.agentReported(
    'waf',
    report({
      gauges: [
        { name: 'taken', labels: {}, value: 9 },
        { name: 'free', labels: {}, value: 1 },
      ],
    }),
    0,
  );
  const { families } = await scrape(m);
  assert.equal(families.get('taken')?.help, 'Someone else');
  assert.equal(families.get('taken')?.samples[0]?.value, '0');
  assert.equal(families.get('free')?.samples[0]?.value, '1');
  assert.equal(warnings.length, 1);
  // resetMetrics() forgets reported series rather than zeroing them.
  registry.resetMetrics();
  assert.equal(m.reportedSeries, 0);
  assert.equal((await scrape(m)).families.has('free'), false);
});

test('the exposition parser used above rejects what Prometheus would', () => {
  const ok = '# HELP a A\n# TYPE a gauge\na{l="x\\"y"} 1\n';
  assert.equal(parseExposition(ok).get('a')?.samples[0]?.labels['l'], 'x"y');
  for (const bad of [
    '# HELP a A\n# TYPE a gauge\na Nan\n', // prom-client's own NaN spelling
    '# HELP a A\na 1\n', // no TYPE
    '# HELP a A\n# TYPE a gauge\nb 1\n', // sample outside its family
    '# HELP a A\n# TYPE a gauge\na{l="\\t"} 1\n', // unknown escape
    '# HELP a A\n# TYPE a gauge\na 1\na 2\n', // duplicate series
    '# HELP h H\n# TYPE h histogram\nh_bucket 1\n', // bucket without le
    '# HELP a A\n# TYPE a gauge\na 1', // no final newline
  ]) {
    assert.throws(() => parseExposition(bad), { name: 'AssertionError' }, bad);
  }
});
