// AgentPool: the public, promise-based proxy-side API (spec §10.1). It owns the router (main
// thread) and the connection hosts (worker threads, or one host on this thread with workers: 0).
import { EventEmitter } from 'node:events';
import { ConnectionHost } from '../connection/connection-host.js';
import { abortError } from '../contract/abort-error.js';
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
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
import { formatEndpoint, parseEndpoint } from '../transport/endpoint.js';
import { AgentEntry, ConnectionRecord } from './agent-entry.js';
import type { HostHandle, HostReport, OpenConnectionCommand, ReverseListenerSettings } from '../contract/host-messages.js';
import {
  DEFAULT_AGENT_OPTIONS,
  grpcChannelSettings,
  resolveAgentOptions,
  resolveWorkers,
  type AgentConnectionOptions,
  type AgentPoolConfig,
  type ConfigUpdateCallback,
} from './pool-config.js';
import { Router, type CallHandle, type SendOptions } from './router.js';
import { notReadyError, requiredReady, type AddAgentOptions, type AddAgentResult } from './add-agent-result.js';
import { PoolMetrics, type GaugeSnapshot, type SettledCall } from '../metrics/pool-metrics.js';
import type { Registry } from 'prom-client';
import { ConfigPushRecords, DEFAULT_PUSH_TIMINGS, type PushStatus, type PushTimings } from './config-push.js';
import { defaultConfigUpdateDecision } from '../protocol/config-update.js';
import type { ConfigUpdateRequest, ConfigUpdateResponse } from '../protocol/types.js';
import type { CircuitStateCode } from './circuit-breaker.js';
import { WorkerHost } from './worker-host.js';
import { declarationOf, ReverseEntries } from './reverse-entries.js';
import { resolveReverseSettings, type ReverseListenOptions } from './reverse-settings.js';

export type { SendOptions } from './router.js';
export type { AuthToken, ReverseListenOptions } from './reverse-settings.js';

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
  circuitState: CircuitStateCode;
  failOpenAllows: number;
  flowRejections: number;
  lateReplies: number;
  connections: Array<{ id: number; state: string; inFlight: number; dispatched: number; encoding: string; lastError: string | null; worker: number; health: string }>;
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
  /** An agent asked for a config change; `response` is what the callback (or the §7.6 default) decided. */
  'config-update': [agentId: string, request: ConfigUpdateRequest, response: ConfigUpdateResponse];
  /** The agent's circuit breaker changed state (0 closed, 1 open, 2 half-open). */
  'circuit-state': [agentId: string, state: CircuitStateCode];
  /** A reverse connection was admitted (spec §9.5). */
  'reverse-registered': [agentId: string, connectionId: number, metadata: unknown];
  /**
   * A reverse registration was refused; `error` is the text sent to the agent (peer parts escaped),
   * `agentId` the id it claimed, escaped and bounded (peerText), or null. Sockets closed over the
   * pending bound come as one report a second at most, with agentId null.
   */
  'reverse-refused': [agentId: string | null, error: string];
}

export interface ReverseListenerHandle {
  readonly path?: string;
  /** The bound `host:port` (the real port when 0 was asked for). */
  readonly tcpAddress?: string;
  close(): Promise<void>;
}

export class AgentPool extends EventEmitter<AgentPoolEvents> {
  readonly workers: number;
  private readonly base: AgentConnectionOptions;
  private readonly router: Router;
  private readonly hosts: HostHandle[] = [];
  private nextConnectionId = 1;
  private nextPushId = 1;
  private nextHost = 0;
  private nextListenerId = 1;
  private closed = false;
  /** Reverse listeners by id: which host runs them, their command (re-sent to a replacement worker). */
  private readonly reverseListeners = new Map<number, { hostIndex: number; settings: ReverseListenerSettings; settle?: (r: HostReport) => void }>();
  private readonly maintenance: NodeJS.Timeout;
  private readonly pushes = new ConfigPushRecords();
  private readonly metricsSink: PoolMetrics;
  /** SettledCall with every key always present (a stable shape; undefined = absent). */
  private readonly settledScratch: { [K in keyof SettledCall]-?: SettledCall[K] | undefined } = {
    decision: undefined,
    synthetic: undefined,
    errorCode: undefined,
    callSeconds: 0,
    writeToReplySeconds: undefined,
  };
  /** Latest buffer utilisation (%) reported by each host; the gauge is their max (spec §12.1). */
  private readonly hostBuffers = new Map<number, number>();
  private readonly pushTimings: PushTimings;
  private readonly onConfigUpdate: ConfigUpdateCallback | undefined;
  private readonly circuitListener = (agentId: string, state: number) => this.emit('circuit-state', agentId, state as CircuitStateCode);
  private readonly reverseEntries: ReverseEntries;

