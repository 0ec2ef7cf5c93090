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
import { asProtocolError, handshakeFailed, lost, refused, withIds } from './grpc-errors.js';
import {
  agentToProxyFromProto,
  cancelToProto,
  pingToProto,
  proxyHandshakeToProto,
  type AgentToProxyMessage,
} from '../protocol/proto-mapping.js';
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
import type { CallOptions, FramedConnectionEvents } from './framed-connection.js';
import { relogAgentLog } from './grpc-log.js';
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

interface Call {
  readonly cid: string;
  /** The id the agent answers with: the cid, or a Configure's config_version. */
  readonly replyId: string;
  readonly frame: Buffer;
  readonly cancelReason: CancelReason | undefined;
  resolve: (r: AgentResponse) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Handed to grpc-js (a Cancel is needed from now on; before, withdrawing is enough). */
  written: boolean;
}

interface PendingPing {
  resolve: (rttMs: number) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

type Stream = grpc.ClientDuplexStream<Buffer, Buffer>;

export class GrpcConnection extends EventEmitter<FramedConnectionEvents> implements PoolConnection {
  readonly agentId: string;
  readonly encoding = GRPC_ENCODING;
  private readonly stream: Stream;
  private readonly requestTimeoutMs: number;
  private readonly maxSendBytes: number;
  private readonly channelBufferSize: number;
  /** The outstanding call per reply id (one per cid, spec §10.2). */
  private readonly outstanding = new Map<string, Call>();
  /** Later calls of a reply id that already has one outstanding, FIFO. */
  private readonly sameCidWaiting = new Map<string, Call[]>();
  /** Configure calls whose reply id differs from their cid, by cid (for cancel). */
  private readonly configures = new Map<string, Call>();
  /** Calls waiting for room in grpc-js' write buffer. */
  private readonly writeQueue: Call[] = [];
  private readonly pings = new Map<number, PendingPing>();
  private pingSequence = 0;
  private handshakeWaiter: ((msg: AgentToProxyMessage) => void) | undefined;
  private handshakeResult: HandshakeResponse | undefined;
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
    let waiting = 0;
    for (const list of this.sameCidWaiting.values()) waiting += list.length;
    return this.outstanding.size + waiting;
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
        if (!hs.success) return done(refused(this.agentId, `Handshake failed: ${hs.error ?? 'Unknown handshake error'}`));
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

  /**
   * Sends an encoded ProxyToAgent event. `timeoutMs: Infinity` arms no timer (the caller owns the
   * deadline and calls `cancel`). A Configure is acknowledged by the reply carrying its
   * config_version when the agent announced config_push; otherwise it is fire-and-forget (Rust
   * agents never answer it) and resolves with an Allow as soon as it is written (spec §10.7). Not
   * marked `synthetic`: that flag means "agent unavailable" to the pool (failure-mode open).
   */
  sendFrame(frame: Buffer, correlationId: string, options: CallOptions = {}): Promise<AgentResponse> {
    if (this.closedWith !== undefined) return Promise.reject(withIds(this.closedWith, this.agentId, correlationId));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason, this.agentId, correlationId));
    if (frame.length > this.maxSendBytes) {
      return Promise.reject(
        zapError(ErrorCode.FrameTooLarge, `Event of ${frame.length} bytes exceeds the gRPC send limit of ${this.maxSendBytes} bytes`, {
          agentId: this.agentId,
          correlationId,
        }),
      );
    }
    let replyId = correlationId;
    if (frame[0] === CONFIGURE_TAG) {
      try {
        replyId = configureReplyId(frame) ?? correlationId;
      } catch (err) {
        return Promise.reject(withIds(err, this.agentId, correlationId));
      }
      if (this.handshakeResult?.capabilities.features.configPush !== true) {
        this.writeControl(frame);
        return Promise.resolve(fireAndForgetAllow());
      }
    }
    return new Promise<AgentResponse>((resolve, reject) => {
      const call: Call = {
        cid: correlationId,
        replyId,
        frame,
        cancelReason: options.cancelReason,
        resolve,
        reject,
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
      if (replyId !== correlationId) this.configures.set(correlationId, call);
      const busy = this.sameCidWaiting.get(replyId);
      if (busy !== undefined) busy.push(call);
      else if (this.outstanding.has(replyId)) this.sameCidWaiting.set(replyId, [call]);
      else this.dispatch(call);
    });
  }

