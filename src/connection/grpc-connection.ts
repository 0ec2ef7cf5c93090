// Proxy side of one gRPC pool connection (spec §8.4): one long-lived ProcessStream, many events in
// flight matched by correlation id, per-call deadline, abort → CancelRequest, ping/pong, agent
// control messages surfaced as events. Every call settles exactly once: reply, timeout, abort,
// malformed reply, or the stream ending (trailers, RST, GOAWAY, transport error).
//
// Bytes go out as the router encoded them (ProxyToAgent protobuf, see grpc-event-encoder.ts) and
// come in raw; each inbound message is decoded once here.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { AgentPoolError, ErrorCode, protocolError, zapError } from '../protocol/errors.js';
import {
  agentToProxyFromProto,
  cancelToProto,
  pingToProto,
  proxyHandshakeToProto,
  type AgentToProxyMessage,
} from '../protocol/proto-mapping.js';
import { quotedPeerText } from '../protocol/peer-text.js';
import type { AgentResponse, CancelReason, Capabilities, EventKind, EventMap, HandshakeResponse } from '../protocol/types.js';
import { PROTOCOL_VERSION } from '../protocol/types.js';
import {
  CONFIGURE_TAG,
  PROCESS_STREAM_PATH,
  configureReplyId,
  decodeAgentToProxy,
  encodeProxyToAgent,
  identityBytes,
} from '../transport/grpc-codec.js';
import { grpcEventEncoder, GRPC_ENCODING } from '../transport/grpc-event-encoder.js';
import { abortError } from './abort-error.js';
import { cancelReasonFor } from './cancel-reason.js';
import type { CallCompletion, CallOptions, FramedConnectionEvents } from './framed-connection.js';
import { CallTable, type TableCall } from './call-table.js';
import { asProtocolError, handshakeFailed, lost, refused, withIds } from './grpc-errors.js';
import { relogAgentLog } from './grpc-log.js';
import { HeldControlEvents } from './held-control-events.js';
import { peerText } from '../protocol/peer-text.js';
import type { PoolConnection } from './pool-connection.js';

export interface GrpcConnectionOptions {
  agentId: string;
  requestTimeoutMs?: number;
  /** Events larger than this fail with ZAP_FRAME_TOO_LARGE (default 4 194 304, spec §8.4 step 6). */
  maxSendBytes?: number;
  /** Events handed to grpc-js at most; later ones wait here and can still be withdrawn (default 64). */
  channelBufferSize?: number;
}

export interface GrpcHandshakeOptions {
  proxyVersion: string;
  config: unknown;
  handshakeTimeoutMs: number;
}

interface PendingPing {
  resolve: (rttMs: number) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

type Stream = grpc.ClientDuplexStream<Buffer, Buffer>;

/** One event call on a gRPC stream. */
interface GrpcCall extends TableCall {
  readonly cid: string;
  /** The id the agent answers with: the cid, or a Configure's config_version. */
  readonly replyId: string;
  readonly frame: Buffer;
  readonly cancelReason: CancelReason | undefined;
  /** Cleared when the call settles. */
  done: CallCompletion | undefined;
  readonly token: number;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Handed to grpc-js (a Cancel is needed from now on; before, withdrawing is enough). */
  written: boolean;
}

export class GrpcConnection extends EventEmitter<FramedConnectionEvents> implements PoolConnection {
  readonly agentId: string;
  readonly encoding = GRPC_ENCODING;
  private readonly stream: Stream;
  private readonly requestTimeoutMs: number;
  private readonly maxSendBytes: number;
  private readonly channelBufferSize: number;
  private readonly calls = new CallTable<GrpcCall>();
  /** Calls waiting for room in grpc-js' write buffer. */
  private readonly writeQueue: GrpcCall[] = [];
  private readonly pings = new Map<number, PendingPing>();
  private pingSequence = 0;
  private handshakeWaiter: ((msg: AgentToProxyMessage) => void) | undefined;
  private handshakeResult: HandshakeResponse | undefined;
  /** Control messages that arrive before the owner listens (right behind the handshake) wait here. */
  private readonly held = new HeldControlEvents(this);
  private closedWith: AgentPoolError | undefined;
  lastInboundAt = Date.now();

