// An agent process killed with requests in flight: every call settles with a typed error, none hangs.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectUdsAgent } from '../src/connection/uds-agent-client.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { requestHeaders } from './support/events.js';
import { socketPath } from './support/tmp.js';

test('agent killed mid-request: all 500 in-flight calls reject with ZAP_CONNECTION_LOST', async () => {
  const path = socketPath('hanging');
  const child = fork(fileURLToPath(new URL('./support/hanging-agent.ts', import.meta.url)), [path], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  const seen = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => out.includes(text) && resolve();
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      check();
    });
  try {
    await seen('listening');
    const conn = await connectUdsAgent(path, { requestTimeoutMs: 60_000 });
    const calls = Array.from({ length: 500 }, (_, i) => conn.send('request_headers', requestHeaders(`k-${i}`), `k-${i}`));
    await seen('got 500');
    child.kill('SIGKILL');
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof AgentPoolError);
      assert.equal(r.reason.code, 'ZAP_CONNECTION_LOST');
    }
    assert.equal(conn.inFlight, 0);
    assert.equal(conn.closed, true);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});
