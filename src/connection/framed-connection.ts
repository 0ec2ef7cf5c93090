// Proxy side of one framed connection (UDS, later reverse TCP/UDS): handshake, many requests in
// flight matched by correlation id, per-call deadline, abort → Cancel, ping/pong, agent control
// frames surfaced as events. Every call settles exactly once: reply, timeout, abort, protocol
// error, or connection loss.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { agentResponseFromWire } from '../protocol/agent-response.js';
import { cancelReasonFor } from './cancel-reason.js';
import { connectionLost } from './connection-lost.js';
import { encodeCancel } from '../protocol/cancel.js';
import { configUpdateRequestFromWire } from '../protocol/config-update.js';
import { AgentPoolError, ErrorCode, protocolError, zapError } from '../protocol/errors.js';
import { flowControlFromWire } from '../protocol/flow-control.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { encodeFrame } from '../protocol/frame-encoder.js';
import {
  buildHandshakeRequest,
  decodeHandshakeResponse,
  encodeHandshakeRequest,
  validateHandshakeResponse,
} from '../protocol/handshake.js';
import { healthStatusFromWire } from '../protocol/health-status.js';
import { assertReceivable, EVENT_MESSAGE_TYPE, MessageType } from '../protocol/message-type.js';
import { metricsReportFromWire } from '../protocol/metrics-report.js';
import { codecFor, jsonCodec, type PayloadCodec } from '../protocol/payload-codec.js';
import { decodePing, encodePing } from '../protocol/ping.js';
import type {
  AgentResponse,
  CancelReason,
  Capabilities,
  ConfigUpdateRequest,
  EncodingSetting,
  EventKind,
  EventMap,
  FlowControlSignal,
  HandshakeResponse,
  HealthStatus,
  LogMessage,
  MetricsReport,
} from '../protocol/types.js';
import { FrameWriter, type QueuedFrame } from '../transport/frame-writer.js';
import { CallTable, type TableCall } from './call-table.js';
import { HeldControlEvents } from './held-control-events.js';
import { abortError } from './abort-error.js';

export interface CallOptions {
  /** Deadline of this call in ms, measured from the call (default: the connection's requestTimeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Reason sent in the Cancel frame on abort; else signal.reason when it names one; else client_disconnect. */
  cancelReason?: CancelReason;
}

/** Completion callback of sendFrameWith: exactly one call per event. */
export type CallCompletion = (token: number, error: unknown, response: AgentResponse | undefined) => void;

export interface FramedConnectionOptions {
  agentId: string;
  /** 'uds' sends a 0x01 handshake; 'reverse' connections are registered before they get here. */
  transport: 'uds' | 'reverse';
  requestTimeoutMs?: number;
  channelBufferSize?: number;
  /** Bytes already read from the socket (a reverse connection's data after its registration frame). */
  initialBytes?: Buffer;
}

export interface HandshakeOptions {
  proxyVersion: string;
  config: unknown;
  encoding: EncodingSetting;
  handshakeTimeoutMs: number;
}

export interface FramedConnectionEvents {
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

interface Call extends TableCall {
  readonly cid: string;
  readonly frame: Buffer;
  readonly cancelReason: CancelReason | undefined;
  /** The one completion path of a call: a reply or an error, then never again (see settle). */
  done: CallCompletion | undefined;
  /** Caller's token, handed back to `done` (lets a host use one shared handler, no closure per call). */
  readonly token: number;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  queued: QueuedFrame | undefined;
}

interface PendingPing {
  resolve: (rttMs: number) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

export class FramedConnection extends EventEmitter<FramedConnectionEvents> {
  readonly agentId: string;
  readonly transport: 'uds' | 'reverse';
  private codec: PayloadCodec = jsonCodec;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly requestTimeoutMs: number;
  /** Outstanding call per cid and later calls of the same cid, FIFO (spec §10.2). */
  private readonly calls = new CallTable<Call>();
  /** Calls waiting for room in the writer queue. */
  private readonly roomWaiting: Call[] = [];
  private readonly pings = new Map<number, PendingPing>();
  private pingSequence = 0;
  private handshakeWaiter: ((type: number, payload: Buffer) => void) | undefined;
  private closedWith: AgentPoolError | null | undefined;
  private handshakeResult: HandshakeResponse | undefined;
  /** Control frames decoded before the owner listens (e.g. in the handshake reply's read) wait here. */
  private readonly held = new HeldControlEvents(this);
  lastInboundAt = Date.now();

