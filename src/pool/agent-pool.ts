// Over 400 lines on purpose: the whole public API, one thin method per operation, each delegating to a unit.
// AgentPool: the public, promise-based proxy-side API (spec §10.1). It owns the router (main
// thread) and delegates, as undici's Agent does to its pools: the connection hosts (host-set.ts),
// config pushes and config-update answers (config-pusher.ts), reverse listeners and their entries
// (reverse-listeners.ts, reverse-entries.ts). What remains here is the API and the coordination
// between them: adding, draining and removing agents, worker loss, shutdown.
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'node:events';
import { abortError } from '../contract/abort-error.js';
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
import { AgentEntry } from './agent-entry.js';
import type { HostReport } from '../contract/host-messages.js';
import {
  DEFAULT_AGENT_OPTIONS,
  resolveAgentOptions,
  resolveWorkers,
  type AgentConnectionOptions,
  type AgentPoolConfig,
} from './pool-config.js';
import { Router, type CallHandle, type SendOptions } from './router.js';
import { routerEventsFor } from './router-metrics.js';
import { notReadyError, requiredReady, type AddAgentOptions, type AddAgentResult } from './add-agent-result.js';
import { PoolMetrics } from '../metrics/pool-metrics.js';
import type { Registry } from 'prom-client';
import type { PushStatus } from './config-push.js';
import type { AgentPoolEvents } from './agent-pool-events.js';
import { registerWorkerKiller } from './fault-hooks.js';
import type { CircuitStateCode } from './circuit-breaker.js';
import { declarationOf, ReverseEntries } from './reverse-entries.js';
import type { ReverseListenOptions } from './reverse-settings.js';
import { HostSet } from './host-set.js';
import { ConfigPusher } from './config-pusher.js';
import { ReverseListeners, type ReverseListenerHandle } from './reverse-listeners.js';
import { agentStatsOf, gaugeSnapshot, type AgentStats, type PoolStats } from './agent-stats.js';

/** send()'s options when the caller gives none: shared and frozen, no object per call. */
const NO_OPTIONS: SendOptions = Object.freeze({});

export type { SendOptions } from './router.js';
export type { AuthToken, ReverseListenOptions } from './reverse-settings.js';
export type { ReverseListenerHandle } from './reverse-listeners.js';
export type { AgentStats, PoolStats } from './agent-stats.js';
export type { AgentPoolEvents } from './agent-pool-events.js';

export class AgentPool extends EventEmitter<AgentPoolEvents> {
  readonly workers: number;
  private readonly base: AgentConnectionOptions;
  private readonly router: Router;
  private readonly hosts: HostSet;
  private readonly pushes: ConfigPusher;
  private readonly reverseEntries: ReverseEntries;
  private readonly reverse: ReverseListeners;
  private closed = false;
  private readonly maintenance: NodeJS.Timeout;
  private readonly metricsSink: PoolMetrics;
  private readonly circuitListener = (agentId: string, state: number) => this.emit('circuit-state', agentId, state as CircuitStateCode);

