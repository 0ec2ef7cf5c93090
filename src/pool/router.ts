// The main-thread router (design "the shape"): admits calls, picks a connection from the agent's
// immutable candidate snapshot, encodes once and hands bytes to the host that owns the connection,
// and settles every call exactly once. It never touches a socket; hosts never decide routing.
import { cancelReasonFor } from '../connection/cancel-reason.js';
import { abortError } from '../connection/abort-error.js';
import { AgentPoolError, ErrorCode, zapError, type SerializedAgentPoolError } from '../protocol/errors.js';
import { eventEncoderFor } from './event-encoder.js';
import type { AgentResponse, CancelReason, EventKind } from '../protocol/types.js';
import { AgentEntry, ConnectionRecord } from './agent-entry.js';
import type { HostReport, ResultItem, StateReport } from './host-protocol.js';
import type { PoolCall } from './pool-call.js';

export interface SendOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  cancelReason?: CancelReason;
}

/** Returned by choose(): every candidate is at its concurrency cap; wait for a slot. */
const FULL = Symbol('full');

export interface RouterEvents {
  /** A reply or error arrived for a call that had already settled (late after timeout/abort). */
  lateResult?: (agentId: string) => void;
  report?: (agent: AgentEntry, connection: ConnectionRecord, report: HostReport) => void;
}

export class Router {
  readonly agents = new Map<string, AgentEntry>();
  private readonly calls = new Map<number, PoolCall>();
  private readonly connections = new Map<number, ConnectionRecord>();
  private nextCallId = 1;
  lateResults = 0;

  constructor(private readonly events: RouterEvents = {}) {}

  get inFlight(): number {
    return this.calls.size;
  }

  connection(id: number): ConnectionRecord | undefined {
    return this.connections.get(id);
  }

  registerConnection(record: ConnectionRecord): void {
    this.connections.set(record.id, record);
    record.agent.connections.set(record.id, record);
  }

  forgetConnection(record: ConnectionRecord): void {
    this.connections.delete(record.id);
    record.agent.connections.delete(record.id);
    record.agent.affinity.dropConnection(record.id);
    record.agent.sticky.dropConnection(record.id);
    record.agent.rebuildCandidates();
  }

