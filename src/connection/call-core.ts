// The call core every proxy-side connection stands on (framed UDS/reverse and gRPC alike): calls
// in flight matched by reply id (spec §10.2), per-call deadline, abort → Cancel (§10.9), ping/pong
// (§7.2), and the one place a call ends. Every call settles exactly once: reply, timeout, abort,
// cancel, malformed reply, or the connection failing. A transport adds only how bytes go out
// (write, withdraw/Cancel, ping) and how they come in; it reports replies through `settle`.
//
// Hot path: one call object per event, the caller's shared completion callback (no promise, no
// closure per call beyond the timer and abort listener it asks for).
import { EventEmitter } from 'node:events';
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import type {
  AgentResponse,
  CancelReason,
  Capabilities,
  ConfigUpdateRequest,
  FlowControlSignal,
  HandshakeResponse,
  HealthStatus,
  LogMessage,
  MetricsReport,
} from '../protocol/types.js';
import { abortError } from '../contract/abort-error.js';
import { CallTable, type TableCall } from './call-table.js';
import { cancelReasonFor } from '../contract/cancel-reason.js';
import { connectionLost, withIds } from './connection-errors.js';
import { HeldControlEvents } from './held-control-events.js';

export interface CallOptions {
  /** Deadline of this call in ms, measured from the call (default: the connection's requestTimeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Reason sent in the Cancel on abort; else signal.reason when it names one; else client_disconnect. */
  cancelReason?: CancelReason;
}

/** Completion callback of sendFrameWith: exactly one call per event. */
export type CallCompletion = (token: number, error: unknown, response: AgentResponse | undefined) => void;

export interface ConnectionEvents {
  health: [HealthStatus];
  metrics: [MetricsReport];
  'config-update': [ConfigUpdateRequest];
  'flow-control': [FlowControlSignal];
  /** A reply for a cid nobody waits for (late after timeout/abort, or unknown): discarded. */
  'late-reply': [string];
  /** A reply without any correlation id: dropped. */
  'unroutable-reply': [];
  /** A control frame that could not be decoded: dropped, the connection stays. */
  'bad-control-frame': [AgentPoolError];
  /** gRPC only: AgentToProxy.log (spec §7.3); a gRPC connection re-logs it itself when nobody listens. */
  log: [LogMessage];
  close: [AgentPoolError | null];
}

/** One event call. `S` is the transport's mark of its frame once handed over (see `sent`). */
export interface Call<S> extends TableCall {
  readonly cid: string;
  /** The id the agent answers with: the cid, or (gRPC Configure) the config_version. */
  readonly replyId: string;
  readonly frame: Buffer;
  readonly cancelReason: CancelReason | undefined;
  /** The one completion path of a call: a reply or an error, then never again (see settle). */
  done: CallCompletion | undefined;
  /** Caller's token, handed back to `done` (lets a host use one shared handler, no closure per call). */
  readonly token: number;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Set by the transport when it takes the frame; undefined while the call waits for room. */
  sent: S | undefined;
}

interface PendingPing {
  resolve: (rttMs: number) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

export abstract class CallCore<S> extends EventEmitter<ConnectionEvents> {
  /** Outstanding call per reply id and later calls of the same id, FIFO (spec §10.2). */
  protected readonly calls = new CallTable<Call<S>>();
  private readonly pings = new Map<number, PendingPing>();
  private pingSequence = 0;
  /** undefined while open; null when the peer ended cleanly; else why it closed. */
  protected closedWith: AgentPoolError | null | undefined;
  protected handshakeResult: HandshakeResponse | undefined;
  /** Control events decoded before the owner listens (e.g. right behind the handshake) wait here. */
  protected readonly held = new HeldControlEvents(this);
  /** Date.now() of the last inbound bytes, for idle detection (liveness pings). */
  lastInboundAt = Date.now();

  constructor(
    readonly agentId: string,
    protected readonly requestTimeoutMs: number,
  ) {
    super();
  }

  get capabilities(): Capabilities | undefined {
    return this.handshakeResult?.capabilities;
  }
  get handshake(): HandshakeResponse | undefined {
    return this.handshakeResult;
  }
  get closed(): boolean {
    return this.closedWith !== undefined;
  }
  /** Events written or waiting to be written that have no reply yet. */
  get inFlight(): number {
    return this.calls.size;
  }
  /** Resolves once no call is outstanding or waiting (a drain waits on this instead of polling). */
  whenIdle(): Promise<boolean> {
    return this.calls.whenEmpty();
  }

  /**
   * Sends an event already encoded for this connection and resolves with the agent's reply.
   * `timeoutMs: Infinity` arms no timer: the caller owns the deadline and calls `cancel`.
   */
  sendFrame(frame: Buffer, correlationId: string, options: CallOptions = {}): Promise<AgentResponse> {
    return new Promise<AgentResponse>((resolve, reject) => {
      this.sendFrameWith(frame, correlationId, options, 0, (_token, error, response) => {
        if (error === undefined) resolve(response as AgentResponse);
        else reject(error);
      });
    });
  }

  /**
   * Callback form of sendFrame for hosts on the hot path: `done(token, error, response)` runs
   * exactly once (synchronously for an immediate failure). No promise, no closure per call.
   */
  sendFrameWith(frame: Buffer, correlationId: string, options: CallOptions, token: number, done: CallCompletion): void {
    this.startCall(frame, correlationId, correlationId, options, token, done);
  }

