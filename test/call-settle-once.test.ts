// Exactly-once settlement on the real transports: a framed connection over a real Unix socket and
// a gRPC connection over loopback, each against our AgentServer. Replies race per-call deadlines
// and aborts, completions re-enter the connection (cancelling other calls), and the connection is
// closed with calls outstanding; every call's completion runs exactly once. Counted through the
// callback form (sendFrameWith), where a second completion would show (a promise would hide it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentHandler } from '../src/agent/handler.js';
import type { CallCompletion, CallOptions } from '../src/connection/call-core.js';
import { connectGrpcAgent } from '../src/connection/grpc-agent-client.js';
import { connectUdsAgent } from '../src/connection/uds-agent-client.js';
import { AgentServer } from '../src/agent/agent-server.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { EVENT_MESSAGE_TYPE } from '../src/protocol/message-type.js';
import { jsonCodec } from '../src/protocol/payload-codec.js';
import type { AgentResponse } from '../src/protocol/types.js';
import { grpcEventEncoder } from '../src/transport/grpc-event-encoder.js';
import { requestHeaders } from './support/events.js';
import { startGrpcAgent } from './support/grpc-agents.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

/** The event's uri is its plan: `/delay/<ms>` answers after that long, `/never` only on Cancel. */
const handler: AgentHandler = {
  onRequestHeaders: (e, ctx) =>
    new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => resolve({}));
      const delay = /^\/delay\/(\d+)$/.exec(e.uri);
      if (delay !== null) setTimeout(() => resolve({}), Number(delay[1]));
    }),
};

interface Connection {
  readonly closed: boolean;
  sendFrameWith(frame: Buffer, correlationId: string, options: CallOptions, token: number, done: CallCompletion): void;
  cancel(correlationId: string, reason?: 'manual', silent?: boolean): boolean;
  close(): void;
}

/** Seeded, so a failure replays the same plan (timing still varies with the machine). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

async function settlesOnce(connection: Connection, encode: (cid: string, uri: string) => Buffer): Promise<void> {
  const outcomes = new Map<number, Array<{ error: unknown; response: AgentResponse | undefined }>>();
  const cids: string[] = [];
  const next = random(12);
  let completions = 0;
  const done: CallCompletion = (token, error, response) => {
    const list = outcomes.get(token) ?? [];
    list.push({ error, response });
    outcomes.set(token, list);
    // Every fifth completion re-enters the connection and cancels the next call (maybe settled
    // already; during the close, one the close has yet to reach).
    if (++completions % 5 === 0 && token + 1 < cids.length) connection.cancel(cids[token + 1] as string);
  };
  const N = 240;
  for (let token = 0; token < N; token++) {
    const cid = `c${token}`;
    cids.push(cid);
    const options: CallOptions = {};
    let uri = `/delay/${Math.floor(next() * 12)}`;
    if (token % 6 === 0) uri = '/never'; // only a deadline or the close ends it
    if (token % 3 === 0 || token % 6 === 0) options.timeoutMs = 1 + Math.floor(next() * 15);
    else if (token % 4 === 1) {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), Math.floor(next() * 12));
      options.signal = ac.signal;
    }
    connection.sendFrameWith(encode(cid, uri), cid, options, token, done);
  }
  // Calls that stay open (never answered, no deadline) until the close.
  for (let token = N; token < N + 20; token++) {
    const cid = `open${token}`;
    cids.push(cid);
    connection.sendFrameWith(encode(cid, '/never'), cid, {}, token, done);
  }
  await waitFor(() => [...outcomes.keys()].filter((t) => t < N).length === N, 10_000);
  connection.close();
  assert.equal(connection.closed, true);
  await waitFor(() => outcomes.size === N + 20, 5_000);
  const counts = { reply: 0, timeout: 0, abort: 0, lost: 0 };
  for (let token = 0; token < N + 20; token++) {
    const list = outcomes.get(token) ?? [];
    assert.equal(list.length, 1, `call ${token} settled ${list.length} times`);
    const { error, response } = list[0] as { error: unknown; response: AgentResponse | undefined };
    if (error === undefined) {
      assert.ok(response !== undefined);
      counts.reply++;
      continue;
    }
    assert.ok(error instanceof AgentPoolError, `call ${token}: ${String(error)}`);
    if (error.code === ErrorCode.Timeout) counts.timeout++;
    else if (error.code === ErrorCode.Abort) counts.abort++;
    else if (error.code === ErrorCode.ConnectionLost) counts.lost++;
    else assert.fail(`call ${token}: unexpected ${error.code}`);
    assert.equal(error.correlationId, cids[token]);
  }
  assert.ok(counts.reply > 0 && counts.timeout > 0 && counts.lost > 0, JSON.stringify(counts));
}

test(
  'exactly-once settlement on a framed connection: replies racing deadlines and aborts, re-entrant ' +
    'cancels, close with calls outstanding',
  async (t) => {
    const path = socketPath('settle-once');
    const server = new AgentServer({ agentId: 'settle-once', handler });
    await server.listen(path);
    t.after(() => server.close());
    const connection = await connectUdsAgent(path, { agentId: 'settle-once' });
    await settlesOnce(connection, (cid, uri) =>
      encodeFrame(EVENT_MESSAGE_TYPE.request_headers, jsonCodec.encodeEvent('request_headers', requestHeaders(cid, uri), cid)),
    );
  },
);

test(
  'exactly-once settlement on a gRPC connection: replies racing deadlines and aborts, re-entrant ' +
    'cancels, close with calls outstanding',
  async () => {
    const { endpoint } = await startGrpcAgent(handler);
    const connection = await connectGrpcAgent(endpoint, { agentId: 'settle-once-grpc' });
    await settlesOnce(connection, (cid, uri) => grpcEventEncoder.encode('request_headers', requestHeaders(cid, uri), cid));
  },
);
