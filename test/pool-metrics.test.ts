// Pool metrics end to end: a scripted workload through 2 worker threads against real agents; the
// scraped text parses as Prometheus exposition and every counter equals what was really done.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AgentServer } from '../src/agent/agent-server.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import type { MetricsReport } from '../src/protocol/types.js';
import { requestHeaders } from './support/events.js';
import { parseExposition, type Family } from './support/prometheus-text.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

async function startAgent(agentId: string, blockEvery: number): Promise<{ server: AgentServer; path: string }> {
  const server = new AgentServer({
    agentId,
    handler: {
      onRequestHeaders: (e) => {
        const n = Number(e.metadata.correlationId.split('-').at(-1));
        if (e.uri === '/slow') return new Promise(() => {});
        return n % blockEvery === 0 ? { decision: { type: 'block', status: 403, body: null, headers: null } } : {};
      },
    },
  });
  const path = socketPath(agentId);
  await server.listen(path);
  after(() => server.close());
  return { server, path };
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  assert.ok(family !== undefined, `family ${name} missing`);
  const sample = family.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(sample !== undefined, `sample ${name} ${JSON.stringify(labels)} missing`);
  return Number(sample.value);
}

test('counters equal the work done, per agent and decision, through 2 workers', async () => {
  const { server: waf, path: wafPath } = await startAgent('waf', 4);
  const { path: authPath } = await startAgent('auth', 5);
  // A short maintenance period so that reported series expire within the test.
  const pool = new AgentPool({ workers: 2, healthCheckIntervalMs: 100, metrics: { reportedTtlMs: 200 } });
  after(() => pool.destroy());
  await pool.addAgent('waf', `unix:${wafPath}`);
  await pool.addAgent('auth', `unix:${authPath}`);

  const n = 200;
  await Promise.all(Array.from({ length: n }, (_, i) => pool.sendRequestHeaders('waf', `w-${i}`, requestHeaders(`w-${i}`))));
  await Promise.all(Array.from({ length: n }, (_, i) => pool.sendRequestHeaders('auth', `a-${i}`, requestHeaders(`a-${i}`))));
  await Promise.allSettled(
    Array.from({ length: 3 }, (_, i) => pool.sendRequestHeaders('waf', `t-${i}`, requestHeaders(`t-${i}`, '/slow'), { timeoutMs: 20 })),
  );

  const report: MetricsReport = {
    agentId: 'ignored',
    timestampMs: Date.now(),
    intervalMs: 10_000,
    counters: [{ name: 'agent_requests_total', labels: { rule: 'x' }, value: 17 }],
    gauges: [{ name: 'waf_rules_loaded', labels: {}, value: 42 }],
    histograms: [],
  };
  waf.reportMetrics(report);
  // The scrape that first holds the reported series is the one read: a second could come after its
  // 200 ms TTL on a stalled machine.
  let text = '';
  await waitFor(async () => (text = await pool.metrics()).includes('waf_rules_loaded'));

  const families = parseExposition(text);
  assert.equal(value(families, 'agent_requests_total', { agent: 'waf', decision: 'block' }), n / 4);
  assert.equal(value(families, 'agent_requests_total', { agent: 'waf', decision: 'allow' }), n - n / 4);
  assert.equal(value(families, 'agent_requests_total', { agent: 'auth', decision: 'block' }), n / 5);
  assert.equal(value(families, 'agent_requests_total', { agent: 'auth', decision: 'allow' }), n - n / 5);
  assert.equal(value(families, 'agent_errors_total', { agent: 'waf', kind: 'timeout' }), 3);
  assert.equal(value(families, 'agent_protocol_requests_total'), 2 * n + 3);
  assert.equal(value(families, 'agent_protocol_responses_total'), 2 * n);
  assert.equal(value(families, 'agent_protocol_timeouts_total'), 3);
  assert.equal(value(families, 'agent_request_duration_seconds_count', { agent: 'auth' }), n);
  assert.equal(value(families, 'agent_protocol_request_duration_seconds_count'), 2 * n);
  assert.equal(value(families, 'agent_protocol_serialization_seconds_count'), 2 * n + 3);
  assert.equal(value(families, 'agent_connections_active', { agent: 'waf' }), 4);
  assert.equal(value(families, 'agent_protocol_in_flight_requests'), 0);
  assert.equal(value(families, 'agent_circuit_breaker_state', { agent: 'auth' }), 0);
  // agent-reported: labelled with the configured id, our own family name renamed
  assert.equal(value(families, 'waf_rules_loaded', { agent_id: 'waf' }), 42);
  assert.equal(value(families, 'reported_agent_requests_total', { agent_id: 'waf', rule: 'x' }), 17);
  // … and they expire (TTL 200 ms here; the maintenance tick sweeps)
  await waitFor(async () => !(await pool.metrics()).includes('waf_rules_loaded'), 15_000);
});
