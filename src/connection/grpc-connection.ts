// Proxy side of one gRPC pool connection (spec §8.4): one long-lived ProcessStream carrying the
// handshake, events, CancelRequest, ping/pong and agent control messages. Calls in flight,
// deadlines, abort and exactly-once settlement are the call core's (call-core.ts); the stream
// ending (trailers, RST, GOAWAY, transport error) fails them all.
//
// Bytes go out as the router encoded them (ProxyToAgent protobuf, see grpc-event-encoder.ts) and
// come in raw; each inbound message is decoded once here.
import * as grpc from '@grpc/grpc-js';
import { allowResponse } from '../protocol/agent-response.js';
import { ErrorCode, protocolError, zapError, type AgentPoolError } from '../protocol/errors.js';
import {
  agentToProxyFromProto,
  cancelToProto,
  pingToProto,
  proxyHandshakeToProto,
  type AgentToProxyMessage,
} from '../protocol/proto-mapping.js';
import { quotedPeerText } from '../protocol/peer-text.js';
import type { AgentResponse, CancelReason, EventKind, EventMap, HandshakeResponse } from '../protocol/types.js';
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
import { CallCore, type Call, type CallCompletion, type CallOptions } from './call-core.js';
import { asProtocolError, connectionLost, handshakeFailed, handshakeRefused, withIds } from './connection-errors.js';
import { relogAgentLog } from './grpc-log.js';
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

type Stream = grpc.ClientDuplexStream<Buffer, Buffer>;

/** One event call on the stream; `sent` once handed to grpc-js (from then on it takes a Cancel; before, settling withdraws it). */
type GrpcCall = Call<true>;

export class GrpcConnection extends CallCore<true> implements PoolConnection {
  readonly encoding = GRPC_ENCODING;
  private readonly stream: Stream;
  private readonly maxSendBytes: number;
  private readonly channelBufferSize: number;
  /** Calls waiting for room in grpc-js' write buffer. */
  private readonly writeQueue: GrpcCall[] = [];
  private handshakeWaiter: ((msg: AgentToProxyMessage) => void) | undefined;

  constructor(
    private readonly client: grpc.Client,
    options: GrpcConnectionOptions,
  ) {
    super(options.agentId, options.requestTimeoutMs ?? 30_000);
    this.maxSendBytes = options.maxSendBytes ?? 4_194_304;
    this.channelBufferSize = options.channelBufferSize ?? 64;
    this.stream = client.makeBidiStreamRequest(PROCESS_STREAM_PATH, identityBytes, identityBytes);
    this.stream.on('data', (bytes: Buffer) => this.onMessage(bytes));
    // 'error' precedes 'status' for a non-OK status; 'status' alone decides how the stream ended.
    this.stream.on('error', () => {});
    this.stream.on('status', (status: grpc.StatusObject) => this.onStatus(status));
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
        if (msg.type !== 'handshake') return done(handshakeRefused(this.agentId, 'Invalid handshake response'));
        const hs = msg.handshake;
        if (!hs.success)
          return done(
            handshakeRefused(this.agentId, `Handshake failed: ${hs.error === null ? 'Unknown handshake error' : peerText(hs.error)}`),
          );
        if (hs.protocolVersion !== PROTOCOL_VERSION) {
          return done(handshakeRefused(this.agentId, `Protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${hs.protocolVersion}`));
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
   * Callback form for hosts on the hot path (see CallCore.sendFrameWith). Events larger than
   * maxSendBytes fail with ZAP_FRAME_TOO_LARGE. A Configure is acknowledged by the reply carrying
   * its config_version when the agent announced config_push; otherwise it is fire-and-forget (Rust
   * agents never answer it) and completes with an Allow once written (spec §10.7) — not marked
   * `synthetic`, which means "agent unavailable" to the pool.
   */
  override sendFrameWith(frame: Buffer, correlationId: string, options: CallOptions, token: number, done: CallCompletion): void {
    if (frame.length <= this.maxSendBytes && frame[0] !== CONFIGURE_TAG) {
      this.startCall(frame, correlationId, correlationId, options, token, done);
      return;
    }
    // Closed or aborted wins over a bad frame, as on the plain path.
    if (this.refuses(correlationId, options.signal, token, done)) return;
    if (frame.length > this.maxSendBytes) {
      const why = `Event of ${frame.length} bytes exceeds the gRPC send limit of ${this.maxSendBytes} bytes`;
      return done(token, zapError(ErrorCode.FrameTooLarge, why, { agentId: this.agentId, correlationId }), undefined);
    }
    let replyId: string;
    try {
      replyId = configureReplyId(frame) ?? correlationId;
    } catch (err) {
      return done(token, withIds(err, this.agentId, correlationId), undefined);
    }
    if (this.handshakeResult?.capabilities.features.configPush !== true) return this.writeFireAndForget(frame, correlationId, token, done);
    this.startCall(frame, correlationId, replyId, options, token, done);
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
      done(token, error, error === undefined ? allowResponse() : undefined);
    };
    const onClose = (err: AgentPoolError | null) =>
      finish(withIds(err ?? connectionLost(this.agentId, 'stream closed'), this.agentId, correlationId));
    this.on('close', onClose);
    this.stream.write(frame, (err?: Error | null) =>
      finish(err == null ? undefined : withIds(connectionLost(this.agentId, err.message), this.agentId, correlationId)),
    );
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
  protected write(call: GrpcCall): void {
    if (this.writeQueue.length === 0 && this.stream.writableLength < this.channelBufferSize) {
      call.sent = true;
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
      if (!this.calls.isOutstanding(call) || call.sent === true) continue;
      call.sent = true;
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

  private onStatus(status: grpc.StatusObject): void {
    if (status.code === grpc.status.OK) this.fail(connectionLost(this.agentId, 'stream ended by the agent'));
    // The details are the agent's text: bounded and escaped before they reach a message or a log.
    else
      this.fail(
        connectionLost(
          this.agentId,
          `stream failed with gRPC status ${status.code} (${grpc.status[status.code]}): ${quotedPeerText(status.details)}`,
        ),
      );
  }

  protected writePing(sequence: number, sentAt: number): void {
    this.writeControl(encodeProxyToAgent(pingToProto({ sequence, timestampMs: sentAt })));
  }

  /** Still queued here: withdrawn by settling (the flush skips it). Handed over: CancelRequest (§10.9). */
  protected withdrawOrCancel(call: GrpcCall, reason: CancelReason | null): void {
    if (call.sent !== true || reason === null) return;
    this.writeControl(encodeProxyToAgent(cancelToProto({ correlationId: call.cid, reason, timestampMs: Date.now() })));
  }

  protected shutDown(): void {
    this.stream.cancel();
    this.client.close();
    this.writeQueue.length = 0;
  }
}
