// addAgent resolving `{ready: 0}` for a missing socket said nothing (issue 11 item 9). It now returns
// the typed error of every connection that is not ready, and `requireReady` turns too few ready
// connections into a rejection carrying that error (the agent is removed again). Real sockets: a
// path nobody listens on, a raw agent that refuses the handshake, our AgentServer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentServer } from '../src/agent/agent-server.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { MessageType } from '../src/protocol/message-type.js';
import { rawUdsAgent } from './support/raw-uds-agent.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

function newPool(workers = 0): AgentPool {
  const pool = new AgentPool({ workers, reconnectInitialBackoffMs: 1_000, reconnectMaxBackoffMs: 1_000 });
  after(() => pool.close());
  return pool;
}

async function rejection(p: Promise<unknown>): Promise<AgentPoolError> {
  const err = await p.then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentPoolError, String(err));
  return err;
}

/** A raw agent that answers every handshake with a refusal. */
async function refusingAgent(): Promise<string> {
  const refusal = { protocol_version: 0, capabilities: {}, success: false, error: 'not today', encoding: 'json' };
  return (await rawUdsAgent('refuse', () => encodeFrame(MessageType.HandshakeResponse, Buffer.from(JSON.stringify(refusal))))).path;
}

for (const workers of [0, 1]) {
  test(`addAgent {ready: 0} for a missing socket says nothing: one ZAP_CONNECT_FAILED per connection (workers: ${workers})`, async () => {
    const pool = newPool(workers);
    const missing = socketPath('missing');
    const result = await pool.addAgent('gone', `unix:${missing}`, { connectionsPerAgent: 2 });
    assert.equal(result.ready, 0);
    assert.equal(result.errors.length, 2);
    for (const err of result.errors) {
      assert.ok(err instanceof AgentPoolError);
      assert.equal(err.code, 'ZAP_CONNECT_FAILED');
      assert.equal(err.agentId, 'gone');
      assert.ok(err.message.includes(missing), err.message);
    }
  });
}

test(
  'addAgent {ready: 0} for a missing socket says nothing: requireReady rejects with the connection ' + 'error and removes the agent',
  async () => {
    const pool = newPool();
    const missing = socketPath('missing');
    const err = await rejection(pool.addAgent('gone', `unix:${missing}`, { connectionsPerAgent: 2, requireReady: true }));
    assert.equal(err.code, 'ZAP_CONNECT_FAILED');
    assert.equal(err.agentId, 'gone');
    assert.match(err.message, /^Agent 'gone': 0 of 2 connections ready, at least 1 required \(last error: ZAP_CONNECT_FAILED: /);
    assert.ok(err.cause instanceof AgentPoolError);
    assert.equal(err.cause.code, 'ZAP_CONNECT_FAILED');
    assert.deepEqual(pool.agentIds(), []);
    // Removed, so the same id can be added again (and this time is kept, without requireReady).
    const again = await pool.addAgent('gone', `unix:${missing}`, { connectionsPerAgent: 1 });
    assert.equal(again.ready, 0);
    assert.deepEqual(pool.agentIds(), ['gone']);
  },
);

test('addAgent {ready: 0} for a missing socket says nothing: a refused handshake is reported as ZAP_HANDSHAKE_FAILED', async () => {
  const pool = newPool();
  const path = await refusingAgent();
  const result = await pool.addAgent('no', `unix:${path}`, { connectionsPerAgent: 1 });
  assert.equal(result.ready, 0);
  assert.equal(result.errors[0]?.code, 'ZAP_HANDSHAKE_FAILED');
  assert.match(result.errors[0]!.message, /not today/);
  const err = await rejection(pool.addAgent('no-2', `unix:${path}`, { connectionsPerAgent: 1, requireReady: 1 }));
  assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
  assert.match(err.message, /not today/);
});

test(
  'addAgent {ready: 0} for a missing socket says nothing: a ready agent meets requireReady = ' + 'connectionsPerAgent, no errors',
  async () => {
    const path = socketPath('ok');
    const server = new AgentServer({ agentId: 'ok', handler: {} });
    await server.listen(path);
    after(() => server.close());
    const pool = newPool();
    const result = await pool.addAgent('ok', `unix:${path}`, { connectionsPerAgent: 2, requireReady: 2 });
    assert.deepEqual(result, { ready: 2, errors: [] });
  },
);

test(
  'addAgent {ready: 0} for a missing socket says nothing: a malformed requireReady is ' + 'ZAP_INVALID_CONFIG, nothing is added',
  async () => {
    const pool = newPool();
    for (const requireReady of [0, 3, 1.5, 'yes' as unknown as number]) {
      const err = await rejection(pool.addAgent('x', 'unix:/nonexistent.sock', { connectionsPerAgent: 2, requireReady }));
      assert.equal(err.code, 'ZAP_INVALID_CONFIG');
      assert.match(err.message, /requireReady/);
    }
    const reverse = await rejection(pool.addAgent('r', 'reverse://r', { requireReady: true }));
    assert.equal(reverse.code, 'ZAP_INVALID_CONFIG');
    assert.match(reverse.message, /'requireReady' does not apply to a reverse agent/);
    assert.deepEqual(pool.agentIds(), []);
  },
);

test(
  'addAgent {ready: 0} for a missing socket says nothing: zap serve names the error next to the ' + 'ready count (compiled CLI)',
  async () => {
    const missing = socketPath('serve-missing');
    const config = join(tmpdir(), `zap-small-ready-${process.pid}.kdl`);
    writeFileSync(config, `agents {\n  agent "gone" {\n    unix-socket "${missing}"\n  }\n}\n`);
    after(() => rmSync(config, { force: true }));
    const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [cli, 'serve', '--config', config, '--metrics', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('agent(s):'), 20_000);
    child.kill('SIGTERM');
    await once(child, 'exit');
    assert.match(out, /gone \(unix:[^)]+\): 0 ready \(ZAP_CONNECT_FAILED: [^\n]*serve-missing/);
  },
);
