// Over 400 lines on purpose: admit → dispatch → settle share private state on the hot path, and a split would add indirection per call.
// The main-thread router (README → Architecture): admits calls (spec §10.3), picks a connection
// (connection-chooser.ts), encodes once and hands bytes to the host that owns the connection, and
// settles every call exactly once. It never touches a socket; hosts never decide routing.
import { cancelReasonFor } from '../contract/cancel-reason.js';
import { abortError } from '../contract/abort-error.js';
import { AgentPoolError, ErrorCode, zapError, type SerializedAgentPoolError } from '../protocol/errors.js';
import type { AgentResponse, CancelReason, EventKind } from '../protocol/types.js';
import { AgentEntry, ConnectionRecord } from './agent-entry.js';
import { invalidCallArguments, unencodableEvent } from './call-arguments.js';
import { chooseConnection } from './connection-chooser.js';
import { eventEncoderFor } from '../transport/event-encoder-for.js';
import type { EncodedEvent } from '../transport/event-encoder.js';
import { EVENT_MESSAGE_TYPE } from '../protocol/message-type.js';
import { HealthReportState } from './health-report-state.js';
import { DeadlineQueue } from './deadline-queue.js';
import { LiveCalls } from '../contract/live-calls.js';
import { isUnavailable, syntheticAllow } from './failure-mode.js';
import type { ControlReport, ResultItem, StateReport } from '../contract/host-messages.js';
import type { PoolCall } from './agent-entry.js';
import { performance } from 'node:perf_hooks';

/** Options of one call. Anything else than described here rejects with ZAP_INVALID_ARGUMENT, before admission. */
export interface SendOptions {
  /** Aborting it ends the call with ABORT_ERR (and a Cancel where the event is outstanding). */
  signal?: AbortSignal;
  /** The call's timeout: a finite number of milliseconds > 0, capped at `requestTimeoutMs` (spec §10.11). */
  timeoutMs?: number;
  /** Reason of the Cancel sent on abort: one of the six reason names (spec §10.9). */
  cancelReason?: CancelReason;
}

/** How often a wait-and-retry call re-checks flow control (spec §10.5: at least every 10 ms). */
const FLOW_RECHECK_MS = 10;

export interface RouterEvents {
  /** An event was handed to its connection's host; `encodeSeconds` = time spent encoding it. */
  dispatched?: (call: PoolCall, connection: ConnectionRecord, encodeSeconds: number) => void;
  /** Every settled call (metrics): outcome, and the connection when one carried it. */
  settled?: (call: PoolCall, response: AgentResponse | undefined, error: unknown, latencyMs: number) => void;
  /** Control traffic and state changes of a known connection. */
  report?: (agent: AgentEntry, connection: ConnectionRecord, report: StateReport | ControlReport) => void;
  /** A connection became ready (config push bookkeeping). */
  ready?: (agent: AgentEntry, connection: ConnectionRecord) => void;
  /** A connect or handshake attempt failed, or a ready connection died. */
  connectionError?: (agent: AgentEntry, kind: 'connect_failed' | 'handshake_failed' | 'lost') => void;
  /** Flow control: a PAUSE (or capacity 0) arrived / a call was rejected or allowed synthetically. */
  flowPause?: (agent: AgentEntry) => void;
  flowRejection?: (agent: AgentEntry) => void;
}

// One promise executor for every call: it leaves the resolving functions in these two slots, read
// right after `new Promise` returns (the executor runs synchronously), so a call allocates no
// executor closure and no context holding its arguments.
let takenResolve: (response: AgentResponse) => void = () => {};
let takenReject: (error: unknown) => void = () => {};
/** The resolvers of a settled call (settle() runs once per call; see the state guard). */
const SETTLED = (): void => {};
function takeResolvers(resolve: (response: AgentResponse) => void, reject: (error: unknown) => void): void {
  takenResolve = resolve;
  takenReject = reject;
}

/** send()'s `extra` when a caller gives none: shared, so a plain call allocates no options object. */
const NO_EXTRA: { stickySession?: string; forced?: ConnectionRecord; handle?: CallHandle } = Object.freeze({});

/** What send() hands back to callers that need the call itself (sticky sessions). */
export interface CallHandle {
  call: PoolCall | undefined;
}

