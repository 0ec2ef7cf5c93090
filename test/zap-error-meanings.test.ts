// ZAP_ERROR means "an unexpected internal error" only (spec §10.11). It used to stand also for a
// caller's bad message type and for a reverse connection the proxy closed; each now has its own code.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { ReverseConnector } from '../src/agent/reverse-connector.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { socketPath } from './support/tmp.js';

test("ZAP_ERROR overloaded: a frame of an unknown message type is the caller's ZAP_INVALID_ARGUMENT, not an internal error", () => {
  assert.throws(
    () => encodeFrame(0xf0, Buffer.alloc(1)),
    (err: unknown) => err instanceof AgentPoolError && err.code === ErrorCode.InvalidArgument && /unknown message type/.test(err.message),
  );
});

test('ZAP_ERROR overloaded: a registered reverse connection the proxy closes is retried as ZAP_CONNECTION_LOST', async () => {
  const path = socketPath('closed-by-proxy');
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.destroy());
  await pool.listenReverse({ path, insecureAllowUnauthenticated: true, allowUndeclaredAgents: true });
  const connector = new ReverseConnector({ endpoint: path, agentId: 'left', backoff: { initialMs: 10, maxMs: 40, jitter: 0 } });
  after(() => connector.close());
  await connector.start();
  await connector.whenRegistered();
  const retry = once(connector, 'retry');
  await pool.destroy();
  const [{ error }] = (await retry) as [{ error: AgentPoolError }];
  assert.equal(error.code, ErrorCode.ConnectionLost);
  assert.equal(error.agentId, 'left');
  assert.match(error.message, /Reverse connection of 'left' closed/);
});