  /**
   * Ends the outstanding call of `cid` with ABORT_ERR: withdrawn if the transport has not sent it,
   * else a Cancel goes out (not when `silent`).
   */
  cancel(correlationId: string, reason: CancelReason = 'manual', silent = false): boolean {
    const call = this.calls.outstandingByCid(correlationId);
    if (call === undefined) return false;
    this.withdrawOrCancel(call, silent ? null : reason);
    this.settle(call, undefined, abortError(reason, this.agentId, correlationId));
    return true;
  }

  /** Liveness ping (spec §7.2); resolves with the round-trip time in ms. */
  ping(timeoutMs = 5_000): Promise<number> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedError());
    const sequence = this.pingSequence++;
    const sentAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(sequence);
        reject(zapError(ErrorCode.Timeout, `Ping ${sequence} got no Pong within ${timeoutMs} ms`, { agentId: this.agentId }));
      }, timeoutMs);
      this.pings.set(sequence, { resolve, reject, timer, sentAt });
      this.writePing(sequence, sentAt);
    });
  }

  /** Closes the connection; outstanding calls fail with ZAP_CONNECTION_LOST. */
  close(): void {
    this.fail(connectionLost(this.agentId, 'connection closed locally'));
  }

  // --- what a transport provides ----------------------------------------------------------------

  /** Hands an outstanding call's frame over (setting `call.sent`), or queues it until there is room. */
  protected abstract write(call: Call<S>): void;
  /** Not sent yet: withdraw it. Sent: a Cancel with `reason` (spec §10.9); none when `reason` is null. */
  protected abstract withdrawOrCancel(call: Call<S>, reason: CancelReason | null): void;
  protected abstract writePing(sequence: number, sentAt: number): void;
  /** Releases the socket or stream, and drops calls still waiting for room (they are about to fail). */
  protected abstract shutDown(): void;

  // --- the core ---------------------------------------------------------------------------------

  /** Registers a call under `replyId` and writes it when it is its id's turn (spec §10.2). */
  protected startCall(frame: Buffer, cid: string, replyId: string, options: CallOptions, token: number, done: CallCompletion): void {
    const signal = options.signal;
    if (this.refuses(cid, signal, token, done)) return;
    const call: Call<S> = {
      cid,
      replyId,
      frame,
      cancelReason: options.cancelReason,
      done,
      token,
      timer: undefined,
      signal,
      onAbort: undefined,
      sent: undefined,
    };
    const timeoutMs =
      options.timeoutMs === Infinity ? Infinity : Math.min(options.timeoutMs ?? this.requestTimeoutMs, this.requestTimeoutMs);
    if (timeoutMs !== Infinity) call.timer = setTimeout(() => this.onTimeout(call, timeoutMs), timeoutMs);
    if (signal !== undefined) {
      call.onAbort = () => this.onAbort(call);
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    if (this.calls.add(call)) this.write(call);
  }

  /** A call the connection cannot take (closed, or already aborted) completes now; true if so. */
  protected refuses(cid: string, signal: AbortSignal | undefined, token: number, done: CallCompletion): boolean {
    if (this.closedWith !== undefined) {
      done(token, withIds(this.closedError(), this.agentId, cid), undefined);
      return true;
    }
    if (signal?.aborted === true) {
      done(token, abortError(signal.reason, this.agentId, cid), undefined);
      return true;
    }
    return false;
  }

  protected onPong(sequence: number): void {
    const pending = this.pings.get(sequence);
    if (pending === undefined) return;
    this.pings.delete(sequence);
    clearTimeout(pending.timer);
    pending.resolve(Date.now() - pending.sentAt);
  }

  private onTimeout(call: Call<S>, timeoutMs: number): void {
    call.timer = undefined;
    if (this.calls.isOutstanding(call)) this.withdrawOrCancel(call, 'timeout');
    this.settle(
      call,
      undefined,
      zapError(ErrorCode.Timeout, `Agent '${this.agentId}' did not answer within ${timeoutMs} ms`, {
        agentId: this.agentId,
        correlationId: call.cid,
      }),
    );
  }

  private onAbort(call: Call<S>): void {
    if (this.calls.isOutstanding(call)) this.withdrawOrCancel(call, cancelReasonFor(call.cancelReason, call.signal));
    this.settle(call, undefined, abortError(call.signal?.reason, this.agentId, call.cid));
  }

  /** The one place a call ends. Idempotent: whatever comes second (reply, timer, abort, close) is a no-op. */
  protected settle(call: Call<S>, response: AgentResponse | undefined, error: unknown): void {
    const done = call.done;
    if (done === undefined) return;
    call.done = undefined;
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    const next = this.calls.remove(call);
    if (next !== undefined && this.closedWith === undefined) {
      this.calls.promote(next);
      this.write(next);
    }
    done(call.token, error, response);
  }

  /** Ends the connection once; every call and ping still open fails with `error` (or ZAP_CONNECTION_LOST). */
  protected fail(error: AgentPoolError | null): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    this.shutDown();
    const reason = error ?? connectionLost(this.agentId, 'connection closed by peer');
    for (const call of this.calls.all()) this.settle(call, undefined, withIds(reason, this.agentId, call.cid));
    for (const ping of this.pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(reason);
    }
    this.pings.clear();
    this.emit('close', error);
  }

  /** Why a call or ping made after the connection closed fails. */
  private closedError(): AgentPoolError {
    return this.closedWith ?? connectionLost(this.agentId, 'connection closed');
  }
}