export class Router {
  private readonly agents = new Map<string, AgentEntry>();
  private readonly calls = new LiveCalls<PoolCall>();
  private readonly connections = new Map<number, ConnectionRecord>();
  private nextCallId = 1;
  lateResults = 0;
  private readonly deadlines = new DeadlineQueue<PoolCall>(
    (call) => this.onTimeout(call),
    (id) => this.calls.get(id),
    () => this.calls.size,
  );

  constructor(private readonly events: RouterEvents = {}) {}

  get inFlight(): number {
    return this.calls.size;
  }

  findAgent(agentId: string): AgentEntry | undefined {
    return this.agents.get(agentId);
  }

  agentEntries(): IterableIterator<AgentEntry> {
    return this.agents.values();
  }

  get agentCount(): number {
    return this.agents.size;
  }

  addAgent(agent: AgentEntry): void {
    this.agents.set(agent.id, agent);
  }

  /** Unregisters `agent` (never a newer entry under its id); true when it was registered. */
  removeAgent(agent: AgentEntry): boolean {
    if (this.agents.get(agent.id) !== agent) return false;
    this.agents.delete(agent.id);
    return true;
  }

  registerConnection(record: ConnectionRecord): void {
    this.connections.set(record.id, record);
    record.agent.connections.set(record.id, record);
  }

  forgetConnection(record: ConnectionRecord): void {
    this.connections.delete(record.id);
    const agent = record.agent;
    agent.connections.delete(record.id);
    agent.correlations.dropConnection(record.id);
    agent.sticky.dropConnection(record.id);
    agent.flow.dropConnection(record.id);
    agent.rebuildCandidates();
  }

