// "Dialer" of a reverse connection: the agent dialled us and registered, so connect() hands over
// the accepted socket and handshake() only wraps it (JSON, no 0x01/0x02) and delivers the initial
// Configure when the agent has a config (spec §9.5).
import type { Socket } from 'node:net';
import type { Dialer } from './dialer.js';
import { FramedConnection } from './framed-connection.js';
import { sendInitialConfigure } from './initial-configure.js';

export interface AcceptedSocket {
  socket: Socket;
  /** Bytes that arrived after the registration frame in the same read. */
  leftover: Buffer;
  agentId: string;
  config: unknown;
  requestTimeoutMs: number;
  channelBufferSize: number;
  /** Told about the connection as soon as it exists, so control frames in `leftover` have listeners. */
  onConnection?: (connection: FramedConnection) => void;
}

export class AcceptedDialer implements Dialer {
  private used = false;
  constructor(private readonly accepted: AcceptedSocket) {}

  async connect(): Promise<Socket> {
    if (this.used) throw new Error('a reverse connection cannot be redialled');
    this.used = true;
    return this.accepted.socket;
  }

  dispose(transport: unknown): void {
    (transport as Socket).destroy();
  }

  async handshake(transport: unknown, initialPushId: string): Promise<FramedConnection> {
    const a = this.accepted;
    const connection = new FramedConnection(transport as Socket, {
      agentId: a.agentId,
      transport: 'reverse',
      requestTimeoutMs: a.requestTimeoutMs,
      channelBufferSize: a.channelBufferSize,
      initialBytes: a.leftover,
    });
    a.onConnection?.(connection);
    // The listener paused the socket at hand-over so no byte is lost before the connection reads;
    // queued after the connection's own microtask that replays `leftover`, so order is kept.
    queueMicrotask(() => a.socket.resume());
    if (a.config !== null && a.config !== undefined) await sendInitialConfigure(connection, a.config, initialPushId);
    return connection;
  }
}
