// Hosts the connection actors of one thread (a worker, or the calling thread: all connections with
// workers: 0, the light-load connections otherwise).
// It never decides routing: it opens what the router asks, writes the frames it is given on the
// connection it is told, and reports replies, errors and state changes back.
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import { LiveCalls } from '../contract/live-calls.js';
import { encodeTextFrame } from '../protocol/frame-encoder.js';
import { packedJsonFrame } from '../transport/packed-json-frame.js';
import { PackedJsonWriter } from '../transport/packed-json.js';
import type { AgentResponse, Capabilities } from '../protocol/types.js';
import type {
  AgentDeclaration,
  CancelItem,
  HostCommand,
  HostSink,
  ListenReverseCommand,
  OpenConnectionCommand,
  SendItem,
} from '../contract/host-messages.js';
import { FlowAction, type RegistrationRequest } from '../protocol/types.js';
import { ReverseListener } from '../transport/reverse-listener.js';
import { AcceptedDialer } from './accepted-dialer.js';
import { ConnectionActor } from './connection-actor.js';
import { connectionLost } from './connection-errors.js';
import type { PoolConnection } from './pool-connection.js';

/** The router owns every deadline: connections arm no timer of their own. */
const NO_TIMER = Object.freeze({ timeoutMs: Infinity });

interface HostedCall {
  /** The router's request id. */
  readonly id: number;
  readonly connection: PoolConnection;
  readonly correlationId: string;
}

export class ConnectionHost {
  /** It shares the router's thread (workers: 0, or light-load connections): JSON events come as text. */
  readonly onOtherThread = false;
  private readonly actors = new Map<number, ConnectionActor>();
  private readonly calls = new LiveCalls<HostedCall>();
  private readonly listeners = new Map<number, ReverseListener>();
  /** Configuration each reverse-connecting agent gets in its initial Configure. */
  private readonly agentConfigs = new Map<string, unknown>();
  /** How the pool declares each agent id; reverse listeners admit registrations by it. */
  private readonly declarations = new Map<string, AgentDeclaration>();
  /** Connections whose control traffic is forwarded already (reverse ones are watched from creation). */
  private readonly watched = new WeakSet<PoolConnection>();
  private terminated = false;

  private lastBufferPercent = 0;
  private readonly bufferSampler: NodeJS.Timeout;

  constructor(private readonly sink: HostSink) {
    this.bufferSampler = setInterval(() => this.sampleBuffers(), 1_000);
    this.bufferSampler.unref();
  }

  /** Calls sent and not yet answered or cancelled (a worker sends its results at once when this is 0). */
  get pending(): number {
    return this.calls.size;
  }

  /** Reports the fullest outbound queue of this host when the figure changes (spec §12.1 gauge). */
  private sampleBuffers(): void {
    let percent = 0;
    for (const actor of this.actors.values()) {
      const c = actor.connection;
      if (c?.outboundQueued === undefined || c.outboundCapacity === undefined || c.outboundCapacity === 0) continue;
      percent = Math.max(percent, (c.outboundQueued / c.outboundCapacity) * 100);
    }
    if (percent !== this.lastBufferPercent) {
      this.lastBufferPercent = percent;
      this.sink.report({ type: 'buffer', percent });
    }
  }

