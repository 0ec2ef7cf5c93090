// Insecure reverse defaults in `zap serve` (issue 11 item 3), as child processes of the compiled CLI:
// a config whose reverse-listener has no token does not start; one with a token bound to `edge-*`
// admits its agent, refuses an intruder holding that token under another id, and logs the refusal.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../support/reverse-raw-agent.js';
import { waitFor } from '../support/wait-for.js';
import { socketPath } from '../support/tmp.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

function zap(args: string[]): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => out, exit: once(child, 'exit').then(([code]) => code as number | null) };
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function configFile(text: string): string {
  const file = join(tmpdir(), `zap-reverse-serve-${process.pid}-${Math.random().toString(36).slice(2)}.kdl`);
  writeFileSync(file, text);
  after(() => rmSync(file, { force: true }));
  return file;
}

test('insecure reverse defaults: zap serve refuses a reverse-listener without a token', async () => {
  const file = configFile(
    `agents {\n  agent "edge-1" {\n    reverse\n  }\n}\nreverse-listener {\n  path "${socketPath('serve-none')}"\n}\n`,
  );
  const serve = zap(['serve', '--config', file, '--metrics', '127.0.0.1:0']);
  assert.notEqual(await serve.exit, 0);
  assert.match(
    serve.out(),
    new RegExp(
      String.raw`ZAP_INVALID_CONFIG: .*reverse-listener: require-auth #true \(the default\) needs at least one auth-token ` +
        String.raw`or auth-tokens; to admit agents without a token, set insecure-allow-unauthenticated #true`,
    ),
  );
});

test('insecure reverse defaults: zap serve admits the agent its bound token is for, and refuses the token under another id', async () => {
  const sock = socketPath('serve-rev');
  const file = configFile(
    `agents {\n  agent "edge-1" {\n    reverse\n  }\n}\n` +
      `reverse-listener {\n  path "${sock}"\n  auth-token "tok-edge" {\n    agents "edge-*"\n  }\n}\n`,
  );
  const serve = zap(['serve', '--config', file, '--metrics', '127.0.0.1:0']);
  await waitUntil(() => serve.out().includes('reverse listener on'), 'serve to listen', 20_000);
  const agent = zap(['agent', '--reverse', `unix:${sock}`, '--id', 'edge-1', '--token', 'tok-edge', '--example', 'echo']);
  await waitUntil(() => agent.out().includes('registered with'), 'edge-1 to register', 20_000);
  const intruder = zap(['agent', '--reverse', `unix:${sock}`, '--id', 'waf', '--token', 'tok-edge']);
  assert.equal(await intruder.exit, 1);
  assert.match(intruder.out(), /registration refused: Invalid message format: Authentication failed/);
  await waitUntil(
    () => serve.out().includes("reverse registration refused ('waf'): Invalid message format: Authentication failed"),
    'the refusal in the log',
  );
  // The registration joined the declared entry.
  const metricsUrl = /metrics on (http:\/\/[\d.]+:\d+\/metrics)/.exec(serve.out())?.[1];
  assert.ok(metricsUrl !== undefined, serve.out());
  await waitFor(async () => /^agent_connections_active\{agent="edge-1"\} 1$/m.test(await fetchText(metricsUrl)), 10_000);
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exit, 0);
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exit, 0, serve.out());
});