  /** The admission pipeline (spec §10.3). `forced` sends on that connection only (config pushes). */
  send(
    agentId: string,
    kind: EventKind,
    event: unknown,
    correlationId: string,
    options: SendOptions,
    extra: { stickySession?: string; forced?: ConnectionRecord; handle?: CallHandle } = NO_EXTRA,
  ): Promise<AgentResponse> {
    const agent = this.agents.get(agentId);
    if (agent === undefined) {
      return Promise.reject(zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId, correlationId }));
    }
    // The caller's bug is the caller's: rejected before admission, it never reaches the breaker,
    // never becomes a fail-open Allow, and sends nothing (spec §10.3, §10.10).
    const invalid = invalidCallArguments(agentId, kind, event, correlationId, options);
    if (invalid !== undefined) return Promise.reject(invalid);
    if (agent.closing) return Promise.reject(abortError('proxy_shutdown', agentId, correlationId));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason, agentId, correlationId));
    agent.totalRequests++;
    if (agent.draining && extra.forced === undefined) {
      return this.unavailable(agent, zapError(ErrorCode.NoHealthyConnection, `Agent '${agentId}' is draining`, { agentId, correlationId }));
    }
    const admission = agent.breaker.admit();
    if (!admission.admitted) {
      return this.unavailable(
        agent,
        zapError(ErrorCode.CircuitOpen, `Circuit breaker open for agent '${agentId}'`, { agentId, correlationId }),
      );
    }

    const promise = new Promise<AgentResponse>(takeResolvers);
    const startedAt = performance.now();
    const timeoutMs = Math.min(options.timeoutMs ?? agent.options.requestTimeoutMs, agent.options.requestTimeoutMs);
    // Fields in the order a reply reads them, so settling touches two or three cache lines of a call
    // that went cold in flight (the worker and the agent ran on this core meanwhile).
    const call: PoolCall = {
      id: this.nextCallId++,
      state: 'waiting-cid',
      agent,
      replyId: correlationId,
      correlationId,
      connection: undefined,
      correlation: undefined,
      generation: admission.generation,
      startedAt,
      dispatchedAt: Number.NaN,
      resolve: takenResolve,
      reject: takenReject,
      onAbort: undefined,
      signal,
      kind,
      event,
      deadline: startedAt + timeoutMs,
      timeoutMs,
      stickySession: extra.stickySession,
      usedSticky: false,
      cancelReason: options.cancelReason,
      forced: extra.forced,
      flowSince: undefined,
    };
    this.deadlines.push(call.id, call.deadline);
    if (extra.handle !== undefined) extra.handle.call = call;
    if (signal !== undefined) {
      call.onAbort = () => this.onAbort(call);
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    this.calls.add(call);
    agent.liveCalls++;

    if (call.forced !== undefined) {
      this.admit(call, startedAt);
      return promise;
    }
    // One outstanding event per (agent, cid): later ones wait their turn (spec §10.2).
    const correlation = agent.correlations.enter(correlationId, call);
    call.correlation = correlation;
    if (correlation.current === call) this.admit(call, startedAt);
    return promise;
  }

  /** Rejects the live calls of `cid` with ABORT_ERR, sending Cancel where an event is outstanding. */
  cancel(agentId: string, correlationId: string, reason: CancelReason): boolean {
    const agent = this.agents.get(agentId);
    if (agent === undefined) return false;
    let any = false;
    for (const call of this.callsOf(agent)) {
      if (call.correlationId !== correlationId) continue;
      any = true;
      this.abortCall(call, reason, abortError(reason, agentId, correlationId));
    }
    agent.correlations.delete(correlationId);
    return any;
  }

  abortCall(call: PoolCall, reason: CancelReason, error: AgentPoolError): void {
    if (call.state === 'done') return;
    this.cancelOnConnection(call, reason);
    this.settle(call, undefined, error);
  }

  /** The id a reply to call `callId` carries (a results batch writes it only as "the call's own"); undefined once the call is gone. */
  replyIdOf(callId: number): string | undefined {
    return this.calls.get(callId)?.replyId;
  }

  /** A host's answer for a call. */
  onResult(item: ResultItem): void {
    const call = this.calls.get(item[0]);
    if (call === undefined) {
      this.lateResults++;
      return;
    }
    if (item[1] !== null) this.settle(call, item[1], undefined);
    else this.settle(call, undefined, AgentPoolError.fromSerialized(withCallIds(item[2], call)));
  }

  /** State and control reports of a known connection. */
  onReport(report: StateReport | ControlReport): void {
    const connection = this.connections.get(report.connectionId);
    if (connection === undefined) return;
    const agent = connection.agent;
    switch (report.type) {
      case 'state':
        this.onState(connection, report);
        break;
      case 'health': {
        const applied = connection.health.apply(report.health, Date.now());
        if (applied.close)
          connection.host.command({ type: 'recycle', connectionId: connection.id, reason: 'agent reported unrecoverable unhealthy' });
        if (applied.changed) {
          agent.rebuildCandidates();
          this.pump(agent);
        }
        break;
      }
      case 'flow-control':
        if (agent.flow.apply(connection.id, report.signal) === 'pause') this.events.flowPause?.(agent);
        this.recheckFlow(agent);
        this.pump(agent);
        break;
      case 'late-reply':
        agent.lateReplies++;
        break;
      case 'pong':
        // §10.10: the agent answers, so an open breaker probes now instead of waiting out open_duration.
        agent.breaker.onAgentReachable();
        // §10.6: a successful ping clears the consecutive-failure mark.
        if (connection.health.recordSuccess()) {
          agent.rebuildCandidates();
          this.pump(agent);
        }
        break;
      default:
        break;
    }
    this.events.report?.(agent, connection, report);
  }

  /** Fails every call dispatched to connections of a dead host (ZAP_WORKER_LOST). */
  failHost(hostIndex: number, why: string): ConnectionRecord[] {
    const lost: ConnectionRecord[] = [];
    for (const c of this.connections.values()) {
      if (c.hostIndex !== hostIndex) continue;
      lost.push(c);
      c.state = 'connecting';
    }
    // Out of the snapshots first: each settle below pumps queued calls, which must not land on a
    // dead connection after this loop has passed them (test/faults-agent.test.ts, regression).
    for (const c of lost) {
      c.agent.correlations.dropConnection(c.id);
      c.agent.flow.dropConnection(c.id);
      c.agent.rebuildCandidates();
    }
    for (const call of this.calls.values()) {
      if (call.state === 'dispatched' && call.connection !== undefined && call.connection.hostIndex === hostIndex) {
        this.settle(
          call,
          undefined,
          zapError(ErrorCode.WorkerLost, `Connection worker died: ${why}`, { agentId: call.agent.id, correlationId: call.correlationId }),
        );
      }
    }
    return lost;
  }

  /** Dispatches queued calls while slots are free. */
  pump(agent: AgentEntry): void {
    for (;;) {
      const call = agent.peekQueue();
      if (call === undefined) return;
      const choice = chooseConnection(call, performance.now());
      if (choice.kind === 'full') return;
      agent.popQueue();
      this.act(call, choice);
    }
  }

  /** Maintenance: lapsed health reports (spec §10.6). */
  expireHealth(now: number): void {
    for (const agent of this.agents.values()) {
      let changed = false;
      for (const c of agent.connections.values()) {
        if (c.health.expire(now)) changed = true;
        // §10.8: the maintenance tick pings connections marked unhealthy by consecutive failures.
        if (c.health.unhealthyByFailures && (c.state === 'ready' || c.state === 'paused'))
          c.host.command({ type: 'ping', connectionId: c.id });
      }
      if (changed) {
        agent.rebuildCandidates();
        this.pump(agent);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** A call rejected before it exists (draining, open breaker): failure mode still applies. */
  private unavailable(agent: AgentEntry, error: AgentPoolError): Promise<AgentResponse> {
    agent.totalErrors++;
    if (agent.options.failureMode === 'open') {
      agent.failOpenAllows++;
      return Promise.resolve(syntheticAllow());
    }
    return Promise.reject(error);
  }

  /**
   * Steps 5–9: a slot on a connection, or the agent's bounded FIFO. `now` is performance.now(), the
   * clock of the affinity and sticky tables; send() passes the call's start, read a moment before.
   */
  private admit(call: PoolCall, now = performance.now()): void {
    const agent = call.agent;
    if (agent.closing) return this.settle(call, undefined, abortError('proxy_shutdown', agent.id, call.correlationId));
    if (agent.queued > 0 && call.forced === undefined) return this.enqueue(call);
    this.act(call, chooseConnection(call, now));
  }

  private act(call: PoolCall, choice: ReturnType<typeof chooseConnection>): void {
    switch (choice.kind) {
      case 'connection':
        return this.dispatch(call, choice.connection);
      case 'full':
        return this.enqueue(call);
      case 'blocked':
        return this.flowBlocked(call);
      case 'none':
        return this.settle(
          call,
          undefined,
          zapError(ErrorCode.NoHealthyConnection, choice.why, { agentId: call.agent.id, correlationId: call.correlationId }),
        );
    }
  }

  private enqueue(call: PoolCall): void {
    const agent = call.agent;
    if (agent.queued >= agent.options.maxQueuedPerAgent) {
      const error = zapError(ErrorCode.QueueFull, `Agent '${agent.id}' has ${agent.queued} calls queued (maxQueuedPerAgent)`, {
        agentId: agent.id,
        correlationId: call.correlationId,
      });
      return this.settle(call, undefined, error);
    }
    call.state = 'queued';
    agent.queue.push(call);
  }

  /** Flow control holds the call back (spec §10.5): per the agent's flowControlMode. */
  private flowBlocked(call: PoolCall): void {
    const agent = call.agent;
    const mode = agent.options.flowControlMode;
    const now = performance.now();
    call.flowSince ??= now;
    if (mode === 'wait-and-retry' && now - call.flowSince < agent.options.flowControlWaitTimeoutMs) {
      // Held calls wait in one FIFO per agent, re-checked together, so a resume releases them in order.
      if (call.state !== 'flow-wait') {
        call.state = 'flow-wait';
        agent.flowWaiting.push(call);
      }
      this.armFlowRecheck(agent);
      return;
    }
    agent.flowRejections++;
    this.events.flowRejection?.(agent);
    if (mode === 'fail-open') return this.settle(call, syntheticAllow(), undefined);
    const error = zapError(ErrorCode.FlowPaused, `Flow control paused: agent '${agent.id}' requested backpressure`, {
      agentId: agent.id,
      correlationId: call.correlationId,
    });
    this.settle(call, undefined, error);
  }

  private armFlowRecheck(agent: AgentEntry): void {
    if (agent.flowTimer !== undefined) return;
    agent.flowTimer = setTimeout(() => {
      agent.flowTimer = undefined;
      this.recheckFlow(agent);
    }, FLOW_RECHECK_MS);
    agent.flowTimer.unref();
  }

  /** Re-admits held calls oldest first; those still blocked stay (or time out of their wait). */
  private recheckFlow(agent: AgentEntry): void {
    const held = agent.flowWaiting.splice(0);
    for (const call of held) {
      if (call.state !== 'flow-wait') continue;
      call.state = 'waiting-cid';
      this.admit(call);
    }
  }

  private dispatch(call: PoolCall, connection: ConnectionRecord): void {
    let frame: EncodedEvent;
    const encodeStart = performance.now();
    try {
      frame = connection.encoder.encode(call.kind, call.event as never, call.correlationId);
    } catch (err) {
      return this.settle(call, undefined, unencodableEvent(err, call.agent.id, call.correlationId));
    }
    // One clock read ends the encode and marks the dispatch (the host writes the frame right away).
    const dispatchedAt = performance.now();
    const encodeSeconds = (dispatchedAt - encodeStart) / 1000;
    call.state = 'dispatched';
    call.connection = connection;
    const replyId = replyCorrelationId(call, connection);
    call.replyId = replyId;
    // The frame holds all the agent needs: the caller's event (headers and all) may go now.
    call.event = undefined;
    connection.inFlight++;
    connection.dispatched++;
    const multiplier = connection.health.timeoutMultiplier;
    if (multiplier !== 1) {
      // Degraded agent (spec §10.11): effective timeout × multiplier, still measured from the start.
      call.deadline = call.startedAt + call.timeoutMs * multiplier;
      this.deadlines.push(call.id, call.deadline);
    }
    call.dispatchedAt = dispatchedAt;
    connection.host.send([call.id, connection.id, replyId, frame, EVENT_MESSAGE_TYPE[call.kind]]);
    this.events.dispatched?.(call, connection, encodeSeconds);
  }

  private onState(connection: ConnectionRecord, report: StateReport): void {
    const agent = connection.agent;
    const previous = connection.state;
    connection.state = report.state;
    connection.lastError = report.lastError;
    if (report.lastError !== null) agent.lastConnectionError = report.lastError;
    if (report.state === 'ready') {
      connection.lastFailure = undefined;
      agent.lastConnectionError = null;
    } else if (report.error !== undefined) connection.lastFailure = AgentPoolError.fromSerialized({ ...report.error, agentId: agent.id });
    // A new transport starts with no health report and no failure streak.
    if (report.state === 'ready' && previous === 'handshaking') connection.health = new HealthReportState();
    if (report.state === 'ready') {
      connection.capabilities = report.capabilities ?? connection.capabilities;
      if (report.encoding !== undefined) {
        const host = connection.host;
        const encoder = host.eventEncoder?.(report.encoding) ?? eventEncoderFor(report.encoding);
        if (encoder === undefined) {
          // A host reported an encoding this router cannot produce: never route to it.
          connection.state = 'closed';
          connection.lastError = `no event encoder for '${report.encoding}'`;
        } else {
          connection.encoding = report.encoding;
          connection.encoder = encoder;
        }
      }
    }
    if (report.state === 'backoff' || report.state === 'closed') {
      const kind =
        previous === 'connecting'
          ? 'connect_failed'
          : previous === 'handshaking'
            ? 'handshake_failed'
            : previous === 'backoff'
              ? undefined
              : 'lost';
      if (kind !== undefined && report.lastError !== null) this.events.connectionError?.(agent, kind);
      agent.correlations.dropConnection(connection.id);
      agent.sticky.dropConnection(connection.id);
      agent.flow.dropConnection(connection.id);
    }
    if (!connection.initialSettled && (report.state === 'ready' || report.state === 'backoff' || report.state === 'closed')) {
      connection.initialSettled = true;
    }
    agent.rebuildCandidates();
    agent.checkInitialSettled();
    if (connection.state === 'closed') this.forgetConnection(connection);
    if (connection.state === 'ready') {
      // §10.10: a connection that completed its handshake is evidence the agent is back (as Envoy
      // un-ejects a host on a passing health check): an open breaker lets the next call probe.
      agent.breaker.onAgentReachable();
      this.events.ready?.(agent, connection);
    }
    this.pump(agent);
  }

  private onTimeout(call: PoolCall): void {
    const effective =
      call.connection === undefined ? call.timeoutMs : Math.round(call.timeoutMs * call.connection.health.timeoutMultiplier);
    this.cancelOnConnection(call, 'timeout');
    const error = zapError(ErrorCode.Timeout, `Agent '${call.agent.id}' did not answer within ${effective} ms`, {
      agentId: call.agent.id,
      correlationId: call.correlationId,
    });
    this.settle(call, undefined, error);
  }

  private onAbort(call: PoolCall): void {
    this.abortCall(
      call,
      cancelReasonFor(call.cancelReason, call.signal),
      abortError(call.signal?.reason, call.agent.id, call.correlationId),
    );
  }

  /** Tells the host the call is over; it sends Cancel unless the agent disabled cancellation (§10.6). */
  private cancelOnConnection(call: PoolCall, reason: CancelReason): void {
    if (call.state !== 'dispatched' || call.connection === undefined) return;
    const silent = call.connection.health.isFeatureDisabled('cancellation');
    call.connection.host.cancel([call.id, reason, silent]);
  }

  /** The one place a call ends. */
  private settle(call: PoolCall, response: AgentResponse | undefined, error: unknown): void {
    if (call.state === 'done') return;
    const wasDispatched = call.state === 'dispatched';
    call.state = 'done';
    this.calls.delete(call.id);
    const agent = call.agent;
    agent.liveCalls--;
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    const latencyMs = performance.now() - call.startedAt;
    agent.breaker.onOutcome(call.generation, error, undefined, response);
    const connection = call.connection;
    if (wasDispatched && connection !== undefined) {
      connection.inFlight--;
      const failed = error instanceof AgentPoolError && error.code !== ErrorCode.Abort;
      connection.recordOutcome(failed, latencyMs);
      const healthChanged = error === undefined ? connection.health.recordSuccess() : connection.health.recordFailure(error);
      if (healthChanged) agent.rebuildCandidates();
    }
    this.events.settled?.(call, response, error, latencyMs);
    if (error !== undefined) {
      agent.totalErrors++;
      if (agent.options.failureMode === 'open' && isUnavailable(error)) {
        agent.failOpenAllows++;
        response = syntheticAllow();
        error = undefined;
      }
    }
    const correlation = call.correlation;
    if (correlation !== undefined) {
      // The next call of the cid has its turn now.
      const next = agent.correlations.leave(call.correlationId, correlation, call);
      if (next !== undefined) this.admit(next);
    }
    if (wasDispatched) this.pump(agent);
    if (error === undefined) call.resolve(response as AgentResponse);
    else call.reject(error);
    // The deadline queue may hold the call a while longer: let go of its promise (and through it
    // the response) and of the caller's signal, so they die young instead of being promoted.
    call.resolve = SETTLED;
    call.reject = SETTLED;
    call.signal = undefined;
    call.onAbort = undefined;
    // A drain waits for the agent's last call (AgentEntry.whenIdle): one size check per call.
    if (agent.liveCalls === 0 && agent.idle.waiting) agent.idle.notify();
  }

  /** Stops the deadline timer (the pool is closed; every call has settled). */
  dispose(): void {
    this.deadlines.clear();
  }

  /** All live calls of an agent, oldest first (drain, removal, cancel: not the call path). */
  callsOf(agent: AgentEntry): PoolCall[] {
    return this.calls.filter((call) => call.agent === agent);
  }
}

/** The id the agent's reply will carry: on gRPC a Configure is answered under its config_version (§10.7). */
function replyCorrelationId(call: PoolCall, connection: ConnectionRecord): string {
  if (call.kind === 'configure' && connection.encoding === 'protobuf') {
    return (call.event as { configVersion?: string | null }).configVersion ?? call.correlationId;
  }
  return call.correlationId;
}

function withCallIds(s: SerializedAgentPoolError, call: PoolCall): SerializedAgentPoolError {
  return { ...s, agentId: call.agent.id, correlationId: call.correlationId };
}
