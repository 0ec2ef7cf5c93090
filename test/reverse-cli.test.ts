// `zap call --reverse-listen` and `zap agent --reverse`, both as child processes of the compiled CLI
// (run `npx tsc -p tsconfig.build.json` first).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAgent } from '../src/cli/agent.js';
import { runCall } from '../src/cli/call.js';
import { UsageError } from '../src/cli/cli-error.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { waitUntil } from './support/reverse-raw-agent.js';
import { socketPath } from './support/tmp.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function zap(args: string[], input?: string): Running {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.end(input ?? '');
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out: () => out, err: () => err, exit };
}

function onlyLine(text: string): Record<string, unknown> {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line, got: ${text}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('zap call --reverse-listen ↔ zap agent --reverse', () => {
  test('UDS: a refused agent is reported on stderr, the allowed one gets the event', async () => {
    const path = socketPath('cli-rev');
    const event = JSON.stringify({ metadata: { correlation_id: 'rev-cli-1' }, method: 'PUT', uri: '/r?x=1', headers: {} });
    const call = zap(
      [
        'call',
        '--reverse-listen',
        `unix:${path}`,
        '--token',
        's3cret',
        '--allow',
        'echo-*',
        '--allow',
        'waf',
        '--event',
        '-',
        '--timeout',
        '5000',
      ],
      event,
    );
    await waitUntil(() => call.err().includes('listening on'), 'the call to listen', 20_000);

    const intruder = zap(['agent', '--reverse', `unix:${path}`, '--id', 'intruder', '--token', 's3cret']);
    const badToken = zap(['agent', '--reverse', `unix:${path}`, '--id', 'echo-2', '--token', 'nope']);
    assert.deepEqual(await Promise.all([intruder.exit, badToken.exit]), [1, 1]);
    assert.match(intruder.err(), /ZAP_HANDSHAKE_FAILED: .*Invalid message format: Agent 'intruder' is not in the allowed list/);
    assert.match(badToken.err(), /Invalid message format: Authentication failed/);

    const agent = zap([
      'agent',
      '--reverse',
      `unix:${path}`,
      '--id',
      'echo-1',
      '--token',
      's3cret',
      '--connections',
      '2',
      '--example',
      'echo',
    ]);
    assert.equal(await call.exit, 0, call.err());
    const reply = onlyLine(call.out());
    assert.equal(reply['decision'], 'allow');
    assert.deepEqual(reply['request_headers'], [{ set: { name: 'x-agent-echo', value: 'PUT /r?x=1' } }]);
    assert.equal(reply['correlation_id'], 'rev-cli-1');
    assert.match(call.err(), /refused agent 'intruder': Invalid message format: Agent 'intruder' is not in the allowed list/);
    assert.match(call.err(), /refused agent 'echo-2': Invalid message format: Authentication failed/);
    assert.match(agent.out(), /registered with unix:/);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0);
  });

  test('TCP on port 0: the bound port is printed, a waf agent with threads blocks an attack', async () => {
    const call = zap(
      ['call', '--reverse-listen', 'tcp://127.0.0.1:0', '--token', 'tcp-t0k', '--event', '-'],
      JSON.stringify({ uri: '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E' }),
    );
    await waitUntil(() => /listening on tcp:\/\/127\.0\.0\.1:\d+/.test(call.err()), 'the bound port', 20_000);
    const endpoint = /listening on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(call.err())![1]!;
    const agent = zap(['agent', '--reverse', endpoint, '--id', 'waf', '--token', 'tcp-t0k', '--example', 'waf', '--threads', '1']);
    assert.equal(await call.exit, 0, call.err());
    const reply = onlyLine(call.out());
    assert.equal((reply['decision'] as { block: { status: number } }).block.status, 403);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0);
  });

  test('usage and waiting limits (in-process)', async () => {
    const usage = (re: RegExp) => (err: unknown) => err instanceof UsageError && re.test(err.message);
    await assert.rejects(runAgent(['--id', 'x']), usage(/give one of --listen <endpoint> or --reverse <endpoint>/));
    await assert.rejects(
      runAgent(['--listen', socketPath('x'), '--reverse', socketPath('y'), '--id', 'x']),
      usage(/give one of --listen <endpoint> or --reverse <endpoint>/),
    );
    await assert.rejects(runAgent(['--reverse', socketPath('y')]), usage(/--reverse needs --id/));
    await assert.rejects(runAgent(['--reverse', socketPath('y'), '--id', 'x', '--connections', '0']), usage(/--connections/));
    await assert.rejects(runCall(['unix:/x', '--reverse-listen', `unix:${socketPath('z')}`]), usage(/zap call/));
    await assert.rejects(runCall(['--reverse-listen', 'tls://127.0.0.1:0', '--token', 't']), usage(/TLS is not supported/));
    await assert.rejects(
      runCall(['--reverse-listen', `unix:${socketPath('lonely')}`, '--insecure-allow-unauthenticated', '--wait', '100']),
      (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_TIMEOUT' && err.message === 'No agent registered within 100 ms',
    );
  });
});