  constructor(
    private readonly client: grpc.Client,
    options: GrpcConnectionOptions,
  ) {
    super();
    this.agentId = options.agentId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxSendBytes = options.maxSendBytes ?? 4_194_304;
    this.channelBufferSize = options.channelBufferSize ?? 64;
    this.stream = client.makeBidiStreamRequest(PROCESS_STREAM_PATH, identityBytes, identityBytes);
    this.stream.on('data', (bytes: Buffer) => this.onMessage(bytes));
    // 'error' precedes 'status' for a non-OK status; 'status' alone decides how the stream ended.
    this.stream.on('error', () => {});
    this.stream.on('status', (status: grpc.StatusObject) => this.onStatus(status));
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
  get inFlight(): number {
    return this.calls.size;
  }
  whenIdle(): Promise<boolean> {
    return this.calls.whenEmpty();
  }

  /** Spec §8.4 steps 3–4: the first message out is the handshake; the first one in must answer it. */
  performHandshake(o: GrpcHandshakeOptions): Promise<HandshakeResponse> {
    return new Promise<HandshakeResponse>((resolve, reject) => {
      const done = (err: AgentPoolError | undefined, response?: HandshakeResponse) => {
        clearTimeout(timer);
        this.handshakeWaiter = undefined;
        this.off('close', onClose);
        if (err === undefined) return resolve(response as HandshakeResponse);
        this.fail(err);
        reject(err);
      };
      const timer = setTimeout(() => done(handshakeFailed(this.agentId, 'handshake timeout')), o.handshakeTimeoutMs);
      const onClose = (err: AgentPoolError | null) => {
        if (this.handshakeWaiter === undefined) return;
        done(handshakeFailed(this.agentId, err?.message ?? 'stream closed during handshake', err ?? undefined));
      };
      this.on('close', onClose);
      this.handshakeWaiter = (msg) => {
        // Spec §8.4 step 4, in this order, with these texts.
        if (msg.type !== 'handshake') return done(refused(this.agentId, 'Invalid handshake response'));
        const hs = msg.handshake;
        if (!hs.success) return done(refused(this.agentId, `Handshake failed: ${hs.error === null ? 'Unknown handshake error' : peerText(hs.error)}`));
        if (hs.protocolVersion !== PROTOCOL_VERSION) {
          return done(refused(this.agentId, `Protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${hs.protocolVersion}`));
        }
        this.handshakeResult = hs;
        done(undefined, hs);
      };
      this.writeControl(encodeProxyToAgent(proxyHandshakeToProto(o.proxyVersion, o.config)));
    });
  }

  /** Encodes and sends one event (standalone use; the pool encodes on the router and calls sendFrame). */
  send<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string, options: CallOptions = {}): Promise<AgentResponse> {
    let frame: Buffer;
    try {
      frame = grpcEventEncoder.encode(kind, event, correlationId);
    } catch (err) {
      return Promise.reject(withIds(err, this.agentId, correlationId));
    }
    return this.sendFrame(frame, correlationId, options);
  }

  /** Sends an encoded ProxyToAgent event and resolves with the agent's reply (see sendFrameWith). */
  sendFrame(frame: Buffer, correlationId: string, options: CallOptions = {}): Promise<AgentResponse> {
    return new Promise<AgentResponse>((resolve, reject) => {
      this.sendFrameWith(frame, correlationId, options, 0, (_token, error, response) => {
        if (error === undefined) resolve(response as AgentResponse);
        else reject(error);
      });
    });
  }