  /** Sends a CancelRequest for the outstanding event of `cid` (if any) and rejects its call with ABORT_ERR. */
  cancel(correlationId: string, reason: CancelReason = 'manual'): boolean {
    const call = this.configures.get(correlationId) ?? this.outstanding.get(correlationId);
    if (call === undefined || this.outstanding.get(call.replyId) !== call) return false;
    this.withdrawOrCancel(call, reason);
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

  /** Ends the stream and the channel; outstanding calls fail with ZAP_ERROR. */
  close(): void {
    this.fail(lost(this.agentId, 'connection closed locally'));
  }

  // -------------------------------------------------------------------------------------------

  private writeControl(bytes: Buffer): void {
    if (this.closedWith === undefined) this.stream.write(bytes);
  }

  private dispatch(call: Call): void {
    this.outstanding.set(call.replyId, call);
    if (this.writeQueue.length === 0 && this.stream.writableLength < this.channelBufferSize) {
      call.written = true;
      this.stream.write(call.frame, this.onWritten);
    } else {
      this.writeQueue.push(call);
    }
  }

  /** grpc-js has room again: hand over queued events that are still wanted. */
  /** Write callback shared by every event (no per-message closure): room again, hand over more. */
  private readonly onWritten = (): void => {
    if (this.writeQueue.length > 0) this.flushWriteQueue();
  };

  private flushWriteQueue(): void {
    let i = 0;
    while (i < this.writeQueue.length && this.stream.writableLength < this.channelBufferSize && this.closedWith === undefined) {
      const call = this.writeQueue[i++] as Call;
      if (this.outstanding.get(call.replyId) !== call || call.written) continue;
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
        return void this.emit('health', msg.health);
      case 'metrics':
        return void this.emit('metrics', msg.metrics);
      case 'config_update':
        return void this.emit('config-update', msg.configUpdate);
      case 'flow_control':
        return void this.emit('flow-control', msg.flowControl);
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
    const call = this.outstanding.get(replyId);
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
    else this.fail(lost(this.agentId, `stream failed with gRPC status ${status.code} (${grpc.status[status.code]}): ${status.details}`));
  }

  private onTimeout(call: Call, timeoutMs: number): void {
    call.timer = undefined;
    if (this.outstanding.get(call.replyId) === call) this.withdrawOrCancel(call, 'timeout');
    this.settle(
      call,
      undefined,
      zapError(ErrorCode.Timeout, `Agent '${this.agentId}' did not answer within ${timeoutMs} ms`, { agentId: this.agentId, correlationId: call.cid }),
    );
  }

  private onAbort(call: Call): void {
    if (this.outstanding.get(call.replyId) === call) this.withdrawOrCancel(call, cancelReasonFor(call.cancelReason, call.signal));
    this.settle(call, undefined, abortError(call.signal?.reason, this.agentId, call.cid));
  }

  /** Still queued here: withdrawn by settling (the flush skips it). Handed over: CancelRequest (§10.9). */
  private withdrawOrCancel(call: Call, reason: CancelReason): void {
    if (!call.written) return;
    this.writeControl(encodeProxyToAgent(cancelToProto({ correlationId: call.cid, reason, timestampMs: Date.now() })));
  }

  /** The one place a call ends. Idempotent. */
  private settle(call: Call, response: AgentResponse | undefined, error: unknown): void {
    if (call.resolve === noop) return;
    const { resolve, reject } = call;
    call.resolve = noop;
    call.reject = noop;
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    if (call.replyId !== call.cid && this.configures.get(call.cid) === call) this.configures.delete(call.cid);
    if (this.outstanding.get(call.replyId) === call) {
      this.outstanding.delete(call.replyId);
      const next = this.sameCidWaiting.get(call.replyId);
      if (next !== undefined) {
        const following = next.shift();
        if (next.length === 0) this.sameCidWaiting.delete(call.replyId);
        if (following !== undefined && this.closedWith === undefined) this.dispatch(following);
      }
    } else {
      const list = this.sameCidWaiting.get(call.replyId);
      const at = list?.indexOf(call) ?? -1;
      if (list !== undefined && at >= 0) {
        list.splice(at, 1);
        if (list.length === 0) this.sameCidWaiting.delete(call.replyId);
      }
    }
    if (error === undefined) resolve(response as AgentResponse);
    else reject(error);
  }

  /** Ends the connection once; every call and ping still open fails with `error`. */
  private fail(error: AgentPoolError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    this.stream.cancel();
    this.client.close();
    const calls = [...this.outstanding.values(), ...[...this.sameCidWaiting.values()].flat()];
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

function noop(): void {}

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