  constructor(config: AgentPoolConfig = {}) {
    super();
    this.workers = resolveWorkers(config);
    const { onConfigUpdate: _callback, pushTimings, metrics: _metrics, ...options } = config;
    this.base = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, options, 'AgentPool');
    this.metricsSink = new PoolMetrics(config.metrics ?? {});
    this.metricsSink.setGaugeSource(() =>
      gaugeSnapshot(this.router.agentEntries(), this.router.inFlight, this.hosts.bufferUtilizationPercent),
    );
    this.router = new Router(
      routerEventsFor(this.metricsSink, {
        report: (agent, _connection, report) => {
          if (report.type === 'config-update') void this.pushes.answer(agent.id, report.request);
          else if (report.type === 'metrics') this.metricsSink.agentReported(agent.id, report.metrics, Date.now());
          this.emit('report', agent.id, report);
        },
        ready: (agent, connection) => this.pushes.connectionReady(agent, connection),
      }),
    );
    this.hosts = new HostSet(this.workers, this.router, {
      report: (hostIndex, report) => this.onHostReport(hostIndex, report),
      lost: (index, error) => this.onWorkerLost(index, error),
    });
    registerWorkerKiller(this, (index) => this.hosts.kill(index));
    this.pushes = new ConfigPusher(this.router, this.hosts, pushTimings, config.onConfigUpdate, (agentId, request, response) =>
      this.emit('config-update', agentId, request, response),
    );
    this.reverseEntries = new ReverseEntries(this.router, this.hosts.handles, this.base, this.circuitListener);
    this.reverse = new ReverseListeners(this.hosts, this.reverseEntries, this.base, {
      registered: (report) => this.emit('reverse-registered', report.agentId, report.connectionId, report.metadata),
      refused: (agentId, error) => this.emit('reverse-refused', agentId, error),
    });
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
      throw zapError(
        ErrorCode.InvalidConfig,
        `agent '${agentId}': option 'requireReady' does not apply to a reverse agent (it dials in later)`,
      );
    }
    const existing = this.router.findAgent(agentId);
    if (existing !== undefined) {
      // A reverse agent may register before it is configured here: adopt it with these options.
      if (!(existing.implicit && parsed.transport === 'reverse')) {
        throw zapError(ErrorCode.InvalidConfig, `Agent '${agentId}' is already registered`, { agentId });
      }
      existing.adopt(resolved);
      this.reverseEntries.declare(agentId, 'reverse');
      this.hosts.broadcast({ type: 'agent-config', agentId, config: resolved.config ?? null });
      return { ready: existing.candidates.length, errors: [] };
    }
    const agent = new AgentEntry(agentId, parsed, resolved, this.circuitListener);
    this.router.addAgent(agent);
    this.reverseEntries.declare(agentId, declarationOf(agent) ?? null);
    if (parsed.transport === 'reverse') {
      // The agent dials us: nothing to open; its config waits on every host for its registration.
      this.hosts.broadcast({ type: 'agent-config', agentId, config: resolved.config ?? null });
      return { ready: agent.candidates.length, errors: [] };
    }
    for (let i = 0; i < resolved.connectionsPerAgent; i++) this.hosts.open(agent);
    const ready = await agent.whenInitialSettled();
    const errors = [...agent.connections.values()].flatMap((c) => (c.lastFailure === undefined ? [] : [c.lastFailure]));
    const result = { ready, errors };
    if (ready < required) {
      if (this.router.findAgent(agentId) === agent) await this.removeAgent(agentId);
      throw notReadyError(agentId, result, required, resolved.connectionsPerAgent);
    }
    return result;
  }

  /** Stops new calls to the agent, drains (up to drainTimeoutMs), cancels the rest, closes its connections. */
  async removeAgent(agentId: string): Promise<void> {
    const agent = this.agent(agentId);
    this.pushes.agentRemoved(agentId);
    await this.drainAndClose(agent, agent.options.drainTimeoutMs);
  }

  agentIds(): string[] {
    return [...this.router.agentEntries()].map((a) => a.id);
  }

  // --- events -----------------------------------------------------------------------------------

  sendRequestHeaders(agentId: string, correlationId: string, event: RequestHeadersEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'request_headers', correlationId, event, options);
  }
  sendRequestBodyChunk(
    agentId: string,
    correlationId: string,
    event: RequestBodyChunkEvent,
    options?: SendOptions,
  ): Promise<AgentResponse> {
    return this.send(agentId, 'request_body_chunk', correlationId, event, options);
  }
  sendResponseHeaders(agentId: string, correlationId: string, event: ResponseHeadersEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'response_headers', correlationId, event, options);
  }
  sendResponseBodyChunk(
    agentId: string,
    correlationId: string,
    event: ResponseBodyChunkEvent,
    options?: SendOptions,
  ): Promise<AgentResponse> {
    return this.send(agentId, 'response_body_chunk', correlationId, event, options);
  }
  sendRequestComplete(agentId: string, correlationId: string, event: RequestCompleteEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'request_complete', correlationId, event, options);
  }
  sendWebSocketFrame(agentId: string, correlationId: string, event: WebSocketFrameEvent, options?: SendOptions): Promise<AgentResponse> {
    return this.send(agentId, 'websocket_frame', correlationId, event, options);
  }
  sendGuardrailInspect(
    agentId: string,
    correlationId: string,
    event: GuardrailInspectEvent,
    options?: SendOptions,
  ): Promise<AgentResponse> {
    return this.send(agentId, 'guardrail_inspect', correlationId, event, options);
  }

  /** Any event kind by name. */
  send<K extends EventKind>(
    agentId: string,
    kind: K,
    correlationId: string,
    event: EventMap[K],
    options: SendOptions = NO_OPTIONS,
  ): Promise<AgentResponse> {
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
    const response = await this.router.send(agentId, 'request_headers', event, correlationId, options, {
      stickySession: sessionId,
      handle,
    });
    return { response, usedSticky: handle.call?.usedSticky ?? false };
  }

  /** The request is over: forget its affinity on every agent. */
  endRequest(correlationId: string): void {
    for (const agent of this.router.agentEntries()) agent.endRequest(correlationId);
  }

  /** Rejects the cid's pending calls with ABORT_ERR and sends Cancel where an event is outstanding. */
  cancelRequest(agentId: string, correlationId: string, reason: CancelReason = 'manual'): boolean {
    this.agent(agentId);
    return this.router.cancel(agentId, correlationId, reason);
  }

  // --- introspection ----------------------------------------------------------------------------

  stats(): PoolStats {
    return { workers: this.workers, agents: this.router.agentCount, inFlight: this.router.inFlight, lateResults: this.router.lateResults };
  }

  agentStats(agentId: string): AgentStats {
    return agentStatsOf(this.agent(agentId));
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
    const agents = agentId === '*' ? [...this.router.agentEntries()] : [this.agent(agentId)];
    return agents.map((agent) => this.pushes.push(agent, config, version));
  }

  pushStatus(pushId: string): PushStatus | undefined {
    return this.pushes.status(pushId);
  }

  /** Stops new requests to the agent (they fail as unavailable), waits for in-flight calls, then
   *  closes its connections; the agent stays registered with no connections. */
  async drainAgent(agentId: string): Promise<void> {
    const agent = this.agent(agentId);
    agent.beginDraining();
    for (const c of agent.connections.values()) c.host.command({ type: 'drain', connectionId: c.id });
    if (agent.liveCalls > 0) await agent.whenIdle(agent.options.drainTimeoutMs);
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
    return this.reverse.listen(options);
  }

  /** Closes every reverse listener (connections already admitted stay). */
  async stopReverseListeners(): Promise<void> {
    await this.reverse.stopAll();
  }

  private onHostReport(hostIndex: number, report: HostReport): void {
    if (report.type === 'buffer') return this.hosts.recordBuffer(hostIndex, report.percent);
    if (this.reverse.onReport(hostIndex, report)) return;
    this.router.onReport(report);
    if (report.type === 'state') this.reverseEntries.stateReported(report);
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

  // --- shutdown ---------------------------------------------------------------------------------

  /** Graceful shutdown: no new calls; wait up to drainTimeoutMs; cancel the rest with ProxyShutdown. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.router.agentEntries()].map((a) => this.drainAndClose(a, a.options.drainTimeoutMs)));
    await this.stopHosts();
  }

  /** Immediate shutdown: every call rejects with ABORT_ERR now. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.router.agentEntries()].map((a) => this.drainAndClose(a, 0)));
    await this.stopHosts();
  }

  // --- internals --------------------------------------------------------------------------------

  private agent(agentId: string): AgentEntry {
    const agent = this.router.findAgent(agentId);
    if (agent === undefined) throw zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId });
    return agent;
  }

  private assertOpen(): void {
    if (this.closed) throw zapError(ErrorCode.Abort, 'AgentPool is closed');
  }

  /** A worker died: fail its calls (ZAP_WORKER_LOST), start a successor, hand it what the dead one had. */
  private onWorkerLost(index: number, error: Error): void {
    if (this.closed) return;
    const lost = this.router.failHost(index, error.message);
    const successor = this.hosts.replace(index);
    for (const record of lost) {
      if (record.agent.endpoint.transport === 'reverse' || record.id < 0) {
        this.router.forgetConnection(record); // the agent redials; its socket died with the thread
        this.reverseEntries.connectionGone(record.id);
        continue;
      }
      if (this.router.findAgent(record.agent.id) === record.agent && !record.agent.closing) this.hosts.open(record.agent, record);
    }
    this.reverse.relisten(index, successor);
    for (const agent of this.router.agentEntries()) {
      successor.command({ type: 'agent-config', agentId: agent.id, config: agent.options.config ?? null });
    }
    this.reverseEntries.redeclareAll(successor);
    this.emit('worker-lost', index, error);
  }

  /** Waits (up to `drainTimeoutMs`, woken by the agent's last call) and cancels the rest; no polling. */
  private async drainAndClose(agent: AgentEntry, drainTimeoutMs: number): Promise<void> {
    agent.beginClosing();
    // No await when idle already or with no drain (destroy): the calls are cancelled synchronously.
    if (agent.liveCalls > 0 && drainTimeoutMs > 0) await agent.whenIdle(drainTimeoutMs);
    for (const call of this.router.callsOf(agent)) {
      this.router.abortCall(call, 'proxy_shutdown', abortError('proxy_shutdown', agent.id, call.correlationId));
    }
    for (const c of [...agent.connections.values()]) {
      c.host.command({ type: 'close', connectionId: c.id });
      this.router.forgetConnection(c);
    }
    if (this.router.removeAgent(agent)) this.reverseEntries.declare(agent.id, null);
  }

  private async stopHosts(): Promise<void> {
    clearInterval(this.maintenance);
    this.router.dispose();
    await this.reverse.stopAll();
    await this.hosts.terminate();
  }

  private maintain(): void {
    const now = Date.now();
    // Affinities and sticky sessions keep monotonic time (performance.now()): a wall-clock step
    // neither expires them early nor keeps them past their TTL.
    const monotonicNow = performance.now();
    for (const agent of this.router.agentEntries()) {
      const evicted = agent.sweep(monotonicNow);
      if (evicted > 0) this.metricsSink.affinityEvictions(evicted);
      const rejected = agent.takeAffinityRejections();
      if (rejected > 0) this.metricsSink.affinityRejections(rejected);
    }
    this.metricsSink.sweep(now);
    this.router.expireHealth(now);
    this.pushes.purge(now);
  }
}