  constructor(
    private readonly socket: Socket,
    options: FramedConnectionOptions,
  ) {
    super();
    this.agentId = options.agentId;
    this.transport = options.transport;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.writer = new FrameWriter(socket, options.channelBufferSize ?? 64);
    this.decoder = new FrameDecoder((type, payload) => this.onFrame(type, payload));
    socket.on('data', (chunk: Buffer) => {
      this.lastInboundAt = Date.now();
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.fail(asProtocolError(err, this.agentId));
      }
    });
    if (options.initialBytes !== undefined && options.initialBytes.length > 0) {
      const early = options.initialBytes;
      // Emitted after the caller attached its listeners.
      queueMicrotask(() => {
        try {
          this.decoder.push(early);
        } catch (err) {
          this.fail(asProtocolError(err, this.agentId));
        }
      });
    }
    socket.on('end', () => {
      try {
        this.decoder.end();
        this.fail(null);
      } catch (err) {
        this.fail(asProtocolError(err, this.agentId));
      }
    });
    socket.on('error', (err) => this.fail(lost(this.agentId, err.message, err)));
    socket.on('close', () => this.fail(lost(this.agentId, 'connection closed by peer')));
  }

  get encoding(): string {
    return this.codec.encoding;
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
  whenIdle(): Promise<boolean> {
    return this.calls.whenEmpty();
  }
  get queuedFrames(): number {
    return this.writer.queued;
  }
  get outboundQueued(): number {
    return this.writer.queued;
  }
  get outboundCapacity(): number {
    return this.writer.channelBufferSize;
  }

  /** UDS handshake (spec §5.1 steps 2–5). Fails the connection and rejects on any problem. */
  performHandshake(o: HandshakeOptions): Promise<HandshakeResponse> {
    const request = buildHandshakeRequest({ proxyVersion: o.proxyVersion, config: o.config, encoding: o.encoding });
    return new Promise<HandshakeResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = handshakeFailed(this.agentId, 'handshake timeout');
        this.handshakeWaiter = undefined;
        this.fail(err);
        reject(err);
      }, o.handshakeTimeoutMs);
      this.handshakeWaiter = (type, payload) => {
        clearTimeout(timer);
        this.handshakeWaiter = undefined;
        try {
          if (type !== MessageType.HandshakeResponse) {
            throw handshakeFailed(this.agentId, `expected HandshakeResponse as first frame, got type 0x${hex(type)}`);
          }
          const response = decodeHandshakeResponse(payload);
          const encoding = validateHandshakeResponse(response, o.encoding);
          this.codec = codecFor(encoding);
          this.handshakeResult = response;
          resolve(response);
        } catch (err) {
          const e = err instanceof AgentPoolError && err.code === ErrorCode.HandshakeFailed
            ? err
            : handshakeFailed(this.agentId, err instanceof Error ? err.message : String(err), err);
          this.fail(e);
          reject(e);
        }
      };
      this.once('close', (err) => {
        if (this.handshakeWaiter === undefined) return;
        clearTimeout(timer);
        this.handshakeWaiter = undefined;
        reject(handshakeFailed(this.agentId, err?.message ?? 'connection closed during handshake', err ?? undefined));
      });
      this.writer.enqueue(encodeFrame(MessageType.HandshakeRequest, encodeHandshakeRequest(request)));
    });
  }

  /** Sends one event and resolves with the agent's reply for it. */
  send<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string, options: CallOptions = {}): Promise<AgentResponse> {
    let frame: Buffer;
    try {
      frame = encodeFrame(EVENT_MESSAGE_TYPE[kind], this.codec.encodeEvent(kind, event, correlationId));
    } catch (err) {
      return Promise.reject(withIds(err, this.agentId, correlationId));
    }
    return this.sendFrame(frame, correlationId, options);
  }

  /**
   * Sends an already framed event (encoded with this connection's encoding, see `encoding`).
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
   * exactly once (possibly synchronously, for an immediate failure). No promise, no closure per call.
   */
  sendFrameWith(frame: Buffer, correlationId: string, options: CallOptions, token: number, done: CallCompletion): void {
    if (this.closedWith !== undefined) {
      done(token, withIds(this.closedWith ?? lost(this.agentId, 'connection closed'), this.agentId, correlationId), undefined);
      return;
    }
    const signal = options.signal;
    if (signal?.aborted) {
      done(token, abortError(signal.reason, this.agentId, correlationId), undefined);
      return;
    }
    const call: Call = {
      cid: correlationId,
      replyId: correlationId,
      frame,
      cancelReason: options.cancelReason,
      done,
      token,
      timer: undefined,
      signal,
      onAbort: undefined,
      queued: undefined,
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

  /** Sends a Cancel for the outstanding event of `cid` (if any) and rejects its call with ABORT_ERR. */
  cancel(correlationId: string, reason: CancelReason = 'manual', silent = false): boolean {
    const call = this.calls.byReplyId(correlationId);
    if (call === undefined) return false;
    if (silent) {
      if (call.queued !== undefined && !call.queued.written) call.queued.withdrawn = true;
    } else this.withdrawOrCancel(call, reason);
    this.settle(call, undefined, abortError(reason, this.agentId, correlationId));
    return true;
  }

  /** Liveness ping (spec §7.2); resolves with the round-trip time in ms. */
  ping(timeoutMs = 5_000): Promise<number> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith ?? lost(this.agentId, 'connection closed'));
    const sequence = this.pingSequence++;
    const sentAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(sequence);
        const err = zapError(ErrorCode.Timeout, `Ping ${sequence} got no Pong within ${timeoutMs} ms`, { agentId: this.agentId });
        reject(err);
      }, timeoutMs);
      this.pings.set(sequence, { resolve, reject, timer, sentAt });
      this.writer.enqueue(encodeFrame(MessageType.Ping, encodePing({ sequence, timestampMs: sentAt })));
    });
  }

  /** Closes the socket; outstanding calls fail with ZAP_CONNECTION_LOST. */
  close(): void {
    this.fail(lost(this.agentId, 'connection closed locally'));
  }

  // -------------------------------------------------------------------------------------------

  /** Hands an outstanding call's frame to the writer, or waits for room in its queue. */
  private write(call: Call): void {
    if (this.writer.hasRoom && this.roomWaiting.length === 0) {
      call.queued = this.writer.enqueue(call.frame);
      return;
    }
    this.roomWaiting.push(call);
    if (this.roomWaiting.length === 1) void this.drainRoomWaiting();
  }

  private async drainRoomWaiting(): Promise<void> {
    while (this.roomWaiting.length > 0 && this.closedWith === undefined) {
      await this.writer.whenRoom();
      const call = this.roomWaiting.shift();
      if (call !== undefined && this.calls.isOutstanding(call)) call.queued = this.writer.enqueue(call.frame);
    }
  }

  private onFrame(type: number, payload: Buffer): void {
    if (this.handshakeWaiter !== undefined) {
      this.handshakeWaiter(type, payload);
      return;
    }
    assertReceivable(type, 'proxy', 'established');
    switch (type) {
      case MessageType.AgentResponse:
        return this.onResponse(payload);
      case MessageType.Pong:
        return this.onPong(payload);
      case MessageType.HealthStatus:
        return this.control(payload, (v) => this.held.emit('health', healthStatusFromWire(v)));
      case MessageType.MetricsReport:
        return this.control(payload, (v) => this.held.emit('metrics', metricsReportFromWire(v)));
      case MessageType.ConfigUpdateRequest:
        return this.control(payload, (v) => this.held.emit('config-update', configUpdateRequestFromWire(v)));
      case MessageType.FlowControl:
        return this.control(payload, (v) => this.held.emit('flow-control', flowControlFromWire(v)));
      default:
        throw protocolError(`Unexpected message type 0x${hex(type)} from agent`, { agentId: this.agentId });
    }
  }

  /** Spec §6.10. A payload that does not decode at all throws (the caller closes the connection). */
  private onResponse(payload: Buffer): void {
    const parsed = this.codec.parseResponse(payload);
    if (parsed.correlationId === null) {
      this.emit('unroutable-reply');
      return;
    }
    const call = this.calls.byReplyId(parsed.correlationId);
    if (call === undefined) {
      this.emit('late-reply', parsed.correlationId);
      return;
    }
    let response: AgentResponse;
    try {
      response = agentResponseFromWire(parsed.body);
    } catch (err) {
      this.settle(call, undefined, withIds(err, this.agentId, call.cid));
      return;
    }
    this.settle(call, response, undefined);
  }

  private onPong(payload: Buffer): void {
    const pong = decodePing(payload);
    const pending = this.pings.get(pong.sequence);
    if (pending === undefined) return;
    this.pings.delete(pong.sequence);
    clearTimeout(pending.timer);
    pending.resolve(Date.now() - pending.sentAt);
  }

  /** Control frames that do not decode are dropped and reported; the connection stays (spec §2.2 step 6). */
  private control(payload: Buffer, apply: (value: unknown) => void): void {
    try {
      apply(this.codec.decodeValue(payload));
    } catch (err) {
      this.emit('bad-control-frame', asProtocolError(err, this.agentId));
    }
  }

  private onTimeout(call: Call, timeoutMs: number): void {
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

  private onAbort(call: Call): void {
    if (this.calls.isOutstanding(call)) this.withdrawOrCancel(call, cancelReasonFor(call.cancelReason, call.signal));
    this.settle(call, undefined, abortError(call.signal?.reason, this.agentId, call.cid));
  }

  /** Not yet handed to the socket: withdraw it. Otherwise: Cancel on this connection (spec §10.9). */
  private withdrawOrCancel(call: Call, reason: CancelReason): void {
    if (call.queued !== undefined && !call.queued.written) {
      call.queued.withdrawn = true;
      return;
    }
    if (call.queued === undefined) return; // still waiting for room: nothing was sent
    const payload = encodeCancel({ correlationId: call.cid, reason, timestampMs: Date.now() });
    this.writer.enqueue(encodeFrame(MessageType.Cancel, payload));
  }

  /** The one place a call ends. Idempotent. */
  private settle(call: Call, response: AgentResponse | undefined, error: unknown): void {
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
  private fail(error: AgentPoolError | null): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    this.writer.close();
    this.socket.destroy();
    const reason = error ?? lost(this.agentId, 'connection closed by peer');
    const calls = this.calls.all();
    this.roomWaiting.length = 0;
    for (const call of calls) this.settle(call, undefined, withIds(reason, this.agentId, call.cid));
    for (const ping of this.pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(reason);
    }
    this.pings.clear();
    this.emit('close', error);
  }
}

function hex(type: number): string {
  return type.toString(16).padStart(2, '0');
}

/** ZAP_CONNECTION_LOST (spec §10.11): the socket went away with calls outstanding. */
const lost = connectionLost;

function handshakeFailed(agentId: string, why: string, cause?: unknown): AgentPoolError {
  return zapError(ErrorCode.HandshakeFailed, `Handshake with agent '${agentId}' failed: ${why}`, { agentId, cause });
}

function asProtocolError(err: unknown, agentId: string): AgentPoolError {
  if (err instanceof AgentPoolError) return err;
  return protocolError(err instanceof Error ? err.message : String(err), { agentId, cause: err });
}

/** The same error, carrying this call's agent and cid (a connection-wide error is shared by many calls). */
function withIds(err: unknown, agentId: string, correlationId: string): unknown {
  if (!(err instanceof AgentPoolError)) return err;
  if (err.agentId === agentId && err.correlationId === correlationId) return err;
  return new AgentPoolError(err.code, err.message, { agentId, correlationId, cause: err.cause });
}