  /** Admission pipeline (spec §10.3); `shutdownReason` set while the pool or agent is closing. */
  send(agentId: string, kind: EventKind, event: unknown, correlationId: string, options: SendOptions, stickySession?: string): Promise<AgentResponse> & { call?: PoolCall } {
    const agent = this.agents.get(agentId);
    if (agent === undefined) {
      return Promise.reject(zapError(ErrorCode.NotFound, `Unknown agent '${agentId}'`, { agentId, correlationId }));
    }
    if (agent.closing) return Promise.reject(abortError('proxy_shutdown', agentId, correlationId));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason, agentId, correlationId));

    let call!: PoolCall;
    const promise = new Promise<AgentResponse>((resolve, reject) => {
      call = {
        id: this.nextCallId++,
        agent,
        kind,
        event,
        correlationId,
        startedAt: performance.now(),
        state: 'waiting-cid',
        connection: undefined,
        stickySession,
        usedSticky: false,
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
        cancelReason: options.cancelReason,
      };
    });
    const timeoutMs = Math.min(options.timeoutMs ?? agent.options.requestTimeoutMs, agent.options.requestTimeoutMs);
    call.timer = setTimeout(() => this.onTimeout(call, timeoutMs), timeoutMs);
    if (signal !== undefined) {
      call.onAbort = () => this.onAbort(call);
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    this.calls.set(call.id, call);
    agent.calls.add(call);
    agent.totalRequests++;

    // One outstanding event per (agent, cid): later ones wait their turn (spec §10.2).
    const waiting = agent.busyCids.get(correlationId);
    if (waiting !== undefined) {
      if (waiting === null) agent.busyCids.set(correlationId, [call]);
      else waiting.push(call);
    } else {
      agent.busyCids.set(correlationId, null);
      this.admit(call);
    }
    return Object.assign(promise, { call });
  }

  /** Rejects the live calls of `cid` with ABORT_ERR, sending Cancel where an event is outstanding. */
  cancel(agentId: string, correlationId: string, reason: CancelReason): boolean {
    const agent = this.agents.get(agentId);
    if (agent === undefined) return false;
    let any = false;
    for (const call of [...agent.calls]) {
      if (call.correlationId !== correlationId) continue;
      any = true;
      this.abortCall(call, reason, abortError(reason, agentId, correlationId));
    }
    agent.affinity.delete(correlationId);
    return any;
  }

  // ---------------------------------------------------------------------------------------------

  /** Steps 5–9: a slot on a connection, or the agent's bounded FIFO. */
  private admit(call: PoolCall): void {
    const agent = call.agent;
    if (agent.closing) return this.settle(call, undefined, abortError('proxy_shutdown', agent.id, call.correlationId));
    if (agent.queued > 0) return this.enqueue(call);
    const chosen = this.choose(call);
    if (chosen === FULL) return this.enqueue(call);
    if (chosen === undefined) return this.settle(call, undefined, this.noHealthy(call));
    this.dispatch(call, chosen);
  }

  private enqueue(call: PoolCall): void {
    const agent = call.agent;
    if (agent.queued >= agent.options.maxQueuedPerAgent) {
      this.settle(
        call,
        undefined,
        zapError(ErrorCode.QueueFull, `Agent '${agent.id}' has ${agent.queued} calls queued (maxQueuedPerAgent)`, {
          agentId: agent.id,
          correlationId: call.correlationId,
        }),
      );
      return;
    }
    call.state = 'queued';
    agent.queue.push(call);
  }

  /** Affinity first (every event of a cid on the connection that carried its headers), then the picker. */
  private choose(call: PoolCall): ConnectionRecord | undefined | typeof FULL {
    const agent = call.agent;
    const cap = agent.options.maxConcurrentPerConnection;
    const now = Date.now();
    if (call.stickySession !== undefined) {
      const bound = agent.sticky.get(call.stickySession, now);
      const c = bound === undefined ? undefined : agent.connections.get(bound);
      if (c !== undefined && c.selectable) {
        if (c.inFlight >= cap) return FULL;
        call.usedSticky = true;
        return c;
      }
    }
    if (call.kind !== 'request_headers') {
      const bound = agent.affinity.get(call.correlationId, now);
      const c = bound === undefined ? undefined : agent.connections.get(bound);
      // Draining (pool-side) is fine for a request already in progress; lost connections are not.
      if (c !== undefined && (c.state === 'ready' || c.state === 'paused' || c.state === 'draining')) {
        return c.inFlight >= cap ? FULL : c;
      }
    }
    const candidates = agent.candidates;
    if (candidates.length === 0) return undefined;
    const context = { agentId: agent.id, correlationId: call.correlationId };
    let chosen = agent.picker.pick(candidates, context);
    if (chosen !== undefined && chosen.inFlight >= cap) {
      const open = candidates.filter((c) => c.inFlight < cap);
      if (open.length === 0) return FULL;
      chosen = agent.picker.pick(open, context);
    }
    if (chosen === undefined) return undefined;
    if (call.kind === 'request_headers') agent.affinity.set(call.correlationId, chosen.id, now);
    if (call.stickySession !== undefined) agent.sticky.bind(call.stickySession, chosen.id, now);
    return chosen;
  }

  private dispatch(call: PoolCall, connection: ConnectionRecord): void {
    let frame: Buffer;
    try {
      frame = connection.encoder.encode(call.kind, call.event as never, call.correlationId);
    } catch (err) {
      this.settle(call, undefined, withIds(err, call.agent.id, call.correlationId));
      return;
    }
    call.state = 'dispatched';
    call.connection = connection;
    connection.inFlight++;
    connection.dispatched++;
    connection.host.send([call.id, connection.id, call.correlationId, frame]);
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

  /** State and control reports of a known connection (listener reports are the pool's). */
  onReport(report: Extract<HostReport, { connectionId: number }>): void {
    const connection = this.connections.get(report.connectionId);
    if (connection === undefined) return;
    if (report.type === 'state') this.onState(connection, report);
    this.events.report?.(connection.agent, connection, report);
  }

  private onState(connection: ConnectionRecord, report: StateReport): void {
    const agent = connection.agent;
    connection.state = report.state;
    connection.lastError = report.lastError;
    if (report.state === 'ready') {
      if (report.encoding !== undefined) {
        const encoder = eventEncoderFor(report.encoding);
        if (encoder === undefined) {
          // A host reported an encoding this router cannot produce: never route to it.
          report = { ...report, state: 'closed', lastError: `no event encoder for '${report.encoding}'` };
        } else {
          connection.encoding = report.encoding;
          connection.encoder = encoder;
        }
      }
      connection.capabilities = report.capabilities;
    }
    if (report.state === 'backoff' || report.state === 'closed') {
      agent.affinity.dropConnection(connection.id);
      agent.sticky.dropConnection(connection.id);
    }
    if (!connection.initialSettled && (report.state === 'ready' || report.state === 'backoff' || report.state === 'closed')) {
      connection.initialSettled = true;
    }
    agent.rebuildCandidates();
    agent.checkInitialSettled();
    if (report.state === 'closed') this.forgetConnection(connection);
    this.pump(agent);
  }

  /** Fails every call dispatched to connections of a dead host (spec: ZAP_WORKER_LOST). */
  failHost(hostIndex: number, why: string): ConnectionRecord[] {
    const lost: ConnectionRecord[] = [];
    for (const c of this.connections.values()) {
      if (c.hostIndex !== hostIndex) continue;
      lost.push(c);
      c.state = 'connecting';
    }
    for (const call of [...this.calls.values()]) {
      if (call.state === 'dispatched' && call.connection !== undefined && call.connection.hostIndex === hostIndex) {
        this.settle(call, undefined, zapError(ErrorCode.WorkerLost, `Connection worker died: ${why}`, { agentId: call.agent.id, correlationId: call.correlationId }));
      }
    }
    for (const c of lost) {
      c.agent.affinity.dropConnection(c.id);
      c.agent.rebuildCandidates();
    }
    return lost;
  }

  /** Dispatches queued calls while slots are free. */
  pump(agent: AgentEntry): void {
    for (;;) {
      const call = agent.peekQueue();
      if (call === undefined) return;
      const chosen = this.choose(call);
      if (chosen === FULL) return;
      agent.popQueue();
      if (chosen === undefined) this.settle(call, undefined, this.noHealthy(call));
      else this.dispatch(call, chosen);
    }
  }

  private onTimeout(call: PoolCall, timeoutMs: number): void {
    call.timer = undefined;
    if (call.state === 'dispatched' && call.connection !== undefined) call.connection.host.cancel([call.id, 'timeout']);
    this.settle(
      call,
      undefined,
      zapError(ErrorCode.Timeout, `Agent '${call.agent.id}' did not answer within ${timeoutMs} ms`, {
        agentId: call.agent.id,
        correlationId: call.correlationId,
      }),
    );
  }

  private onAbort(call: PoolCall): void {
    this.abortCall(call, cancelReasonFor(call.cancelReason, call.signal), abortError(call.signal?.reason, call.agent.id, call.correlationId));
  }

  abortCall(call: PoolCall, reason: CancelReason, error: AgentPoolError): void {
    if (call.state === 'done') return;
    if (call.state === 'dispatched' && call.connection !== undefined) call.connection.host.cancel([call.id, reason]);
    this.settle(call, undefined, error);
  }

  /** The one place a call ends. */
  private settle(call: PoolCall, response: AgentResponse | undefined, error: unknown): void {
    if (call.state === 'done') return;
    const wasDispatched = call.state === 'dispatched';
    call.state = 'done';
    this.calls.delete(call.id);
    const agent = call.agent;
    agent.calls.delete(call);
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    if (error !== undefined) agent.totalErrors++;
    const connection = call.connection;
    if (wasDispatched && connection !== undefined) {
      connection.inFlight--;
      const failed = error instanceof AgentPoolError && error.code !== ErrorCode.Abort;
      connection.recordOutcome(failed, performance.now() - call.startedAt);
    }
    this.releaseCid(call);
    if (wasDispatched) this.pump(agent);
    if (error === undefined) call.resolve(response as AgentResponse);
    else call.reject(error);
  }

  /** Lets the next waiting call of the same cid go. */
  private releaseCid(call: PoolCall): void {
    const agent = call.agent;
    const waiting = agent.busyCids.get(call.correlationId);
    if (waiting === undefined) return;
    if (call.state === 'done' && waiting !== null) {
      const at = waiting.indexOf(call);
      if (at >= 0) {
        // A waiting call ended (timeout/abort) before its turn: just drop it from the line.
        waiting.splice(at, 1);
        if (waiting.length === 0) agent.busyCids.set(call.correlationId, null);
        return;
      }
    }
    const next = waiting === null ? undefined : waiting.shift();
    if (next === undefined) {
      agent.busyCids.delete(call.correlationId);
      return;
    }
    if (waiting !== null && waiting.length === 0) agent.busyCids.set(call.correlationId, null);
    this.admit(next);
  }

  private noHealthy(call: PoolCall): AgentPoolError {
    return zapError(ErrorCode.NoHealthyConnection, `No healthy connections for agent ${call.agent.id}`, {
      agentId: call.agent.id,
      correlationId: call.correlationId,
    });
  }

  /** All calls of an agent (for drain and removal). */
  callsOf(agent: AgentEntry): PoolCall[] {
    return [...agent.calls];
  }
}

function withIds(err: unknown, agentId: string, correlationId: string): unknown {
  if (!(err instanceof AgentPoolError)) return err;
  return new AgentPoolError(err.code, err.message, { agentId, correlationId, cause: err.cause });
}

function withCallIds(s: SerializedAgentPoolError, call: PoolCall): SerializedAgentPoolError {
  return { ...s, agentId: call.agent.id, correlationId: call.correlationId };
}
