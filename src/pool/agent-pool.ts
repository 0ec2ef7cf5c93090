// AgentPool: the public, promise-based proxy-side API (spec §10.1). It owns the router (main
// thread) and the connection hosts (worker threads, or one host on this thread with workers: 0).
import { EventEmitter } from 'node:events';
import { ConnectionHost } from '../connection/connection-host.js';
import { abortError } from '../connection/abort-error.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type {
  AgentResponse,
  CancelReason,
  Capabilities,
  EventKind,
  EventMap,
  GuardrailInspectEvent,
  RequestBodyChunkEvent,
  RequestCompleteEvent,
  RequestHeadersEvent,
  ResponseBodyChunkEvent,
  ResponseHeadersEvent,
  WebSocketFrameEvent,
} from '../protocol/types.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { AgentEntry, ConnectionRecord } from './agent-entry.js';
import type { HostHandle, HostReport, OpenConnectionCommand } from './host-protocol.js';
import {
  DEFAULT_AGENT_OPTIONS,
  resolveAgentOptions,
  resolveWorkers,
  type AgentConnectionOptions,
  type AgentOptions,
  type AgentPoolConfig,
} from './pool-config.js';
import { Router, type SendOptions } from './router.js';
import { WorkerHost } from './worker-host.js';

export type { SendOptions } from './router.js';

export interface AgentStats {
  agentId: string;
  endpoint: string;
  activeConnections: number;
  healthyConnections: number;
  totalInFlight: number;
  queued: number;
  totalRequests: number;
  totalErrors: number;
  errorRate: number;
  isHealthy: boolean;
  correlationAffinities: number;
  connections: Array<{ id: number; state: string; inFlight: number; dispatched: number; encoding: string; lastError: string | null; worker: number }>;
}

export interface PoolStats {
  workers: number;
  agents: number;
  inFlight: number;
  lateResults: number;
}

export interface AgentPoolEvents {
  /** A connection changed state, or an agent sent a control message. */
  report: [agentId: string, report: HostReport];
  /** A connection-host worker died; its calls failed with ZAP_WORKER_LOST and it was replaced. */
  'worker-lost': [index: number, error: Error];
}

export class AgentPool extends EventEmitter<AgentPoolEvents> {
  readonly workers: number;
  private readonly base: AgentConnectionOptions;
  private readonly router: Router;
  private readonly hosts: HostHandle[] = [];
  private nextConnectionId = 1;
  private nextPushId = 1;
  private nextHost = 0;
  private closed = false;
  private readonly maintenance: NodeJS.Timeout;