  /**
   * Callback form for hosts on the hot path: `done(token, error, response)` runs exactly once
   * (synchronously for an immediate failure); no promise or closure per call. `timeoutMs: Infinity`
   * arms no timer (the caller owns the deadline and calls `cancel`). A Configure is acknowledged by
   * the reply carrying its config_version when the agent announced config_push; otherwise it is
   * fire-and-forget (Rust agents never answer it) and completes with an Allow once written (spec
   * §10.7) — not marked `synthetic`, which means "agent unavailable" to the pool.
   */
  sendFrameWith(frame: Buffer, correlationId: string, options: CallOptions, token: number, done: CallCompletion): void {
    if (this.closedWith !== undefined) return done(token, withIds(this.closedWith, this.agentId, correlationId), undefined);
    const signal = options.signal;
    if (signal?.aborted) return done(token, abortError(signal.reason, this.agentId, correlationId), undefined);
    if (frame.length > this.maxSendBytes) {
      const why = `Event of ${frame.length} bytes exceeds the gRPC send limit of ${this.maxSendBytes} bytes`;
      return done(token, zapError(ErrorCode.FrameTooLarge, why, { agentId: this.agentId, correlationId }), undefined);
    }
    let replyId = correlationId;
    if (frame[0] === CONFIGURE_TAG) {
      try {
        replyId = configureReplyId(frame) ?? correlationId;
      } catch (err) {
        return done(token, withIds(err, this.agentId, correlationId), undefined);
      }
      if (this.handshakeResult?.capabilities.features.configPush !== true) return this.writeFireAndForget(frame, correlationId, token, done);
    }
    const call: GrpcCall = {
      cid: correlationId,
      replyId,
      frame,
      cancelReason: options.cancelReason,
      done,
      token,
      timer: undefined,
      signal,
      onAbort: undefined,
      written: false,
    };
    const timeoutMs = options.timeoutMs === Infinity ? Infinity : Math.min(options.timeoutMs ?? this.requestTimeoutMs, this.requestTimeoutMs);
    if (timeoutMs !== Infinity) call.timer = setTimeout(() => this.onTimeout(call, timeoutMs), timeoutMs);
    if (signal !== undefined) {
      call.onAbort = () => this.onAbort(call);
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    if (this.calls.add(call)) this.write(call);
  }

  /**
   * Ends the outstanding call of `cid` with ABORT_ERR: withdrawn if grpc-js does not have it yet,
   * else a CancelRequest goes out (not when `silent`).
   */
  cancel(correlationId: string, reason: CancelReason = 'manual', silent = false): boolean {
    const call = this.calls.outstandingByCid(correlationId);
    if (call === undefined) return false;
    if (!silent) this.withdrawOrCancel(call, reason);
    this.settle(call, undefined, abortError(reason, this.agentId, correlationId));
    return true;
  }

  /** Liveness ping (spec §7.2): Ping{sequence, timestamp_ms} → Pong; resolves with the round trip in ms. */
  ping(timeoutMs = 5_000): Promise<number> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const sequence = this.pingSequence++;
    const sentAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(sequence);
        reject(zapError(ErrorCode.Timeout, `Ping ${sequence} got no Pong within ${timeoutMs} ms`, { agentId: this.agentId }));
      }, timeoutMs);
      this.pings.set(sequence, { resolve, reject, timer, sentAt });
      this.writeControl(encodeProxyToAgent(pingToProto({ sequence, timestampMs: sentAt })));
    });
  }

  /** Ends the stream and the channel; outstanding calls fail with ZAP_CONNECTION_LOST. */
  close(): void {
    this.fail(lost(this.agentId, 'connection closed locally'));
  }

  // -------------------------------------------------------------------------------------------

  /**
   * A Configure nobody acknowledges: completes with an Allow once grpc-js has taken the bytes (not
   * before — a caller that closes right after would cancel an unsent Configure), or with the
   * connection's error if it closes first.
   */
  private writeFireAndForget(frame: Buffer, correlationId: string, token: number, done: CallCompletion): void {
    let finished = false;
    const finish = (error: unknown): void => {
      if (finished) return;
      finished = true;
      this.off('close', onClose);
      done(token, error, error === undefined ? fireAndForgetAllow() : undefined);
    };
    const onClose = (err: AgentPoolError | null) => finish(withIds(err ?? lost(this.agentId, 'stream closed'), this.agentId, correlationId));
    this.on('close', onClose);
    this.stream.write(frame, (err?: Error | null) => finish(err == null ? undefined : withIds(lost(this.agentId, err.message), this.agentId, correlationId)));
  }

  /**
   * Ends our side of the stream after everything written so far, and waits up to `timeoutMs` for the
   * agent to end its side (a reply sent meanwhile is still read); then the connection is closed.
   */
  async end(timeoutMs: number): Promise<void> {
    if (this.closedWith !== undefined) return;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    const timer = setTimeout(() => this.close(), timeoutMs);
    this.stream.end();
    await closed;
    clearTimeout(timer);
  }

  private writeControl(bytes: Buffer): void {
    if (this.closedWith === undefined) this.stream.write(bytes);
  }

  /** Hands an outstanding call to grpc-js, or queues it (withdrawable) while grpc-js is full. */
  private write(call: GrpcCall): void {
    if (this.writeQueue.length === 0 && this.stream.writableLength < this.channelBufferSize) {
      call.written = true;
      this.stream.write(call.frame, this.onWritten);
    } else {
      this.writeQueue.push(call);
    }
  }

  /** Write callback shared by every event (no per-message closure): room again, hand over more. */
  private readonly onWritten = (): void => {
    if (this.writeQueue.length > 0) this.flushWriteQueue();
  };

  /** grpc-js has room again: hand over queued events that are still wanted. */
  private flushWriteQueue(): void {
    let i = 0;
    while (i < this.writeQueue.length && this.stream.writableLength < this.channelBufferSize && this.closedWith === undefined) {
      const call = this.writeQueue[i++] as GrpcCall;
      if (!this.calls.isOutstanding(call) || call.written) continue;
      call.written = true;
      this.stream.write(call.frame, this.onWritten);
    }
    this.writeQueue.splice(0, i);
  }

  private onMessage(bytes: Buffer): void {
    if (this.closedWith !== undefined) return;
    this.lastInboundAt = Date.now();
    let decoded;
    try {
      decoded = decodeAgentToProxy(bytes);
    } catch (err) {
      // Not an AgentToProxy at all: spec §6.10 step 1, the connection closes (all its calls fail).
      this.fail(asProtocolError(err, this.agentId));
      return;
    }
    let msg: AgentToProxyMessage;
    try {
      msg = agentToProxyFromProto(decoded);
    } catch (err) {
      // Decodes, but a JSON text field inside does not parse: dropped, the connection stays
      // (during the handshake it is simply not the handshake answer).
      if (this.handshakeWaiter !== undefined) this.handshakeWaiter({ type: 'unknown' });
      else this.emit('bad-control-frame', asProtocolError(err, this.agentId));
      return;
    }
    if (this.handshakeWaiter !== undefined) {
      this.handshakeWaiter(msg);
      return;
    }
    switch (msg.type) {
      case 'response':
        return this.onResponse(msg.correlationId, msg.response);
      case 'pong':
        return this.onPong(msg.pong.sequence);
      case 'health':
        return this.held.emit('health', msg.health);
      case 'metrics':
        return this.held.emit('metrics', msg.metrics);
      case 'config_update':
        return this.held.emit('config-update', msg.configUpdate);
      case 'flow_control':
        return this.held.emit('flow-control', msg.flowControl);
      case 'log':
        if (this.listenerCount('log') > 0) this.emit('log', msg.log);
        else relogAgentLog(this.agentId, msg.log);
        return;
      case 'handshake':
        return this.fail(protocolError('Unexpected second handshake from agent', { agentId: this.agentId }));
      default:
        this.emit('bad-control-frame', protocolError('Empty or unknown AgentToProxy message', { agentId: this.agentId }));
    }
  }

  /** Spec §6.10 steps 3–5, by field 1 `correlation_id` (§8.4). */
  private onResponse(replyId: string, response: AgentResponse): void {
    const call = this.calls.byReplyId(replyId);
    if (call === undefined) {
      if (replyId === '') this.emit('unroutable-reply');
      else this.emit('late-reply', replyId);
      return;
    }
    this.settle(call, response, undefined);
  }

  private onPong(sequence: number): void {
    const pending = this.pings.get(sequence);
    if (pending === undefined) return;
    this.pings.delete(sequence);
    clearTimeout(pending.timer);
    pending.resolve(Date.now() - pending.sentAt);
  }

  private onStatus(status: grpc.StatusObject): void {
    if (status.code === grpc.status.OK) this.fail(lost(this.agentId, 'stream ended by the agent'));
    // The details are the agent's text: bounded and escaped before they reach a message or a log.
    else this.fail(lost(this.agentId, `stream failed with gRPC status ${status.code} (${grpc.status[status.code]}): ${quotedPeerText(status.details)}`));
  }

  private onTimeout(call: GrpcCall, timeoutMs: number): void {
    call.timer = undefined;
    if (this.calls.isOutstanding(call)) this.withdrawOrCancel(call, 'timeout');
    this.settle(
      call,
      undefined,
      zapError(ErrorCode.Timeout, `Agent '${this.agentId}' did not answer within ${timeoutMs} ms`, { agentId: this.agentId, correlationId: call.cid }),
    );
  }

  private onAbort(call: GrpcCall): void {
    if (this.calls.isOutstanding(call)) this.withdrawOrCancel(call, cancelReasonFor(call.cancelReason, call.signal));
    this.settle(call, undefined, abortError(call.signal?.reason, this.agentId, call.cid));
  }

  /** Still queued here: withdrawn by settling (the flush skips it). Handed over: CancelRequest (§10.9). */
  private withdrawOrCancel(call: GrpcCall, reason: CancelReason): void {
    if (!call.written) return;
    this.writeControl(encodeProxyToAgent(cancelToProto({ correlationId: call.cid, reason, timestampMs: Date.now() })));
  }

  /** The one place a call ends. Idempotent. */
  private settle(call: GrpcCall, response: AgentResponse | undefined, error: unknown): void {
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

  /** Ends the connection once; every call and ping still open fails with `error`. */
  private fail(error: AgentPoolError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    this.stream.cancel();
    this.client.close();
    const calls = this.calls.all();
    this.writeQueue.length = 0;
    for (const call of calls) this.settle(call, undefined, withIds(error, this.agentId, call.cid));
    for (const ping of this.pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(error);
    }
    this.pings.clear();
    this.emit('close', error);
  }
}

function fireAndForgetAllow(): AgentResponse {
  return {
    version: PROTOCOL_VERSION,
    decision: { type: 'allow' },
    requestHeaders: [],
    responseHeaders: [],
    routingMetadata: {},
    audit: { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: {} },
    needsMore: false,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
  };
}
