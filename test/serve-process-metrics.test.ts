// `zap serve` exposes prom-client's process and Node.js metrics beside the pool's, as a child process
// of the compiled CLI (build first): the scrape parses as Prometheus text with no family twice, also
// after a SIGHUP reload (a new pool, the same process collection), and promtool (where installed)
// finds nothing in it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { after, test } from 'node:test';
import { parseExposition } from './support/prometheus-text.js';
import { hasPromtool, promtoolFindings } from './support/promtool.js';
import { socketPath } from './support/tmp.js';
import { waitForOutput, zap } from './support/zap-process.js';

function fetchText(url: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body }));
    }).on('error', reject);
  });
}

test('zap serve: /metrics carries process_* and nodejs_* beside the pool families, clean across a reload', async () => {
  const path = socketPath('serve-proc');
  const agent = zap(['agent', '--listen', path, '--example', 'echo']);
  const config = socketPath('serve-proc-config').replace(/\.sock$/, '.kdl');
  writeFileSync(
    config,
    `agents {\n    agent "echo" {\n        type "custom"\n        unix-socket "${path}"\n        connections 2\n    }\n}\n`,
  );
  after(() => rmSync(config, { force: true }));
  await waitForOutput(agent.stdout, /listening on /);
  const serve = zap(['serve', '--config', config, '--metrics', '127.0.0.1:0']);
  const [, address] = await waitForOutput(serve.stdout, /metrics on http:\/\/([\d.]+:\d+)\/metrics/);
  await waitForOutput(serve.stdout, /echo \(unix:[^)]+\): 2 ready/);

  const scrape = async () => {
    const r = await fetchText(`http://${address}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/plain; version=0\.0\.4/);
    return { text: r.body, families: parseExposition(r.body) }; // fails on a family given twice
  };
  const first = await scrape();
  for (const name of [
    'agent_connections_active',
    'agent_protocol_requests_total',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(first.families.has(name), `${name} is exposed`);
  }
  assert.match(first.text, /^agent_connections_active\{agent="echo"\} 2$/m);
  if (hasPromtool) assert.equal(promtoolFindings(first.text), '');

  serve.child.kill('SIGHUP');
  await waitForOutput(serve.stdout, /reloaded: new connections are serving/);
  const reloaded = await scrape();
  assert.deepEqual(
    [...reloaded.families.keys()].filter((n) => /^(process|nodejs)_/.test(n)),
    [...first.families.keys()].filter((n) => /^(process|nodejs)_/.test(n)),
  );
  if (hasPromtool) assert.equal(promtoolFindings(reloaded.text), '');

  serve.child.kill('SIGTERM');
  const [code] = (await once(serve.child, 'exit')) as [number];
  assert.equal(code, 0, serve.stderr());
});