  constructor(config: AgentPoolConfig = {}) {
    super();
    this.workers = resolveWorkers(config);
    const { onConfigUpdate: _callback, pushTimings, metrics: _metrics, ...options } = config;
    this.base = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, options, 'AgentPool');
    this.pushTimings = { ...DEFAULT_PUSH_TIMINGS, ...(pushTimings ?? {}) };
    this.onConfigUpdate = config.onConfigUpdate;
    this.metricsSink = new PoolMetrics(config.metrics ?? {});
    this.metricsSink.setGaugeSource(() => this.gauges());
    const m = this.metricsSink;
    this.router = new Router({
      report: (agent, _connection, report) => {
        if (report.type === 'config-update') void this.answerConfigUpdate(agent.id, report.request);
        else if (report.type === 'metrics') m.agentReported(agent.id, report.metrics, Date.now());
        this.emit('report', agent.id, report);
      },
      dispatched: (call, _connection, encodeSeconds) => m.dispatched(call.agent.id, encodeSeconds),
      settled: (call, response, error, latencyMs) => {
        // One reused record: this runs once per request, and settled() reads it synchronously.
        const o = this.settledScratch;
        o.callSeconds = latencyMs / 1000;
        o.decision = response?.decision.type;
        o.synthetic = response?.synthetic === true;
        o.writeToReplySeconds = response !== undefined && call.dispatchedAt !== undefined ? (performance.now() - call.dispatchedAt) / 1000 : undefined;
        o.errorCode = error === undefined ? undefined : error instanceof AgentPoolError ? error.code : ErrorCode.Error;
        m.settled(call.agent.id, o as SettledCall);
      },
      connectionError: (agent, kind) => m.connectionError(agent.id, kind),
      flowPause: (agent) => m.flowPause(agent.id),
      flowRejection: (agent) => m.flowRejection(agent.id),
      ready: (agent, connection) => {
        // The connection's initial Configure carried the current config: a pending push is delivered.
        if (agent.options.config !== undefined && agent.options.config !== null) this.pushes.deliveredByInitial(agent.id, connection.id, Date.now());
      },
    });
    if (this.workers === 0) {
      this.hosts.push(new ConnectionHost({ result: (item) => this.router.onResult(item), report: (r) => this.onHostReport(0, r) }));
    } else {
      for (let i = 0; i < this.workers; i++) this.hosts.push(this.startWorker(i));
    }
    this.reverseEntries = new ReverseEntries(this.router, this.hosts, this.base, this.circuitListener);
    this.maintenance = setInterval(() => this.maintain(), Math.min(this.base.healthCheckIntervalMs, 10_000));
    this.maintenance.unref();
  }

  // --- agents -----------------------------------------------------------------------------------

  /**
   * Opens the agent's connections in parallel; resolves when each first attempt has ended, with the
   * ready count and the typed error of every connection that is not ready. With `requireReady`
   * (see AddAgentOptions) too few ready connections reject instead, and the agent is removed.
   */
  async addAgent(agentId: string, endpoint: string, options: AddAgentOptions = {}): Promise<AddAgentResult> {
    this.assertOpen();
    if (typeof agentId !== 'string' || agentId.length === 0) throw zapError(ErrorCode.InvalidConfig, 'agentId must be a non-empty string');
    const { requireReady, ...agentOptions } = options;
    const resolved = resolveAgentOptions(this.base, agentOptions, `agent '${agentId}'`);
    const required = requiredReady(requireReady, resolved.connectionsPerAgent, `agent '${agentId}'`);
    const parsed = parseEndpoint(endpoint);
    if (required > 0 && parsed.transport === 'reverse') {
      throw zapError(ErrorCode.InvalidConfig, `agent '${agentId}': option 'requireReady' does not apply to a reverse agent (it dials in later)`);
    }
    const existing = this.router.agents.get(agentId);
    if (existing !== undefined) {
      // A reverse agent may register before it is configured here: adopt it with these options.
      if (!(existing.implicit && parsed.transport === 'reverse')) {
        throw zapError(ErrorCode.InvalidConfig, `Agent '${agentId}' is already registered`, { agentId });
      }
      existing.implicit = false;
      existing.configure(resolved);
      this.reverseEntries.declare(agentId, 'reverse');
      for (const host of this.hosts) host.command({ type: 'agent-config', agentId, config: resolved.config ?? null });
      return { ready: existing.candidates.length, errors: [] };
    }
    const agent = new AgentEntry(agentId, parsed, resolved, this.circuitListener);
    this.router.agents.set(agentId, agent);
    this.reverseEntries.declare(agentId, declarationOf(agent) ?? null);
    if (parsed.transport === 'reverse') {
      // The agent dials us: nothing to open; its config waits on every host for its registration.
      for (const host of this.hosts) host.command({ type: 'agent-config', agentId, config: resolved.config ?? null });
      return { ready: agent.candidates.length, errors: [] };
    }
    for (let i = 0; i < resolved.connectionsPerAgent; i++) this.openConnection(agent);
    const ready = await agent.whenInitialSettled();
    const errors = [...agent.connections.values()].flatMap((c) => (c.lastFailure === undefined ? [] : [c.lastFailure]));
    const result = { ready, errors };
    if (ready < required) {
      if (this.router.agents.get(agentId) === agent) await this.removeAgent(agentId);
      throw notReadyError(agentId, result, required, resolved.connectionsPerAgent);
    }
    return result;
  }

  /** Stops new calls to the agent, drains (up to drainTimeoutMs), cancels the rest, closes its connections. */
  async removeAgent(agentId: string): Promise<void> {
    const agent = this.router.agents.get(agentId);
    if (agent === undefined) throw zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId });
    this.pushes.expireAgent(agentId, Date.now(), 'agent removed');
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
    const handle: CallHandle = { call: undefined };
    const response = await this.router.send(agentId, 'request_headers', event, correlationId, options, { stickySession: sessionId, handle });
    return { response, usedSticky: handle.call?.usedSticky ?? false };
  }

  /** The request is over: forget its affinity on every agent. */
  endRequest(correlationId: string): void {
    for (const agent of this.router.agents.values()) {
      agent.affinity.delete(correlationId);
      agent.flow.endRequest(correlationId);
    }
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
      endpoint: formatEndpoint(agent.endpoint),
      activeConnections: connections.filter((c) => c.state === 'ready' || c.state === 'paused' || c.state === 'draining').length,
      healthyConnections: agent.candidates.length,
      totalInFlight: agent.inFlight(),
      queued: agent.queued,
      totalRequests: agent.totalRequests,
      totalErrors: agent.totalErrors,
      errorRate: agent.totalRequests === 0 ? 0 : agent.totalErrors / agent.totalRequests,
      isHealthy: agent.candidates.length > 0,
      correlationAffinities: agent.affinity.size,
      circuitState: agent.breaker.state,
      failOpenAllows: agent.failOpenAllows,
      flowRejections: agent.flowRejections,
      lateReplies: agent.lateReplies,
      connections: connections.map((c) => ({
        id: c.id,
        state: c.state,
        inFlight: c.inFlight,
        dispatched: c.dispatched,
        encoding: c.encoding,
        lastError: c.lastError,
        worker: c.hostIndex,
        health: c.health.condition,
      })),
    };
  }

  agentCapabilities(agentId: string): Capabilities | undefined {
    return this.agent(agentId).candidates[0]?.capabilities;
  }

  isAgentHealthy(agentId: string): boolean {
    return this.agent(agentId).candidates.length > 0;
  }

  // --- control plane ------------------------------------------------------------------------------

  /**
   * Pushes a new configuration (spec §10.7) to one agent, or every agent with '*': stores it as
   * the agent's current config (new connections get it in their handshake and initial Configure)
   * and sends a Configure to every ready connection. Returns the push ids; `pushStatus(id)` tracks them.
   */
  pushConfig(agentId: string, config: unknown, version?: string): string[] {
    const agents = agentId === '*' ? [...this.router.agents.values()] : [this.agent(agentId)];
    return agents.map((agent) => this.pushTo(agent, config, version));
  }

  pushStatus(pushId: string): PushStatus | undefined {
    return this.pushes.get(pushId);
  }

  private pushTo(agent: AgentEntry, config: unknown, version?: string): string {
    agent.options.config = config;
    for (const host of this.hosts) host.command({ type: 'agent-config', agentId: agent.id, config });
    const pushId = this.pushes.nextId();
    const configVersion = version ?? pushId;
    const targets = [...agent.connections.values()].filter((c) => c.acceptsBound && !c.health.isFeatureDisabled('config_push'));
    const now = Date.now();
    this.pushes.create(pushId, agent.id, configVersion, targets.map((c) => c.id), now);
    for (const c of targets) void this.deliverPush(agent, c, pushId, config, configVersion);
    return pushId;
  }

  /** One connection's delivery: ack timeout, then pause and resend, at most `maxResends` times. */
  private async deliverPush(agent: AgentEntry, connection: ConnectionRecord, pushId: string, config: unknown, configVersion: string): Promise<void> {
    const t = this.pushTimings;
    const event = { correlationId: pushId, config, configVersion, isInitial: false };
    // gRPC agents that do not advertise config_push never acknowledge: the Configure is
    // fire-and-forget there, and Sent is its final state (spec §10.7).
    const fireAndForget = connection.encoding === 'protobuf' && connection.capabilities?.features.configPush !== true;
    for (;;) {
      if (!this.pushes.isLive(pushId)) return;
      try {
        const reply = await this.router.send(agent.id, 'configure', event, pushId, { timeoutMs: t.ackTimeoutMs }, { forced: connection });
        if (fireAndForget) {
          this.pushes.targetOutcome(pushId, connection.id, 'sent', null, Date.now());
          return;
        }
        if (reply.synthetic === true) throw zapError(ErrorCode.Error, 'agent unavailable');
        const accepted = reply.decision.type === 'allow';
        const why = accepted ? null : `rejected (${reply.decision.type}${reply.decision.type === 'block' && reply.decision.body !== null ? `: ${reply.decision.body}` : ''})`;
        this.pushes.targetOutcome(pushId, connection.id, accepted ? 'acknowledged' : 'rejected', why, Date.now());
        return;
      } catch (err) {
        const timedOut = err instanceof AgentPoolError && err.code === ErrorCode.Timeout;
        if (!timedOut || !this.pushes.resend(pushId, connection.id, t.maxResends)) {
          const why = err instanceof Error ? err.message : String(err);
          this.pushes.targetOutcome(pushId, connection.id, 'failed', timedOut ? `no acknowledgement after ${t.maxResends} resends` : why, Date.now());
          return;
        }
        await new Promise((r) => setTimeout(r, t.retryDelayMs));
      }
    }
  }

  /** An agent's ConfigUpdateRequest (spec §7.6): the callback decides; the answer is returned and emitted
   *  (no UDS / reverse frame type exists for it, and gRPC's ProcessStream cannot carry it, spec §14.2). */
  private async answerConfigUpdate(agentId: string, request: ConfigUpdateRequest): Promise<ConfigUpdateResponse> {
    let decision: { accepted: boolean; error?: string | null };
    try {
      decision = this.onConfigUpdate === undefined ? defaultConfigUpdateDecision(request) : await this.onConfigUpdate(agentId, request);
    } catch (err) {
      decision = { accepted: false, error: err instanceof Error ? err.message : String(err) };
    }
    const response: ConfigUpdateResponse = {
      requestId: request.requestId,
      accepted: decision.accepted,
      error: decision.error ?? null,
      timestampMs: Date.now(),
    };
    this.emit('config-update', agentId, request, response);
    return response;
  }

  /** Stops new requests to the agent (they fail as unavailable), waits for in-flight calls, then
   *  closes its connections; the agent stays registered with no connections. */
  async drainAgent(agentId: string): Promise<void> {
    const agent = this.agent(agentId);
    agent.draining = true;
    for (const c of agent.connections.values()) c.host.command({ type: 'drain', connectionId: c.id });
    const deadline = Date.now() + agent.options.drainTimeoutMs;
    while (agent.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const c of [...agent.connections.values()]) c.host.command({ type: 'close', connectionId: c.id });
  }

  circuitState(agentId: string): CircuitStateCode {
    return this.agent(agentId).breaker.state;
  }

  resetCircuit(agentId: string): void {
    this.agent(agentId).breaker.reset();
  }

  // --- reverse connections ------------------------------------------------------------------------

  /**
   * Starts a reverse listener (spec §9) on one connection host (the calling thread with workers: 0).
   * Refuses to start without authentication unless `insecureAllowUnauthenticated` (ZAP_INVALID_CONFIG).
   * Admitted connections join the entry declared with `addAgent(id, 'reverse://<id>')`; with
   * `allowUndeclaredAgents`, an undeclared id gets an entry of its own (pool defaults), removed with
   * its last connection. An id declared with a forward endpoint is never joined.
   */
  async listenReverse(options: ReverseListenOptions): Promise<ReverseListenerHandle> {
    this.assertOpen();
    const settings = resolveReverseSettings(options, this.base);
    const listenerId = this.nextListenerId++;
    const hostIndex = this.nextHost++ % this.hosts.length;
    const outcome = new Promise<HostReport>((resolve) => this.reverseListeners.set(listenerId, { hostIndex, settings, settle: resolve }));
    (this.hosts[hostIndex] as HostHandle).command({ type: 'listen-reverse', listenerId, settings });
    const report = await outcome;
    if (report.type === 'reverse-listen-failed') {
      this.reverseListeners.delete(listenerId);
      throw AgentPoolError.fromSerialized(report.error);
    }
    const bound = report as Extract<HostReport, { type: 'reverse-listening' }>;
    return {
      ...(bound.path === undefined ? {} : { path: bound.path }),
      ...(bound.tcpAddress === undefined ? {} : { tcpAddress: bound.tcpAddress }),
      close: () => this.stopListener(listenerId),
    };
  }

  /** Closes every reverse listener (connections already admitted stay). */
  async stopReverseListeners(): Promise<void> {
    await Promise.all([...this.reverseListeners.keys()].map((id) => this.stopListener(id)));
  }

  private async stopListener(listenerId: number): Promise<void> {
    const entry = this.reverseListeners.get(listenerId);
    if (entry === undefined) return;
    const stopped = new Promise<HostReport>((resolve) => (entry.settle = resolve));
    (this.hosts[entry.hostIndex] as HostHandle).command({ type: 'stop-reverse', listenerId });
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.reverseListeners.delete(listenerId);
  }

  private onHostReport(hostIndex: number, report: HostReport): void {
    switch (report.type) {
      case 'buffer':
        this.hostBuffers.set(hostIndex, report.percent);
        return;
      case 'reverse-listening':
      case 'reverse-listen-failed':
      case 'reverse-stopped': {
        const entry = this.reverseListeners.get(report.listenerId);
        const settle = entry?.settle;
        if (entry !== undefined) delete entry.settle;
        settle?.(report);
        return;
      }
      case 'reverse-refused':
        this.emit('reverse-refused', report.agentId, report.error);
        return;
      case 'reverse-registered': {
        const allowUndeclared = this.reverseListeners.get(report.listenerId)?.settings.allowUndeclaredAgents ?? false;
        const record = this.reverseEntries.registered(report, this.hosts[hostIndex] as HostHandle, hostIndex, allowUndeclared);
        if (record !== undefined) this.emit('reverse-registered', report.agentId, report.connectionId, report.metadata);
        return;
      }
      default:
        this.router.onReport(report);
        if (report.type === 'state') this.reverseEntries.stateReported(report);
    }
  }

  // --- metrics ----------------------------------------------------------------------------------

  /** The prom-client registry holding this pool's families (merge it into your own if you like). */
  get registry(): Registry {
    return this.metricsSink.registry;
  }

  /** Prometheus exposition text of this pool's metrics (spec §12). */
  metrics(): Promise<string> {
    return this.metricsSink.metrics();
  }

  get metricsContentType(): string {
    return this.metricsSink.contentType;
  }

  private gauges(): GaugeSnapshot {
    let correlationAffinities = 0;
    let healthyConnections = 0;
    let pausedConnections = 0;
    const agents: GaugeSnapshot['agents'] = [];
    for (const agent of this.router.agents.values()) {
      correlationAffinities += agent.affinity.size;
      healthyConnections += agent.candidates.length;
      let active = 0;
      for (const c of agent.connections.values()) {
        if (c.state === 'ready' || c.state === 'paused' || c.state === 'draining') active++;
        if (agent.flow.isConnectionPaused(c.id)) pausedConnections++;
      }
      agents.push({ agentId: agent.id, connectionsActive: active, circuitState: agent.breaker.state });
    }
    return {
      inFlight: this.router.inFlight,
      correlationAffinities,
      bufferUtilizationPercent: Math.max(0, ...this.hostBuffers.values()),
      healthyConnections,
      pausedConnections,
      agents,
    };
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
      ...(agent.endpoint.transport === 'grpc' ? { grpc: grpcChannelSettings(o) } : {}),
      healthCheckIntervalMs: o.healthCheckIntervalMs,
      pingTimeoutMs: o.pingTimeoutMs,
    };
    host.command(command);
  }

  private startWorker(index: number): WorkerHost {
    return new WorkerHost(index, {
      results: (items) => {
        for (const item of items) this.router.onResult(item);
      },
      report: (report) => this.onHostReport(index, report),
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
      if (record.agent.endpoint.transport === 'reverse' || record.id < 0) {
        this.router.forgetConnection(record); // the agent redials; its socket died with the thread
        this.reverseEntries.connectionGone(record.id);
        continue;
      }
      if (this.router.agents.get(record.agent.id) === record.agent && !record.agent.closing) this.openConnection(record.agent, record);
    }
    for (const [listenerId, l] of this.reverseListeners) {
      if (l.hostIndex === index) replacement.command({ type: 'listen-reverse', listenerId, settings: l.settings });
    }
    for (const agent of this.router.agents.values()) {
      replacement.command({ type: 'agent-config', agentId: agent.id, config: agent.options.config ?? null });
    }
    this.reverseEntries.redeclareAll(replacement);
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
    if (this.router.agents.get(agent.id) === agent) {
      this.router.agents.delete(agent.id);
      this.reverseEntries.declare(agent.id, null);
    }
  }

  private async stopHosts(): Promise<void> {
    clearInterval(this.maintenance);
    this.router.dispose();
    await this.stopReverseListeners();
    await Promise.all(this.hosts.map((h) => h.terminate()));
  }

  private maintain(): void {
    const now = Date.now();
    for (const agent of this.router.agents.values()) {
      const evicted = agent.affinity.sweep(now);
      if (evicted > 0) this.metricsSink.affinityEvictions(evicted);
      const rejected = agent.affinity.rejections - agent.reportedAffinityRejections;
      if (rejected > 0) {
        this.metricsSink.affinityRejections(rejected);
        agent.reportedAffinityRejections = agent.affinity.rejections;
      }
      agent.sticky.sweep(now);
    }
    this.metricsSink.sweep(now);
    this.router.expireHealth(now);
    this.pushes.purge(now, this.pushTimings.purgeAfterMs);
  }
}
