// Hosts the connection actors of one thread (a worker, or the calling thread with workers: 0).
// It never decides routing: it opens what the router asks, writes the frames it is given on the
// connection it is told, and reports replies, errors and state changes back.
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import type { AgentResponse } from '../protocol/types.js';
import type {
  CancelItem,
  HostCommand,
  HostSink,
  ListenReverseCommand,
  OpenConnectionCommand,
  SendItem,
} from '../pool/host-protocol.js';
import type { RegistrationRequest } from '../protocol/types.js';
import { ReverseListener } from '../transport/reverse-listener.js';
import { AcceptedDialer } from './accepted-dialer.js';
import { ConnectionActor } from './connection-actor.js';
import type { PoolConnection } from './pool-connection.js';

interface HostedCall {
  connection: PoolConnection;
  correlationId: string;
}

export class ConnectionHost {
  private readonly actors = new Map<number, ConnectionActor>();
  private readonly calls = new Map<number, HostedCall>();
  private readonly listeners = new Map<number, ReverseListener>();
  /** Configuration each reverse-connecting agent gets in its initial Configure. */
  private readonly agentConfigs = new Map<string, unknown>();
  private terminated = false;

  constructor(private readonly sink: HostSink) {}

  command(command: HostCommand): void {
    if (this.terminated) return;
    switch (command.type) {
      case 'open':
        return this.startActor(command);
      case 'close':
        this.actors.get(command.connectionId)?.close();
        return;
      case 'agent-config':
        this.agentConfigs.set(command.agentId, command.config);
        return;
      case 'listen-reverse':
        return this.listenReverse(command);
      case 'stop-reverse': {
        const listener = this.listeners.get(command.listenerId);
        this.listeners.delete(command.listenerId);
        void listener?.close().then(() => this.sink.report({ type: 'reverse-stopped', listenerId: command.listenerId }));
        return;
      }
    }
  }

  private startActor(command: OpenConnectionCommand, dialer?: AcceptedDialer, onClosed?: () => void): void {
    const actor = new ConnectionActor(
      command,
      {
        state: (report) => {
          if (report.state === 'closed') {
            this.actors.delete(report.connectionId);
            onClosed?.();
          }
          this.sink.report(report);
        },
        established: (connection) => this.watch(command.connectionId, connection),
      },
      dialer,
    );
    this.actors.set(command.connectionId, actor);
    actor.start();
  }

  /** Runs a reverse listener on this thread; admitted sockets become actors that never redial. */
  private listenReverse(command: ListenReverseCommand): void {
    const { listenerId, settings } = command;
    const listener = new ReverseListener(listenerId, settings, {
      report: (report) => this.sink.report(report),
      admitted: (socket, leftover, registration: RegistrationRequest, connectionId) => {
        const config = this.agentConfigs.get(registration.agentId) ?? null;
        this.sink.report({
          type: 'reverse-registered',
          listenerId,
          connectionId,
          agentId: registration.agentId,
          capabilities: registration.capabilities,
          metadata: registration.metadata,
        });
        const dialer = new AcceptedDialer({
          socket,
          leftover,
          agentId: registration.agentId,
          config,
          requestTimeoutMs: settings.requestTimeoutMs,
          channelBufferSize: settings.channelBufferSize,
        });
        const open: OpenConnectionCommand = {
          type: 'open',
          connectionId,
          agentId: registration.agentId,
          endpoint: { transport: 'reverse', agentId: registration.agentId },
          connectTimeoutMs: settings.handshakeTimeoutMs,
          handshakeTimeoutMs: settings.handshakeTimeoutMs,
          requestTimeoutMs: settings.requestTimeoutMs,
          channelBufferSize: settings.channelBufferSize,
          encoding: 'json',
          config,
          initialPushId: `push-r${-connectionId}`,
          redial: false,
          reconnectInitialBackoffMs: 1,
          reconnectMaxBackoffMs: 1,
        };
        this.startActor(open, dialer, () => listener.released(registration.agentId));
      },
    });
    this.listeners.set(listenerId, listener);
    listener.start().then(
      (addresses) => this.sink.report({ type: 'reverse-listening', listenerId, ...addresses }),
      (err: unknown) => {
        this.listeners.delete(listenerId);
        const e = err instanceof AgentPoolError ? err : zapError(ErrorCode.InvalidConfig, err instanceof Error ? err.message : String(err));
        this.sink.report({ type: 'reverse-listen-failed', listenerId, error: e.toSerialized() });
      },
    );
  }

  send(item: SendItem): void {
    const [requestId, connectionId, correlationId, frame] = item;
    const connection = this.actors.get(connectionId)?.connection;
    if (connection === undefined) {
      const err = zapError(ErrorCode.Error, `Connection ${connectionId} is not open`, { correlationId });
      this.sink.result([requestId, null, err.toSerialized()]);
      return;
    }
    this.calls.set(requestId, { connection, correlationId });
    const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    connection.sendFrame(bytes, correlationId, { timeoutMs: Infinity }).then(
      (response) => this.succeed(requestId, response),
      (err: unknown) => this.fail(requestId, err),
    );
  }

  cancel(item: CancelItem): void {
    const [requestId, reason] = item;
    const call = this.calls.get(requestId);
    if (call === undefined) return;
    this.calls.delete(requestId);
    call.connection.cancel(call.correlationId, reason);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
    this.listeners.clear();
    for (const actor of this.actors.values()) actor.close();
    this.actors.clear();
  }

  private succeed(requestId: number, response: AgentResponse): void {
    if (!this.calls.delete(requestId)) return; // cancelled by the router: it has settled already
    this.sink.result([requestId, response]);
  }

  private fail(requestId: number, err: unknown): void {
    if (!this.calls.delete(requestId)) return; // cancelled by the router: it has settled already
    const e = err instanceof AgentPoolError ? err : zapError(ErrorCode.Error, err instanceof Error ? err.message : String(err));
    this.sink.result([requestId, null, e.toSerialized()]);
  }

  /** Forwards a ready connection's control traffic to the router. */
  private watch(connectionId: number, connection: PoolConnection): void {
    connection.on('health', (health) => this.sink.report({ type: 'health', connectionId, health }));
    connection.on('metrics', (metrics) => this.sink.report({ type: 'metrics', connectionId, metrics }));
    connection.on('config-update', (request) => this.sink.report({ type: 'config-update', connectionId, request }));
    connection.on('flow-control', (signal) => this.sink.report({ type: 'flow-control', connectionId, signal }));
    connection.on('late-reply', (correlationId) => this.sink.report({ type: 'late-reply', connectionId, correlationId }));
  }
}
