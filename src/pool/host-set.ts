// The connection hosts of one pool (design "the shape"): one ConnectionHost on this thread with
// workers: 0, else one WorkerHost per worker thread plus one ConnectionHost on this thread (after
// the workers) for each agent's light-load connection (inlineBelowInFlight). This unit spawns them,
// places connections on them, and starts the successor of a worker that died; what the successor
// must take over (connections, listeners, configs) the pool decides (onWorkerLost).
import { ConnectionHost } from '../connection/connection-host.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { ConnectionRecord, type AgentEntry } from './agent-entry.js';
import type { HostCommand, HostHandle, HostReport, OpenConnectionCommand } from '../contract/host-messages.js';
import { grpcChannelSettings } from './pool-config.js';
import type { Router } from './router.js';
import { WorkerHost } from './worker-host.js';

export interface HostSetSink {
  report(hostIndex: number, report: HostReport): void;
  /** Worker `index` died while in service (crash, uncaught error); call replace(index). */
  lost(index: number, error: Error): void;
}

export class HostSet {
  /** Hosts by index; a successor takes its predecessor's slot (the array itself is never replaced). */
  readonly handles: HostHandle[] = [];
  private nextHost = 0;
  /** Hosts taken in turn: the workers, or the one host of workers: 0. */
  private readonly turn: number;
  /** With workers: the slot of the ConnectionHost on this thread (light-load connections). */
  private readonly inlineIndex: number | undefined;
  private nextConnectionId = 1;
  private nextPushId = 1;
  /** Latest buffer utilisation (%) reported by each host; the gauge is their max (spec §12.1). */
  private readonly buffers = new Map<number, number>();

  constructor(
    workers: number,
    private readonly router: Router,
    private readonly sink: HostSetSink,
  ) {
    for (let i = 0; i < workers; i++) this.handles.push(this.startWorker(i));
    this.turn = Math.max(workers, 1);
    this.inlineIndex = workers === 0 ? undefined : workers;
    this.handles.push(new ConnectionHost({ result: (item) => router.onResult(item), report: (r) => sink.report(workers, r) }));
  }

  at(index: number): HostHandle {
    return this.handles[index] as HostHandle;
  }

  /** The index of the next host in turn (new connections and reverse listeners share the turn). */
  nextIndex(): number {
    return this.nextHost++ % this.turn;
  }

  /**
   * Where a new connection of `agent` goes: its first dialed connection stays on this thread when
   * the agent has more than one and takes light-load requests there (inlineBelowInFlight), the
   * rest go to the workers in turn.
   */
  private placeNew(agent: AgentEntry): number {
    const inline = this.inlineIndex;
    const o = agent.options;
    if (inline === undefined || o.inlineBelowInFlight === 0 || o.connectionsPerAgent < 2) return this.nextIndex();
    for (const c of agent.connections.values()) if (c.hostIndex === inline) return this.nextIndex();
    return inline;
  }

  /** Sends `command` to every host. */
  broadcast(command: HostCommand): void {
    for (const host of this.handles) host.command(command);
  }

  /**
   * Opens a connection of `agent` on the next host, or re-opens `existing` on its own host slot
   * (after a worker was replaced). The router knows the connection before its first report.
   */
  open(agent: AgentEntry, existing?: ConnectionRecord): void {
    const hostIndex = existing?.hostIndex ?? this.placeNew(agent);
    const host = this.at(hostIndex);
    const record = existing ?? new ConnectionRecord(this.nextConnectionId++, agent, host, hostIndex);
    record.rehost(host);
    if (existing === undefined) this.router.registerConnection(record);
    const o = agent.options;
    const command: OpenConnectionCommand = {
      type: 'open',
      connectionId: record.id,
      agentId: agent.id,
      endpoint: agent.endpoint,
      connectTimeoutMs: o.connectTimeoutMs,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      channelBufferSize: o.channelBufferSize,
      encoding: o.encoding,
      config: o.config ?? null,
      initialPushId: `push-${this.nextPushId++}`,
      redial: true,
      reconnectInitialBackoffMs: o.reconnectInitialBackoffMs,
      reconnectMaxBackoffMs: o.reconnectMaxBackoffMs,
      ...(agent.endpoint.transport === 'grpc' ? { grpc: grpcChannelSettings(o) } : {}),
      healthCheckIntervalMs: o.healthCheckIntervalMs,
      pingTimeoutMs: o.pingTimeoutMs,
    };
    host.command(command);
  }

  /** Starts the successor of dead worker `index` in its slot. */
  replace(index: number): HostHandle {
    const successor = this.startWorker(index);
    this.handles[index] = successor;
    return successor;
  }

  recordBuffer(hostIndex: number, percent: number): void {
    this.buffers.set(hostIndex, percent);
  }

  /** The fullest host's outbound buffer utilisation (%), 0 before any report. */
  get bufferUtilizationPercent(): number {
    return Math.max(0, ...this.buffers.values());
  }

  /** Test and fault-injection hook: kills a connection-host worker as a crash would. */
  async kill(index: number): Promise<void> {
    const host = this.handles[index];
    if (!(host instanceof WorkerHost)) throw zapError(ErrorCode.InvalidConfig, `No worker ${index}`);
    await host.kill();
  }

  /** Asks every host to close its connections, then stops the threads. */
  async terminate(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.terminate()));
  }

  private startWorker(index: number): WorkerHost {
    return new WorkerHost(index, {
      result: (item) => this.router.onResult(item),
      replyIdOf: (requestId) => this.router.replyIdOf(requestId),
      report: (report) => this.sink.report(index, report),
      lost: (error) => this.sink.lost(index, error),
    });
  }
}
