// A gRPC agent process killed with requests in flight on its stream: every call settles with a
// typed error, none hangs; the connection reports its loss.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectGrpcAgent } from '../src/connection/grpc-agent-client.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { requestHeaders } from './support/events.js';

test('gRPC agent killed mid-stream: all 500 in-flight calls reject with ZAP_CONNECTION_LOST', async () => {
  const child = fork(fileURLToPath(new URL('./support/grpc-hanging-agent.ts', import.meta.url)), [], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const seen = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (let i = 0; i < 1_000; i++) {
      const m = pattern.exec(out);
      if (m !== null) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`agent never printed ${pattern}: ${out}`);
  };
  try {
    const [, endpoint] = await seen(/listening (\S+)/);
    const conn = await connectGrpcAgent(endpoint!, { requestTimeoutMs: 60_000 });
    const closed = once(conn, 'close');
    const calls = Promise.allSettled(
      Array.from({ length: 500 }, (_, i) => conn.send('request_headers', requestHeaders(`k-${i}`), `k-${i}`)),
    );
    await seen(/got 500/);
    child.kill('SIGKILL');
    for (const r of await calls) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof AgentPoolError);
      assert.equal(r.reason.code, 'ZAP_CONNECTION_LOST');
    }
    const [err] = (await closed) as [AgentPoolError];
    assert.equal(err.code, 'ZAP_CONNECTION_LOST');
    assert.match(err.message, /UNAVAILABLE|ended/);
    assert.equal(conn.inFlight, 0);
    assert.equal(conn.closed, true);
    await assert.rejects(conn.send('request_headers', requestHeaders('after'), 'after'), { code: 'ZAP_CONNECTION_LOST' });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

test(
  'HTTP/2 keepalive: a frozen agent (SIGSTOP) is detected and in-flight calls fail with ZAP_CONNECTION_LOST',
  { skip: process.platform === 'win32' },
  async () => {
    const child = fork(fileURLToPath(new URL('./support/grpc-hanging-agent.ts', import.meta.url)), [], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 1_000 && !/listening (\S+)/.test(out); i++) await new Promise((r) => setTimeout(r, 10));
      const endpoint = /listening (\S+)/.exec(out)![1]!;
      const conn = await connectGrpcAgent(endpoint, { keepaliveTimeMs: 200, keepaliveTimeoutMs: 300, requestTimeoutMs: 60_000 });
      const pending = conn.send('request_headers', requestHeaders('frozen'), 'frozen');
      child.kill('SIGSTOP');
      await assert.rejects(pending, { code: 'ZAP_CONNECTION_LOST', message: /UNAVAILABLE/ });
      assert.equal(conn.closed, true);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
  },
);
