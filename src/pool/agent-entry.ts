// Router-side state of one agent: its connections (as the router knows them from host reports),
// the immutable candidate snapshot the pickers choose from, per-cid affinity and serialisation,
// sticky sessions, and the FIFO of calls waiting for a slot. The pool changes an entry only through its
// methods; the router, which owns the call path, updates its counters and queues directly.
import type { ConnectionStateName } from '../contract/connection-state.js';
import type { AgentPoolError } from '../protocol/errors.js';
import type { AgentResponse, Capabilities, CancelReason, EventKind } from '../protocol/types.js';
import type { Endpoint } from '../transport/endpoint.js';
import { CorrelationTable, type CorrelationEntry } from './correlation-table.js';
import { createPicker } from './create-picker.js';
import type { HostHandle } from '../contract/host-messages.js';
import type { EventEncoder } from '../transport/event-encoder.js';
import { eventEncoderFor } from '../transport/event-encoder-for.js';
import type { ConnectionView, Picker } from './picker.js';
import type { AgentConnectionOptions } from './pool-config.js';
import { StickySessions } from './sticky-sessions.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { AgentFlowState } from './flow-control-state.js';
import { HealthReportState } from './health-report-state.js';
import { IdleSignal } from '../connection/idle-signal.js';

const EWMA_ALPHA = 0.1;

/** Lets an entry's own methods set the fields it exposes read-only. */
type Writable<T> = { -readonly [K in keyof T]: T[K] };

export class ConnectionRecord implements ConnectionView {
  state: ConnectionStateName = 'connecting';
  /** 'json' / 'msgpack' (framed transports) or a transport's own, e.g. 'protobuf'. */
  encoding = 'json';
  /** Set again when the connection is ready, by its encoding and its host (router.ts onState). */
  encoder: EventEncoder = eventEncoderFor('json') as EventEncoder;
  capabilities: Capabilities | undefined;
  inFlight = 0;
  /** Events dispatched on this connection since it was created. */
  dispatched = 0;
  errorEwma = 0;
  latencyEwmaMs: number | null = null;
  lastError: string | null = null;
  /** The typed error behind `lastError` while the connection is not ready (addAgent reports it). */
  lastFailure: AgentPoolError | undefined;
  /** The first connect attempt has ended (ready or failed): counts towards addAgent's result. */
  initialSettled = false;

  constructor(
    readonly id: number,
    readonly agent: AgentEntry,
    public host: HostHandle,
    readonly hostIndex: number,
  ) {}

  /** Its worker was replaced: the connection is re-opened on the successor, same index. */
  rehost(host: HostHandle): void {
    this.host = host;
  }

  /** Agent-reported health and the consecutive-failure rule; fresh for every new transport. */
  health = new HealthReportState();

  /** Live and taking new requests: ready (or flow-paused, decided per kind) and not draining/unhealthy. */
  get selectable(): boolean {
    return (this.state === 'ready' || this.state === 'paused') && this.health.selectable;
  }

  /** Events of requests already bound here (affinity) may still use it (spec §10.4, §10.6). */
  get acceptsBound(): boolean {
    return (this.state === 'ready' || this.state === 'paused' || this.state === 'draining') && this.health.acceptsBound;
  }

  recordOutcome(failed: boolean, latencyMs: number): void {
    this.errorEwma += EWMA_ALPHA * ((failed ? 1 : 0) - this.errorEwma);
    if (!failed)
      this.latencyEwmaMs = this.latencyEwmaMs === null ? latencyMs : this.latencyEwmaMs + EWMA_ALPHA * (latencyMs - this.latencyEwmaMs);
  }
}

/** Candidates on this thread and on workers (light-load placement, inlineBelowInFlight). */
export interface ThreadSplit {
  readonly inline: ConnectionRecord;
  readonly offloaded: readonly ConnectionRecord[];
}

/** The first of `candidates` on this thread and those on workers; undefined unless there are both. */
export function splitByThread(candidates: readonly ConnectionRecord[]): ThreadSplit | undefined {
  const inline = candidates.find((c) => !c.host.onOtherThread);
  if (inline === undefined) return undefined;
  const offloaded = candidates.filter((c) => c.host.onOtherThread);
  return offloaded.length === 0 ? undefined : { inline, offloaded: Object.freeze(offloaded) };
}

