// The per-call metric families are plain counts that prom-client reads at scrape time
// (src/metrics/call-tallies.ts, tally-histogram.ts): they print what prom-client's own Histogram
// prints, and every count survives many calls, scrapes in the middle and resetMetrics().
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { AgentServer } from '../src/agent/agent-server.js';
import { AGENT_BUCKETS } from '../src/metrics/metric-families.js';
import { PoolMetrics } from '../src/metrics/pool-metrics.js';
import { TallyHistogram } from '../src/metrics/tally-histogram.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { parseExposition, type Family } from './support/prometheus-text.js';
import { socketPath } from './support/tmp.js';

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  const sample = family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(sample !== undefined, `sample ${name} ${JSON.stringify(labels)} missing`);
  return Number(sample.value);
}

test("a TallyHistogram prints and lists exactly what prom-client's Histogram does for the same observations", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const tally = new TallyHistogram('h_seconds', 'A "help" \\ text', AGENT_BUCKETS, 'agent');
  ours.registerMetric(tally as never);
  const reference = new Histogram({
    name: 'h_seconds',
    help: 'A "help" \\ text',
    labelNames: ['agent'],
    buckets: [...AGENT_BUCKETS],
    registers: [theirs],
  });
  // Bounds themselves (inclusive), between them, zero, beyond the last, and a label needing escapes.
  const values = [...AGENT_BUCKETS, 0, 0.0003, 0.007, 31, 1e9, 0.1 + 0.2];
  for (const [i, v] of values.entries()) {
    const agent = i % 3 === 0 ? 'waf' : i % 3 === 1 ? 'a"u\\th\nx' : 'waf';
    tally.series(agent).observe(v);
    reference.observe({ agent }, v);
  }
  tally.series('late').observe(2);
  reference.observe({ agent: 'late' }, 2);
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  // Unlabelled: printed (all zero) before any observation, as prom-client prints its own.
  const bare = new TallyHistogram('b_seconds', 'B', [0.5, 1]);
  const bareRegistry = new Registry();
  bareRegistry.registerMetric(bare as never);
  assert.match(await bareRegistry.metrics(), /^b_seconds_bucket\{le="\+Inf"\} 0$/m);
});

test('per-call counts add up over many calls, across scrapes, and resetMetrics() zeroes them', async () => {
  const m = new PoolMetrics();
  const calls = (n: number): void => {
    for (let i = 0; i < n; i++) {
      m.dispatched('waf', 0.000004);
      m.settled(i % 2 === 0 ? 'waf' : 'auth', {
        decision: i % 5 === 0 ? 'block' : 'allow',
        callSeconds: 0.0003,
        writeToReplySeconds: 0.0002,
      });
    }
  };
  calls(5_000);
  const first = parseExposition(await m.metrics());
  assert.equal(value(first, 'agent_protocol_requests_total'), 5_000);
  assert.equal(value(first, 'agent_requests_total', { agent: 'waf', decision: 'block' }), 500);
  calls(5_000);
  // A second scrape adds only what happened since the first.
  const second = parseExposition(await m.metrics());
  assert.equal(value(second, 'agent_protocol_requests_total'), 10_000);
  assert.equal(value(second, 'agent_protocol_responses_total'), 10_000);
  assert.equal(value(second, 'agent_requests_total', { agent: 'waf', decision: 'block' }), 1_000);
  assert.equal(value(second, 'agent_requests_total', { agent: 'waf', decision: 'allow' }), 4_000);
  assert.equal(value(second, 'agent_requests_total', { agent: 'auth', decision: 'block' }), 1_000);
  assert.equal(value(second, 'agent_requests_total', { agent: 'auth', decision: 'allow' }), 4_000);
  assert.equal(value(second, 'agent_request_duration_seconds_count', { agent: 'auth' }), 5_000);
  assert.equal(value(second, 'agent_request_duration_seconds_bucket', { agent: 'auth', le: '0.0005' }), 5_000);
  assert.equal(value(second, 'agent_protocol_serialization_seconds_bucket', { le: '0.00001' }), 10_000);
  assert.equal(value(second, 'agent_protocol_request_duration_seconds_bucket', { le: '0.0001' }), 0);
  assert.equal(value(second, 'agent_protocol_request_duration_seconds_bucket', { le: '0.0005' }), 10_000);
  m.registry.resetMetrics();
  calls(10);
  const third = parseExposition(await m.metrics());
  assert.equal(value(third, 'agent_protocol_requests_total'), 10);
  assert.equal(value(third, 'agent_requests_total', { agent: 'waf', decision: 'block' }), 1);
  assert.equal(value(third, 'agent_requests_total', { agent: 'auth', decision: 'block' }), 1);
  assert.equal(value(third, 'agent_protocol_responses_total'), 10);
  assert.equal(value(third, 'agent_request_duration_seconds_count', { agent: 'waf' }), 5);
  assert.equal(value(third, 'agent_protocol_serialization_seconds_count'), 10);
});

test('a pool with workers 0: counts equal the calls made, with scrapes while calls are in flight', async () => {
  const server = new AgentServer({
    agentId: 'waf',
    handler: {
      onRequestHeaders: (e) =>
        e.metadata.correlationId.endsWith('7') ? { decision: { type: 'block', status: 403, body: null, headers: null } } : {},
    },
  });
  const path = socketPath('tallies');
  await server.listen(path);
  after(() => server.close());
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.destroy());
  await pool.addAgent('waf', `unix:${path}`);
  const batch = async (from: number, n: number): Promise<void> => {
    const sent = Array.from({ length: n }, (_, i) => pool.sendRequestHeaders('waf', `c-${from + i}`, requestHeaders(`c-${from + i}`)));
    // Scraped while the batch is on the wire: the totals read later still count every call once.
    const during = parseExposition(await pool.metrics());
    assert.ok(value(during, 'agent_protocol_requests_total') <= from + n);
    await Promise.all(sent);
  };
  await batch(0, 1_000);
  await batch(1_000, 1_000);
  const families = parseExposition(await pool.metrics());
  assert.equal(value(families, 'agent_protocol_requests_total'), 2_000);
  assert.equal(value(families, 'agent_protocol_responses_total'), 2_000);
  assert.equal(value(families, 'agent_requests_total', { agent: 'waf', decision: 'block' }), 200);
  assert.equal(value(families, 'agent_requests_total', { agent: 'waf', decision: 'allow' }), 1_800);
  assert.equal(value(families, 'agent_request_duration_seconds_count', { agent: 'waf' }), 2_000);
  assert.equal(value(families, 'agent_protocol_request_duration_seconds_count'), 2_000);
  assert.equal(value(families, 'agent_protocol_serialization_seconds_count'), 2_000);
});