  constructor(config: AgentPoolConfig = {}) {
    super();
    this.workers = resolveWorkers(config);
    this.base = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, config, 'AgentPool');
    this.router = new Router({
      report: (agent, _connection, report) => this.emit('report', agent.id, report),
    });
    if (this.workers === 0) {
      this.hosts.push(new ConnectionHost({ result: (item) => this.router.onResult(item), report: (r) => this.router.onReport(r) }));
    } else {
      for (let i = 0; i < this.workers; i++) this.hosts.push(this.startWorker(i));
    }
    this.maintenance = setInterval(() => this.maintain(), Math.min(this.base.healthCheckIntervalMs, 10_000));
    this.maintenance.unref();
  }

  // --- agents -----------------------------------------------------------------------------------

  /** Opens the agent's connections in parallel; resolves when each first attempt has ended. */
  async addAgent(agentId: string, endpoint: string, options: AgentOptions = {}): Promise<{ ready: number }> {
    this.assertOpen();
    if (typeof agentId !== 'string' || agentId.length === 0) throw zapError(ErrorCode.InvalidConfig, 'agentId must be a non-empty string');
    if (this.router.agents.has(agentId)) throw zapError(ErrorCode.InvalidConfig, `Agent '${agentId}' is already registered`, { agentId });
    const resolved = resolveAgentOptions(this.base, options, `agent '${agentId}'`);
    const agent = new AgentEntry(agentId, parseEndpoint(endpoint), resolved);
    this.router.agents.set(agentId, agent);
    for (let i = 0; i < resolved.connectionsPerAgent; i++) this.openConnection(agent);
    const ready = await agent.whenInitialSettled();
    return { ready };
  }

  /** Stops new calls to the agent, drains (up to drainTimeoutMs), cancels the rest, closes its connections. */
  async removeAgent(agentId: string): Promise<void> {
    const agent = this.router.agents.get(agentId);
    if (agent === undefined) throw zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId });
    await this.drainAndClose(agent, agent.options.drainTimeoutMs);
  }

  agentIds(): string[] {
    return [...this.router.agents.keys()];
  }

  // --- events -----------------------------------------------------------------------------------

  sendRequestHeaders(agentId: string, correlationId: string, event: RequestHeadersEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'request_headers', correlationId, event, options);
  }
  sendRequestBodyChunk(agentId: string, correlationId: string, event: RequestBodyChunkEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'request_body_chunk', correlationId, event, options);
  }
  sendResponseHeaders(agentId: string, correlationId: string, event: ResponseHeadersEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'response_headers', correlationId, event, options);
  }
  sendResponseBodyChunk(agentId: string, correlationId: string, event: ResponseBodyChunkEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'response_body_chunk', correlationId, event, options);
  }
  sendRequestComplete(agentId: string, correlationId: string, event: RequestCompleteEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'request_complete', correlationId, event, options);
  }
  sendWebSocketFrame(agentId: string, correlationId: string, event: WebSocketFrameEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'websocket_frame', correlationId, event, options);
  }
  sendGuardrailInspect(agentId: string, correlationId: string, event: GuardrailInspectEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'guardrail_inspect', correlationId, event, options);
  }

  /** Any event kind by name. */
  send<K extends EventKind>(agentId: string, kind: K, correlationId: string, event: EventMap[K], options: SendOptions = {}): Promise<AgentResponse> {
    if (this.closed) return Promise.reject(abortError('proxy_shutdown', agentId, correlationId));
    return this.router.send(agentId, kind, event, correlationId, options);
  }

  /** RequestHeaders bound to a session's connection while it stays selectable (spec §10.4). */
  async sendRequestHeadersWithStickySession(
    sessionId: string,
    agentId: string,
    correlationId: string,
    event: RequestHeadersEvent,
    options: SendOptions = {},
  ): Promise<{ response: AgentResponse; usedSticky: boolean }> {
    if (this.closed) throw abortError('proxy_shutdown', agentId, correlationId);
    const promise = this.router.send(agentId, 'request_headers', event, correlationId, options, sessionId);
    const response = await promise;
    return { response, usedSticky: promise.call?.usedSticky ?? false };
  }

  /** The request is over: forget its affinity on every agent. */
  endRequest(correlationId: string): void {
    for (const agent of this.router.agents.values()) agent.affinity.delete(correlationId);
  }

  /** Rejects the cid's pending calls with ABORT_ERR and sends Cancel where an event is outstanding. */
  cancelRequest(agentId: string, correlationId: string, reason: CancelReason = 'manual'): boolean {
    if (!this.router.agents.has(agentId)) throw zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId });
    return this.router.cancel(agentId, correlationId, reason);
  }

  // --- introspection ----------------------------------------------------------------------------

  stats(): PoolStats {
    return { workers: this.workers, agents: this.router.agents.size, inFlight: this.router.inFlight, lateResults: this.router.lateResults };
  }

  agentStats(agentId: string): AgentStats {
    const agent = this.agent(agentId);
    const connections = [...agent.connections.values()];
    return {
      agentId,
      endpoint: agent.endpoint.transport === 'uds' ? `unix:${agent.endpoint.path}` : agent.endpoint.address,
      activeConnections: connections.filter((c) => c.state === 'ready' || c.state === 'paused' || c.state === 'draining').length,
      healthyConnections: agent.candidates.length,
      totalInFlight: agent.inFlight(),
      queued: agent.queued,
      totalRequests: agent.totalRequests,
      totalErrors: agent.totalErrors,
      errorRate: agent.totalRequests === 0 ? 0 : agent.totalErrors / agent.totalRequests,
      isHealthy: agent.candidates.length > 0,
      correlationAffinities: agent.affinity.size,
      connections: connections.map((c) => ({
        id: c.id,
        state: c.state,
        inFlight: c.inFlight,
        dispatched: c.dispatched,
        encoding: c.encoding,
        lastError: c.lastError,
        worker: c.hostIndex,
      })),
    };
  }

  agentCapabilities(agentId: string): Capabilities | undefined {
    return this.agent(agentId).candidates[0]?.capabilities;
  }

  isAgentHealthy(agentId: string): boolean {
    return this.agent(agentId).candidates.length > 0;
  }

  // --- shutdown ---------------------------------------------------------------------------------

  /** Graceful shutdown: no new calls; wait up to drainTimeoutMs; cancel the rest with ProxyShutdown. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.router.agents.values()].map((a) => this.drainAndClose(a, a.options.drainTimeoutMs)));
    await this.stopHosts();
  }

  /** Immediate shutdown: every call rejects with ABORT_ERR now. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.router.agents.values()].map((a) => this.drainAndClose(a, 0)));
    await this.stopHosts();
  }

  /** Test and fault-injection hook: kills a connection-host worker as a crash would. */
  async killWorker(index: number): Promise<void> {
    const host = this.hosts[index];
    if (!(host instanceof WorkerHost)) throw zapError(ErrorCode.InvalidConfig, `No worker ${index}`);
    await host.kill();
  }

  // --- internals --------------------------------------------------------------------------------

  private agent(agentId: string): AgentEntry {
    const agent = this.router.agents.get(agentId);
    if (agent === undefined) throw zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId });
    return agent;
  }

  private assertOpen(): void {
    if (this.closed) throw zapError(ErrorCode.Abort, 'AgentPool is closed');
  }

  private openConnection(agent: AgentEntry, existing?: ConnectionRecord): void {
    const hostIndex = existing?.hostIndex ?? this.nextHost++ % this.hosts.length;
    const host = this.hosts[hostIndex] as HostHandle;
    const record = existing ?? new ConnectionRecord(this.nextConnectionId++, agent, host, hostIndex);
    record.host = host;
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
    };
    host.command(command);
  }

  private startWorker(index: number): WorkerHost {
    return new WorkerHost(index, {
      results: (items) => {
        for (const item of items) this.router.onResult(item);
      },
      report: (report) => this.router.onReport(report),
      lost: (error) => this.onWorkerLost(index, error),
    });
  }

  /** A worker died: fail its calls (ZAP_WORKER_LOST), start a replacement, re-open its connections. */
  private onWorkerLost(index: number, error: Error): void {
    if (this.closed) return;
    const lost = this.router.failHost(index, error.message);
    const replacement = this.startWorker(index);
    this.hosts[index] = replacement;
    for (const record of lost) {
      if (this.router.agents.get(record.agent.id) === record.agent && !record.agent.closing) this.openConnection(record.agent, record);
    }
    this.emit('worker-lost', index, error);
  }

  private async drainAndClose(agent: AgentEntry, drainTimeoutMs: number): Promise<void> {
    agent.closing = true;
    const deadline = Date.now() + drainTimeoutMs;
    while (agent.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const call of this.router.callsOf(agent)) {
      this.router.abortCall(call, 'proxy_shutdown', abortError('proxy_shutdown', agent.id, call.correlationId));
    }
    for (const c of [...agent.connections.values()]) {
      c.host.command({ type: 'close', connectionId: c.id });
      this.router.forgetConnection(c);
    }
    this.router.agents.delete(agent.id);
  }

  private async stopHosts(): Promise<void> {
    clearInterval(this.maintenance);
    await Promise.all(this.hosts.map((h) => h.terminate()));
  }

  private maintain(): void {
    const now = Date.now();
    for (const agent of this.router.agents.values()) {
      agent.affinity.sweep(now);
      agent.sticky.sweep(now);
    }
  }
}
