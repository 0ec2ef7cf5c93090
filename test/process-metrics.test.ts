// prom-client's default process and Node.js metrics beside the pool's (`metrics: { defaultMetrics }`):
// off by default, after the pool's families when on, never a family twice, and clean under the
// exposition parser and (where installed) `promtool check metrics`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collectDefaultMetrics, Registry, type OpenMetricsContentType } from 'prom-client';
import { PoolMetrics } from '../src/metrics/pool-metrics.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { parseExposition } from './support/prometheus-text.js';
import { hasPromtool, promtoolFindings } from './support/promtool.js';

const PROCESS_FAMILIES = [
  'process_cpu_user_seconds_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_active_handles',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];

const names = (text: string): string[] => [...parseExposition(text).keys()];
const isProcess = (name: string): boolean => /^(process|nodejs)_/.test(name);

describe('process metrics beside the pool metrics', () => {
  test('off by default: a library does not speak for its whole process unasked', async () => {
    const text = await new PoolMetrics().metrics();
    assert.deepEqual(names(text).filter(isProcess), []);
  });

  test('defaultMetrics: process_* and nodejs_* follow the pool families, without joining its registry', async () => {
    const m = new PoolMetrics({ defaultMetrics: true });
    const all = names(await m.metrics());
    for (const name of PROCESS_FAMILIES) assert.ok(all.includes(name), `${name} in ${all.join(' ')}`);
    const firstProcess = all.findIndex(isProcess);
    assert.ok(all.indexOf('agent_protocol_requests_total') < firstProcess);
    assert.ok(all.slice(firstProcess).every(isProcess), 'the process families come last, together');
    assert.equal(m.registry.getSingleMetric('process_cpu_seconds_total'), undefined);
  });

  test('no gauge named _total, which promtool refuses for non-counters', async () => {
    const families = parseExposition(await new PoolMetrics({ defaultMetrics: true }).metrics());
    for (const [name, f] of families) {
      if (name.endsWith('_total')) assert.equal(f.type, 'counter', name);
    }
    assert.equal(families.has('nodejs_active_handles_total'), false);
  });

  test('a registry that already collects the defaults does not get them twice', async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: '' });
    const text = await new PoolMetrics({ registry, defaultMetrics: true }).metrics();
    const all = names(text); // the parser fails on a family given twice
    assert.ok(all.includes('process_cpu_seconds_total'));
    assert.ok(all.includes('nodejs_active_handles_total'), "the user's own families stay as they registered them");
  });

  test('many pools share one collection: each scrape is whole and valid', async () => {
    const texts = await Promise.all([1, 2, 3].map(() => new PoolMetrics({ defaultMetrics: true }).metrics()));
    for (const text of texts) assert.deepEqual(names(text).filter(isProcess), names(texts[0]!).filter(isProcess));
  });

  test('an OpenMetrics registry is refused: the process text would follow its # EOF', async () => {
    const open = new Registry<OpenMetricsContentType>();
    open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registry = open as unknown as Registry; // the option's type only names Prometheus registries
    assert.throws(() => new PoolMetrics({ registry, defaultMetrics: true }), { code: 'ZAP_INVALID_CONFIG' });
    // Switched after construction: the scrape leaves them out, ends with its own # EOF, and says so once.
    const warnings: string[] = [];
    const late = new Registry();
    const m = new PoolMetrics({ registry: late, defaultMetrics: true, onWarning: (w) => warnings.push(w) });
    (late as unknown as Registry<OpenMetricsContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    for (let i = 0; i < 2; i++) {
      const text = await m.metrics();
      assert.ok(text.endsWith('# EOF\n'));
      assert.doesNotMatch(text, /^# TYPE (process|nodejs)_/m);
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /OpenMetrics/);
  });

  test('AgentPool passes the option through (metrics: { defaultMetrics: true })', async () => {
    const pool = new AgentPool({ workers: 0, metrics: { defaultMetrics: true } });
    const plain = new AgentPool({ workers: 0 });
    try {
      assert.ok(names(await pool.metrics()).includes('nodejs_heap_size_used_bytes'));
      assert.deepEqual(names(await plain.metrics()).filter(isProcess), []);
    } finally {
      await Promise.all([pool.close(), plain.close()]);
    }
  });

  test('promtool check metrics finds nothing', { skip: hasPromtool ? false : 'promtool is not installed' }, async () => {
    assert.equal(promtoolFindings(await new PoolMetrics({ defaultMetrics: true }).metrics()), '');
  });
});