export class AgentEntry {
  readonly connections = new Map<number, ConnectionRecord>();
  /** Selectable connections in creation order; replaced (never mutated) on every state change. */
  candidates: readonly ConnectionRecord[] = [];
  /**
   * When the candidates span this thread and workers: the one on this thread (light load) and the
   * rest (under load). Undefined otherwise; rebuilt with the candidates.
   */
  byThread: ThreadSplit | undefined;
  picker!: Picker;
  /** Per cid: the connection bound by its headers (§10.4) and whose turn it is (§10.2). */
  readonly correlations = new CorrelationTable<PoolCall>(0, 0);
  sticky!: StickySessions;
  /** Calls waiting for a connection slot, FIFO (settled ones are skipped lazily). */
  readonly queue: PoolCall[] = [];
  queueHead = 0;
  /** Live calls of this agent (the router's call map holds them; drain and light load read the count). */
  liveCalls = 0;
  /** Notified by the router when its last live call settles (drain waits on it). */
  readonly idle = new IdleSignal();
  totalRequests = 0;
  totalErrors = 0;
  /** Unavailable-agent outcomes turned into a synthetic Allow (failureMode 'open'). */
  failOpenAllows = 0;
  /** Calls rejected (or allowed synthetically) because of agent flow control. */
  flowRejections = 0;
  /** Affinity rejections already counted in the metrics. */
  private reportedAffinityRejections = 0;
  /** Replies dropped because their call had already ended (late after timeout/abort). */
  lateReplies = 0;
  /**
   * The latest connection error of any of its connections, cleared when one becomes ready: what
   * ZAP_NO_HEALTHY_CONNECTION names as its cause. Set on state reports only, never per call.
   */
  lastConnectionError: string | null = null;
  /** removeAgent / close: no new calls; set by beginClosing() only. */
  readonly closing: boolean = false;
  /** drainAgent(): no new requests, connections close once idle; set by beginDraining() only. */
  readonly draining: boolean = false;
  breaker!: CircuitBreaker;
  readonly flow = new AgentFlowState();
  /** wait-and-retry: calls held back by flow control, oldest first, and their shared re-check timer. */
  readonly flowWaiting: PoolCall[] = [];
  flowTimer: NodeJS.Timeout | undefined;
  /** Created by a reverse registration before addAgent named it: addAgent may still configure it (adopt()). */
  readonly implicit: boolean = false;
  private readonly initialWaiters: Array<(ready: number) => void> = [];

  constructor(
    readonly id: string,
    readonly endpoint: Endpoint,
    public options: AgentConnectionOptions,
    private readonly onCircuitState?: (agentId: string, state: number) => void,
  ) {
    this.configure(options);
  }

  /** An entry a reverse registration creates for an undeclared id (pool defaults), until addAgent adopts it. */
  static implicitReverse(
    agentId: string,
    options: AgentConnectionOptions,
    onCircuitState?: (agentId: string, state: number) => void,
  ): AgentEntry {
    const entry = new AgentEntry(agentId, { transport: 'reverse', agentId }, options, onCircuitState);
    (entry as Writable<AgentEntry>).implicit = true;
    return entry;
  }

  /** addAgent names an implicit reverse entry: it becomes declared, with these options. */
  adopt(options: AgentConnectionOptions): void {
    (this as Writable<AgentEntry>).implicit = false;
    this.configure(options);
  }

  beginClosing(): void {
    (this as Writable<AgentEntry>).closing = true;
  }

  beginDraining(): void {
    (this as Writable<AgentEntry>).draining = true;
  }

  /** A config push: new connections get it in their handshake and initial Configure. */
  setConfig(config: unknown): void {
    this.options.config = config;
  }

  /** The request is over: its affinity and flow-control state go. */
  endRequest(correlationId: string): void {
    this.correlations.delete(correlationId);
    this.flow.endRequest(correlationId);
  }

  /** Maintenance: lapsed affinities and sticky sessions go; returns the affinities evicted. */
  sweep(now: number): number {
    const evicted = this.correlations.sweep(now);
    this.sticky.sweep(now);
    return evicted;
  }

  /** Affinity rejections since the last call (each is counted in the metrics once). */
  takeAffinityRejections(): number {
    const rejected = this.correlations.rejections - this.reportedAffinityRejections;
    if (rejected > 0) this.reportedAffinityRejections = this.correlations.rejections;
    return rejected;
  }

