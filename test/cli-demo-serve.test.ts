// `zap demo` end to end (shortened) and `zap serve` from a KDL file, as child processes of the
// compiled CLI: the demo exits 0 with its summary and leaves nothing behind; serve answers
// /metrics and /healthz, and drains and exits 0 on SIGTERM.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { socketPath } from './support/tmp.js';
import { zap, waitForOutput } from './support/zap-process.js';

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('zap demo (1 s) runs the gateway end to end, prints the summary, exits 0 and cleans up', async () => {
  // A temp dir of its own: demos of parallel test runs in the shared one do not count here.
  const privateTmp = mkdtempSync(join(tmpdir(), 'zap-demo-test-'));
  after(() => rmSync(privateTmp, { recursive: true, force: true }));
  const demoDirs = () => readdirSync(privateTmp).filter((n) => n.startsWith('zap-demo-')).length;
  const before = demoDirs();
  const demo = zap(['demo', '--duration', '1', '--concurrency', '4'], { ...process.env, TMPDIR: privateTmp });
  const [code] = (await once(demo.child, 'exit')) as [number];
  assert.equal(code, 0, demo.stderr());
  const out = demo.stdout();
  assert.match(out, /Summary: \d+ requests/);
  assert.match(out, /benign\s+200×\d+/);
  assert.match(out, /attack\s+403×\d+/);
  assert.match(out, /unauthenticated\s+401×\d+/);
  // Bodies streamed chunk by chunk reach the waf (one upload in three hides an attack in a later chunk).
  assert.match(out, /streamed upload\s+200×\d+/);
  // The response phase: echo stamps a header on every upstream answer.
  assert.match(out, /response phase: echo stamped x-agent-echo-status on [1-9]\d* responses/);
  assert.match(out, /waf\s+allow: \d+, block 403: \d+\s+rules/);
  assert.match(out, /auth\s+allow: \d+, block 401: \d+/);
  assert.match(out, /echo\s+allow: \d+/);
  assert.match(out, /circuit breakers: waf closed, auth closed, echo closed/);
  assert.equal(demoDirs(), before, 'the demo removed its socket directory');
});

test('zap serve: /metrics and /healthz from a KDL config; SIGTERM drains and exits 0', async () => {
  const path = socketPath('serve-waf');
  const agent = zap(['agent', '--listen', path, '--example', 'waf']);
  const config = join(tmpdir(), `zap-serve-${process.pid}.kdl`);
  writeFileSync(
    config,
    `agents {\n    agent "waf" type="waf" {\n        unix-socket "${path}"\n        events ` +
      `"request_headers"\n        pool {\n            connections-per-agent 2\n        }\n    }\n}\n`,
  );
  after(() => rmSync(config, { force: true }));
  // the agent must be listening before serve starts, or its first attempts back off
  await waitForOutput(agent.stdout, /listening on /);
  const serve = zap(['serve', '--config', config, '--metrics', '127.0.0.1:0']);
  const [, address] = await waitForOutput(serve.stdout, /metrics on http:\/\/([\d.]+:\d+)\/metrics/);
  await waitForOutput(serve.stdout, /waf \(unix:[^)]+\): 2 ready/);
  const health = await fetchText(`http://${address}/healthz`);
  assert.deepEqual(health, { status: 200, body: 'ok\n' });
  const metrics = await fetchText(`http://${address}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^agent_connections_active\{agent="waf"\} 2$/m);
  assert.match(metrics.body, /^# TYPE agent_protocol_requests_total counter$/m);

  // SIGHUP: a new generation from the edited file takes over
  writeFileSync(config, readFileSync(config, 'utf8').replace('connections-per-agent 2', 'connections-per-agent 1'));
  serve.child.kill('SIGHUP');
  await waitForOutput(serve.stdout, /reloaded: new connections are serving/);
  const reloaded = await fetchText(`http://${address}/metrics`);
  assert.match(reloaded.body, /^agent_connections_active\{agent="waf"\} 1$/m);
  // a broken file is refused and the running generation stays
  writeFileSync(config, 'agents {\n    agent "waf" {\n        nonsense 1\n    }\n}\n');
  serve.child.kill('SIGHUP');
  await waitForOutput(serve.stdout, /reload refused, keeping the running configuration: .*unknown key 'nonsense'/);
  // a file that loads but whose pool cannot start (its reverse listener's port is taken) is refused too,
  // and the process keeps serving
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  after(() => taken.close());
  writeFileSync(
    config,
    `agents {\n    agent "waf" type="waf" {\n        unix-socket "${path}"\n    }\n}\n` +
      `reverse-listener {\n    tcp-address "127.0.0.1:${(taken.address() as AddressInfo).port}"\n    auth-token "t"\n}\n`,
  );
  serve.child.kill('SIGHUP');
  await waitForOutput(serve.stdout, /reload refused, keeping the running configuration: .*EADDRINUSE|reload refused[^\n]*in use/);
  assert.deepEqual(await fetchText(`http://${address}/healthz`), { status: 200, body: 'ok\n' });
  assert.match((await fetchText(`http://${address}/metrics`)).body, /^agent_connections_active\{agent="waf"\} 1$/m);

  serve.child.kill('SIGTERM');
  const [code] = (await once(serve.child, 'exit')) as [number];
  assert.equal(code, 0, serve.stderr());
  assert.match(serve.stdout(), /draining…[\s\S]*stopped/);
});
