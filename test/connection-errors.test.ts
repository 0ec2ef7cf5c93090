// One set of connection error helpers for every transport. The framed and gRPC copies of
// asProtocolError differed: the framed one passed a typed error through without the connection's
// agent id (a malformed frame closed the connection with an error naming no agent); the gRPC one
// turned every other code into ZAP_PROTOCOL_ERROR. The one kept stamps the agent and keeps the code.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { asProtocolError, connectionLost, withIds } from '../src/connection/connection-errors.js';
import { FramedConnection } from '../src/connection/framed-connection.js';
import { AgentPoolError, ErrorCode, protocolError, zapError } from '../src/protocol/errors.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { MessageType } from '../src/protocol/message-type.js';
import { socketPath } from './support/tmp.js';

test("asProtocolError keeps a typed error's code and stamps the agent id; anything else becomes ZAP_PROTOCOL_ERROR", () => {
  const tooLarge = zapError(ErrorCode.FrameTooLarge, 'Message too large', { correlationId: 'c1' });
  const stamped = asProtocolError(tooLarge, 'waf');
  assert.equal(stamped.code, ErrorCode.FrameTooLarge);
  assert.equal(stamped.agentId, 'waf');
  assert.equal(stamped.correlationId, 'c1');
  assert.equal(stamped.message, 'Message too large');

  const own = protocolError('bad', { agentId: 'waf' });
  assert.equal(asProtocolError(own, 'waf'), own, "already this agent's: the same object");

  const plain = asProtocolError(new SyntaxError('Unexpected token'), 'waf');
  assert.equal(plain.code, ErrorCode.ProtocolError);
  assert.equal(plain.agentId, 'waf');
  assert.equal(plain.message, 'Unexpected token');
  assert.ok(plain.cause instanceof SyntaxError);
});

test("withIds gives a connection-wide error this call's agent and cid, and leaves other values alone", () => {
  const lost = connectionLost('waf', 'socket closed');
  assert.equal(lost.code, ErrorCode.ConnectionLost);
  assert.equal(lost.message, "Connection to agent 'waf' lost: socket closed");
  const own = withIds(lost, 'waf', 'c7') as AgentPoolError;
  assert.equal(own.correlationId, 'c7');
  assert.equal(own.code, ErrorCode.ConnectionLost);
  assert.equal(withIds(own, 'waf', 'c7'), own);
  const other = new Error('x');
  assert.equal(withIds(other, 'waf', 'c7'), other);
});

/** A framed (reverse: no handshake) connection named `agentId`, and the agent's end of its socket. */
async function framedPair(agentId: string): Promise<{ connection: FramedConnection; agent: Socket; done: () => void }> {
  const path = socketPath('errors');
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const socket = connect(path);
  await once(socket, 'connect');
  const [agent] = await accepted;
  agent.on('error', () => {});
  const connection = new FramedConnection(socket, { agentId, transport: 'reverse' });
  return { connection, agent, done: () => (agent.destroy(), server.close()) };
}

test(
  'framed protocol error names its agent: a malformed frame closes the connection with ' + 'ZAP_PROTOCOL_ERROR carrying the agent id',
  async (t) => {
    const { connection, agent, done } = await framedPair('named-agent');
    t.after(done);
    const closed = once(connection, 'close') as Promise<[AgentPoolError | null]>;
    agent.write(Buffer.from([0, 0, 0, 3, 0x99, 1, 2])); // unknown message type
    const [error] = await closed;
    assert.ok(error instanceof AgentPoolError);
    assert.equal(error.code, ErrorCode.ProtocolError);
    assert.equal(error.agentId, 'named-agent');
  },
);

test('framed protocol error names its agent: an undecodable control frame is dropped and reported with the agent id', async (t) => {
  const { connection, agent, done } = await framedPair('named-agent');
  t.after(() => (connection.close(), done()));
  const reported = once(connection, 'bad-control-frame') as Promise<[AgentPoolError]>;
  agent.write(encodeFrame(MessageType.HealthStatus, Buffer.from('{not json')));
  const [error] = await reported;
  assert.equal(error.code, ErrorCode.ProtocolError);
  assert.equal(error.agentId, 'named-agent');
  assert.equal(connection.closed, false);
});
