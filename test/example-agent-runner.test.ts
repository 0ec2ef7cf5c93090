// examples/agent-runner.ts as a user runs it: a child process started with the flags of `zap agent`,
// called through an AgentPool, stopped with a real SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { socketPath } from './support/tmp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = 'examples/agent-runner.ts';

interface Child {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out: () => out, err: () => err, exit };
}

/** Resolves once the child printed its ready line; rejects if it exits first. */
async function ready(c: Child): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (c.out().includes('listening on')) resolve();
    };
    c.child.stdout!.on('data', check);
    check();
    void c.exit.then((code) => reject(new Error(`example exited early with ${code}: ${c.err()}`)));
  });
}

describe('examples/agent-runner.ts', () => {
  test('serves the builders it returns, then drains and exits 0 on SIGTERM', async () => {
    const path = socketPath('example');
    const agent = start(['--listen', `unix:${path}`]);
    await ready(agent);
    const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1 });
    try {
      await pool.addAgent('guard', `unix:${path}`, { requireReady: true });

      const admin = await pool.sendRequestHeaders('guard', 'a', requestHeaders('a', '/admin/users'));
      assert.deepEqual(admin.decision, { type: 'block', status: 403, body: 'Forbidden', headers: null });
      assert.deepEqual(
        [admin.audit.tags, admin.audit.ruleIds, admin.audit.custom['client_ip']],
        [['admin-path'], ['guard-001'], '192.0.2.10'],
      );

      const noKey = await pool.sendRequestHeaders('guard', 'b', requestHeaders('b', '/api'));
      assert.deepEqual(noKey.decision, {
        type: 'block',
        status: 401,
        body: '{"error":"missing x-api-key"}',
        headers: { 'content-type': 'application/json', 'www-authenticate': 'ApiKey' },
      });
      assert.deepEqual(noKey.audit.reasonCodes, ['NO_API_KEY']);

      const moved = await pool.sendRequestHeaders('guard', 'c', requestHeaders('c', '/old-login'));
      assert.deepEqual(moved.decision, { type: 'redirect', url: '/login', status: 301 });

      const ok = await pool.sendRequestHeaders('guard', 'd', requestHeaders('d', '/api', { 'x-api-key': ['acme.s3cret'] }));
      assert.deepEqual(ok.decision, { type: 'allow' });
      assert.deepEqual(ok.requestHeaders, [
        { op: 'set', name: 'x-tenant', value: 'acme' },
        { op: 'remove', name: 'x-api-key' },
      ]);
      assert.deepEqual(ok.responseHeaders, [{ op: 'add', name: 'x-guarded-by', value: 'guard' }]);

      const form = Buffer.from('user=ann&password=hunter2&x=1');
      const chunk = await pool.sendRequestBodyChunk('guard', 'd', {
        correlationId: 'd',
        data: form,
        isLast: true,
        totalSize: form.length,
        chunkIndex: 0,
        bytesReceived: form.length,
      });
      assert.deepEqual(chunk.requestBodyMutation, { data: 'user=ann&password=***&x=1', chunkIndex: 0 });
      assert.deepEqual(chunk.audit.tags, ['redacted']);
    } finally {
      await pool.close();
    }
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exit, 0, agent.err());
    assert.equal(existsSync(path), false, 'the socket file is removed');
  });

  test('--help exits 0 with the usage; an unknown flag exits 2 with one usage line', async () => {
    const help = start(['--help']);
    assert.equal(await help.exit, 0);
    assert.match(help.out(), /^guard: an example agent/);
    assert.match(help.out(), /--listen ENDPOINT/);
    const bad = start(['--listen', 'x.sock', '--bogus']);
    assert.equal(await bad.exit, 2);
    assert.equal(bad.err(), "usage: unknown option '--bogus' (--help lists the options)\n");
  });
});
