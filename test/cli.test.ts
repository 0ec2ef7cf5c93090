// `zap call` against `zap agent`, both as real child processes of the compiled CLI.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { socketPath } from './support/tmp.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const run = promisify(execFile);

async function startAgent(args: string[]): Promise<{ path: string; child: ChildProcess }> {
  const path = socketPath('cli');
  const child = spawn(process.execPath, [CLI, 'agent', '--listen', `unix:${path}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent exited early with ${code}`)));
  });
  return { path, child };
}

async function call(path: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'call', path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input ?? '');
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

function onlyLine(text: string): Record<string, unknown> {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line, got: ${text}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('zap call ↔ zap agent', () => {
  test('echo: allow with x-agent-echo header', async () => {
    const { path } = await startAgent(['--example', 'echo']);
    const event = JSON.stringify({ metadata: { correlation_id: 'cli-1' }, method: 'POST', uri: '/cart?x=1', headers: {} });
    const r = await call(path, ['--event', '-'], event);
    assert.equal(r.code, 0, r.stderr);
    const reply = onlyLine(r.stdout);
    assert.equal(reply['decision'], 'allow');
    assert.deepEqual(reply['request_headers'], [{ set: { name: 'x-agent-echo', value: 'POST /cart?x=1' } }]);
    assert.equal(reply['correlation_id'], 'cli-1');
    assert.deepEqual((reply['audit'] as { custom: unknown }).custom, { correlation_id: 'cli-1' });
  });

  test('waf: blocks an attack with rule ids, allows a benign request, scans body chunks', async () => {
    const { path } = await startAgent(['--example', 'waf', '--threads', '1']);
    const attack = await call(path, ['--event', '-'], JSON.stringify({ uri: '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E' }));
    assert.equal(attack.code, 0, attack.stderr);
    const blocked = onlyLine(attack.stdout);
    assert.equal((blocked['decision'] as { block: { status: number } }).block.status, 403);
    assert.ok((blocked['audit'] as { rule_ids: string[] }).rule_ids.length > 0);
    const benign = onlyLine((await call(path, [], undefined)).stdout);
    assert.equal(benign['decision'], 'allow');
    const body = Buffer.from("user=admin' OR 1=1 --").toString('base64');
    const chunk = await call(path, ['--type', 'request-body-chunk', '--event', '-'], JSON.stringify({ data: body }));
    assert.equal((onlyLine(chunk.stdout)['decision'] as { block: { status: number } }).block.status, 403);
  });

  test('auth: 401 without the token, allow with it; msgpack negotiated on request', async () => {
    const { path } = await startAgent(['--example', 'auth', '--token', 's3cret']);
    const denied = onlyLine((await call(path, [])).stdout);
    assert.equal((denied['decision'] as { block: { status: number } }).block.status, 401);
    const event = JSON.stringify({ headers: { authorization: ['Bearer s3cret'] } });
    const ok = await call(path, ['--event', '-', '--encoding', 'msgpack'], event);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(onlyLine(ok.stdout)['decision'], 'allow');
  });

  test('--handshake prints the agent handshake response', async () => {
    const { path } = await startAgent(['--example', 'echo', '--id', 'echo-1']);
    const r = await call(path, ['--handshake']);
    const hs = onlyLine(r.stdout);
    assert.equal(hs['success'], true);
    assert.equal(hs['protocol_version'], 2);
    assert.equal((hs['capabilities'] as { agent_id: string }).agent_id, 'echo-1');
  });

  test('failures: one line on stderr starting with the error code, non-zero exit', async () => {
    const missing = await call(socketPath('nobody'), []);
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^ZAP_CONNECT_FAILED: /);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    const badType = await call(socketPath('nobody'), ['--type', 'nope']);
    assert.equal(badType.code, 2);
  });

  test('SIGTERM stops the agent and removes its socket file', async () => {
    const { path, child } = await startAgent(['--example', 'echo']);
    assert.ok(existsSync(path));
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    assert.equal(existsSync(path), false);
  });
});

test('zap with no command prints usage', async () => {
  await assert.rejects(run(process.execPath, [CLI]), (err: { code: number; stdout: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stdout, /usage: zap/);
    return true;
  });
});
