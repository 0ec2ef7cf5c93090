// UDS dialer: connect the socket, then handshake and deliver the initial Configure.
import type { Socket } from 'node:net';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { OpenConnectionCommand } from '../contract/host-messages.js';
import { connectUds } from '../transport/uds.js';
import { VERSION } from '../version.js';
import type { Dialer } from './dialer.js';
import { FramedConnection } from './framed-connection.js';
import { sendInitialConfigure } from './initial-configure.js';

export class UdsDialer implements Dialer {
  constructor(private readonly command: OpenConnectionCommand) {}

  connect(): Promise<Socket> {
    const { endpoint, agentId, connectTimeoutMs } = this.command;
    if (endpoint.transport !== 'uds') throw zapError(ErrorCode.ConnectFailed, 'UDS dialer needs a UDS endpoint', { agentId });
    return connectUds(endpoint.path, connectTimeoutMs, agentId);
  }

  dispose(transport: unknown): void {
    (transport as Socket).destroy();
  }

  async handshake(transport: unknown, initialPushId: string): Promise<FramedConnection> {
    const c = this.command;
    const connection = new FramedConnection(transport as Socket, {
      agentId: c.agentId,
      transport: 'uds',
      requestTimeoutMs: c.requestTimeoutMs,
      channelBufferSize: c.channelBufferSize,
    });
    await connection.performHandshake({
      proxyVersion: VERSION,
      config: c.config,
      encoding: c.encoding,
      handshakeTimeoutMs: c.handshakeTimeoutMs,
    });
    if (c.config !== null && c.config !== undefined) await sendInitialConfigure(connection, c.config, initialPushId);
    return connection;
  }
}
