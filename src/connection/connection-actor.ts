// One pool connection inside a connection host: the xstate lifecycle machine driving a
// FramedConnection. The machine decides when to connect, handshake, back off and close; the
// FramedConnection does the per-request work. State changes are reported to the host.
import { createActor, fromPromise, type Actor } from 'xstate';
import type { Socket } from 'node:net';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { OpenConnectionCommand, StateReport } from '../pool/host-protocol.js';
import { connectUds } from '../transport/uds.js';
import { VERSION } from '../version.js';
import { connectionMachine, type ConnectionStateName } from './connection-machine.js';
import { FramedConnection } from './framed-connection.js';
import { sendInitialConfigure } from './uds-agent-client.js';

export interface ConnectionActorListener {
  state(report: StateReport): void;
  /** A ready connection, each time one is (re)established. */
  established(connection: FramedConnection): void;
}

export class ConnectionActor {
  readonly connectionId: number;
  private readonly actor: Actor<typeof connectionMachine>;
  private current: FramedConnection | undefined;
  private configures = 0;
  private lastState: ConnectionStateName | undefined;

  constructor(
    private readonly command: OpenConnectionCommand,
    private readonly listener: ConnectionActorListener,
  ) {
    this.connectionId = command.connectionId;
    const machine = connectionMachine.provide({
      actors: {
        connect: fromPromise<unknown, { attempt: number }>(() => this.connect()),
        handshake: fromPromise<unknown, { transport: unknown }>(({ input }) => this.handshake(input.transport as Socket)),
      },
    });
    this.actor = createActor(machine, {
      input: {
        redial: command.redial,
        initialBackoffMs: command.reconnectInitialBackoffMs,
        maxBackoffMs: command.reconnectMaxBackoffMs,
      },
    });
    this.actor.subscribe((snapshot) => this.onSnapshot(snapshot.value as ConnectionStateName, snapshot.context));
  }

  start(): void {
    this.actor.start();
  }

  /** The live connection while ready / paused / draining. */
  get connection(): FramedConnection | undefined {
    return this.current;
  }

  get state(): ConnectionStateName {
    return this.actor.getSnapshot().value as ConnectionStateName;
  }

  pause(): void {
    this.actor.send({ type: 'PAUSE' });
  }
  resume(): void {
    this.actor.send({ type: 'RESUME' });
  }
  close(): void {
    this.actor.send({ type: 'CLOSE' });
  }

  private async connect(): Promise<Socket> {
    const { endpoint, agentId, connectTimeoutMs } = this.command;
    if (endpoint.transport !== 'uds') {
      throw zapError(ErrorCode.ConnectFailed, `transport '${endpoint.transport}' is not served by this connection type`, { agentId });
    }
    return connectUds(endpoint.path, connectTimeoutMs, agentId);
  }

  private async handshake(socket: Socket): Promise<FramedConnection> {
    const c = this.command;
    const connection = new FramedConnection(socket, {
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
    if (c.config !== null && c.config !== undefined) {
      const n = this.configures++;
      await sendInitialConfigure(connection, c.config, n === 0 ? c.initialPushId : `${c.initialPushId}.${n}`);
    }
    // The machine only learns about a loss through LOST; the first close wins.
    connection.once('close', (err) => {
      if (this.current === connection) this.current = undefined;
      if (this.actor.getSnapshot().status === 'active') {
        this.actor.send({ type: 'LOST', error: err?.message ?? 'connection closed by peer' });
      }
    });
    this.current = connection;
    return connection;
  }

  private onSnapshot(state: ConnectionStateName, context: { attempt: number; lastError: string | null }): void {
    if (state === this.lastState) return;
    const previous = this.lastState;
    this.lastState = state;
    if (state === 'closed' || state === 'backoff') {
      const c = this.current;
      this.current = undefined;
      c?.close();
    }
    const report: StateReport = {
      type: 'state',
      connectionId: this.connectionId,
      state,
      lastError: context.lastError,
      attempt: context.attempt,
    };
    if (state === 'ready' && this.current !== undefined) {
      const hs = this.current.handshake;
      report.encoding = this.current.encoding as 'json' | 'msgpack';
      if (hs !== undefined) report.capabilities = hs.capabilities;
      if (previous === 'handshaking') this.listener.established(this.current);
    }
    this.listener.state(report);
  }
}