  /**
   * Resolves once no call of this agent is live, or when `timeoutMs` has passed (the drain bound).
   * The router notifies `idle` when it settles the last call: no polling.
   */
  async whenIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.liveCalls > 0 && Date.now() < deadline) await this.idle.whenIdle(deadline - Date.now());
  }

  /** (Re)applies options: used at creation, and by adopt(). */
  private configure(options: AgentConnectionOptions): void {
    this.options = options;
    this.picker = createPicker(options.loadBalanceStrategy);
    // Limits only: the entries of live calls stay (an implicit reverse entry may be adopted mid-call).
    this.correlations.setLimits(options.correlationAffinityTtlMs, options.maxCorrelationAffinities);
    this.sticky = new StickySessions(options.stickySessionTimeoutMs);
    const listener = this.onCircuitState;
    this.breaker = new CircuitBreaker(
      options.circuitBreaker,
      listener === undefined ? {} : { onStateChange: (state) => listener(this.id, state) },
    );
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  rebuildCandidates(): void {
    const list: ConnectionRecord[] = [];
    for (const c of this.connections.values()) if (c.selectable) list.push(c);
    list.sort((a, b) => a.id - b.id);
    this.candidates = Object.freeze(list);
    this.byThread = splitByThread(list);
  }

  /** Resolves once every connection's first attempt has ended, with the number that are ready. */
  whenInitialSettled(): Promise<number> {
    return new Promise((resolve) => {
      this.initialWaiters.push(resolve);
      this.checkInitialSettled();
    });
  }

  checkInitialSettled(): void {
    for (const c of this.connections.values()) if (!c.initialSettled) return;
    const ready = this.candidates.length;
    for (const w of this.initialWaiters.splice(0)) w(ready);
  }

  inFlight(): number {
    let n = 0;
    for (const c of this.connections.values()) n += c.inFlight;
    return n;
  }

  /** The oldest call still waiting for a slot (settled ones are dropped on the way). */
  peekQueue(): PoolCall | undefined {
    while (this.queueHead < this.queue.length) {
      const call = this.queue[this.queueHead] as PoolCall;
      if (call.state === 'queued') return call;
      this.popQueue();
    }
    return undefined;
  }

  popQueue(): void {
    this.queueHead++;
    this.compactQueue();
  }

  /** Drops the consumed head of the queue array once it is large, keeping memory bounded. */
  compactQueue(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }
}

// One call through the pool, from admission to settlement (spec §10.3). It lives beside AgentEntry
// because the two refer to each other: a call names its agent, an agent queues its calls.
export type PoolCallState = 'waiting-cid' | 'queued' | 'flow-wait' | 'dispatched' | 'done';

export interface PoolCall {
  readonly id: number;
  readonly agent: AgentEntry;
  readonly kind: EventKind;
  /** The caller's event until it is encoded; undefined after dispatch, so a call in flight does not keep it. */
  event: unknown;
  readonly correlationId: string;
  /** The id its reply carries: the correlation id, or on gRPC a Configure's config_version (§10.7); set at dispatch. */
  replyId: string;
  readonly startedAt: number;
  /** performance.now() when handed to the host (write → reply duration); NaN until then (always a number: one field representation). */
  dispatchedAt: number;
  state: PoolCallState;
  connection: ConnectionRecord | undefined;
  /** Sticky session to bind when this call picks a connection. */
  stickySession: string | undefined;
  usedSticky: boolean;
  resolve: (response: AgentResponse) => void;
  reject: (error: unknown) => void;
  /** performance.now() at which the call times out (the router's deadline queue). */
  deadline: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  cancelReason: CancelReason | undefined;
  /** The call's own timeout before any degraded multiplier (spec §10.11). */
  timeoutMs: number;
  /** Breaker generation the call was admitted in (spec §10.10). */
  generation: number;
  /** This connection only (config pushes), bypassing selection and per-cid ordering. */
  forced: ConnectionRecord | undefined;
  /** wait-and-retry flow control: when the call was first held back. */
  flowSince: number | undefined;
  /** Its cid's entry on the agent (affinity and turn), from admission to settlement; undefined for forced calls. */
  correlation: CorrelationEntry<PoolCall> | undefined;
}