  command(command: HostCommand): void {
    if (this.terminated) return;
    switch (command.type) {
      case 'open':
        return this.startActor(command);
      case 'close':
        this.actors.get(command.connectionId)?.close();
        return;
      case 'drain':
        this.actors.get(command.connectionId)?.drain();
        return;
      case 'recycle':
        this.actors.get(command.connectionId)?.recycle(command.reason);
        return;
      case 'ping':
        this.actors.get(command.connectionId)?.probe();
        return;
      case 'agent-config':
        this.agentConfigs.set(command.agentId, command.config);
        return;
      case 'agent-declared':
        if (command.declared === null) this.declarations.delete(command.agentId);
        else this.declarations.set(command.agentId, command.declared);
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

  private startActor(command: OpenConnectionCommand, dialer?: AcceptedDialer, onClosed?: () => void, capabilities?: Capabilities): void {
    const actor = new ConnectionActor(
      command,
      {
        state: (report) => {
          if (report.state === 'closed') {
            this.actors.delete(report.connectionId);
            onClosed?.();
          }
          // A reverse connection has no handshake: its capabilities came with the registration.
          if (report.state === 'ready' && report.capabilities === undefined && capabilities !== undefined)
            report.capabilities = capabilities;
          this.sink.report(report);
        },
        established: (connection) => this.watch(command.connectionId, connection),
        alive: (rttMs) => this.sink.report({ type: 'pong', connectionId: command.connectionId, rttMs }),
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
      refused: (agentId, error) => this.sink.report({ type: 'reverse-refused', listenerId, agentId, error }),
      declaration: (agentId) => this.declarations.get(agentId),
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
          // Frames the agent sent with its registration are decoded before the connection is ready.
          onConnection: (connection) => this.watch(connectionId, connection),
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
        this.startActor(open, dialer, () => listener.released(registration.agentId), registration.capabilities);
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
    const [requestId, connectionId, correlationId, frame, frameType] = item;
    const connection = this.actors.get(connectionId)?.connection;
    if (connection === undefined) {
      // The router routed here before this host's report of the loss reached it: the connection is
      // gone and nothing was written. That is a lost connection (a failure for the breaker, like
      // any other), not an internal error.
      const err = connectionLost(undefined, `connection ${connectionId} closed before the event was written`, undefined, correlationId);
      this.sink.result([requestId, null, err.toSerialized()]);
      return;
    }
    // The router sends each request id once (one dispatch per call), as LiveCalls.add requires.
    this.calls.add({ id: requestId, connection, correlationId });
    const bytes =
      typeof frame === 'string'
        ? encodeTextFrame(frameType, frame)
        : frame instanceof PackedJsonWriter
          ? packedJsonFrame(frame.bytes.subarray(frame.start, frame.length), frameType)
          : Buffer.isBuffer(frame)
            ? frame
            : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    connection.sendFrameWith(bytes, correlationId, NO_TIMER, requestId, this.completeBound);
  }

  /** One shared completion handler for every call of this host (no closure per call). */
  private readonly completeBound = (requestId: number, error: unknown, response: AgentResponse | undefined) =>
    this.complete(requestId, error, response);

  private complete(requestId: number, error: unknown, response: AgentResponse | undefined): void {
    const call = this.calls.get(requestId);
    if (call === undefined) return; // cancelled by the router: it has settled already
    this.calls.delete(requestId);
    if (error === undefined) {
      this.sink.result([requestId, response as AgentResponse], call.correlationId);
      return;
    }
    const e = error instanceof AgentPoolError ? error : zapError(ErrorCode.Error, error instanceof Error ? error.message : String(error));
    this.sink.result([requestId, null, e.toSerialized()]);
  }

  cancel(item: CancelItem): void {
    const [requestId, reason, silent] = item;
    const call = this.calls.get(requestId);
    if (call === undefined) return;
    this.calls.delete(requestId);
    call.connection.cancel(call.correlationId, reason, silent === true);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    clearInterval(this.bufferSampler);
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
    this.listeners.clear();
    for (const actor of this.actors.values()) actor.close();
    this.actors.clear();
  }

  /** Forwards a ready connection's control traffic to the router. */
  private watch(connectionId: number, connection: PoolConnection): void {
    if (this.watched.has(connection)) return;
    this.watched.add(connection);
    connection.on('health', (health) => this.sink.report({ type: 'health', connectionId, health }));
    connection.on('metrics', (metrics) => this.sink.report({ type: 'metrics', connectionId, metrics }));
    connection.on('config-update', (request) => this.sink.report({ type: 'config-update', connectionId, request }));
    connection.on('flow-control', (signal) => {
      // A connection-wide PAUSE shows in the lifecycle (ready ⇄ paused); the router decides per call.
      if (signal.correlationId === null) {
        const actor = this.actors.get(connectionId);
        const capacity = signal.action === FlowAction.UpdateCapacity ? signal.bufferAvailable : null;
        const pauses = signal.action === FlowAction.Pause || (capacity !== null && capacity <= 0);
        const resumes = signal.action === FlowAction.Resume || (capacity !== null && capacity > 0);
        if (pauses) actor?.pause();
        else if (resumes) actor?.resume();
      }
      this.sink.report({ type: 'flow-control', connectionId, signal });
    });
    connection.on('late-reply', (correlationId) => this.sink.report({ type: 'late-reply', connectionId, correlationId }));
  }
}
