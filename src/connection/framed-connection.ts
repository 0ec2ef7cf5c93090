// Proxy side of one framed connection (UDS, reverse TCP/UDS): the handshake, and the framing of
// calls, Cancel, ping/pong and agent control frames over one socket. Calls in flight, deadlines,
// abort and exactly-once settlement are the call core's (call-core.ts).
import type { Socket } from 'node:net';
import { agentResponseFromWire } from '../protocol/agent-response.js';
import { encodeCancel } from '../protocol/cancel.js';
import { configUpdateRequestFromWire } from '../protocol/config-update.js';
import { AgentPoolError, ErrorCode, protocolError } from '../protocol/errors.js';
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
import type { AgentResponse, CancelReason, EncodingSetting, EventKind, EventMap, HandshakeResponse } from '../protocol/types.js';
import { FrameWriter, type QueuedFrame } from '../transport/frame-writer.js';
import { CallCore, type Call, type CallOptions, type ConnectionEvents } from './call-core.js';
import { asProtocolError, connectionLost, handshakeFailed, withIds } from './connection-errors.js';
import { docsDialectHandshake } from '../protocol/docs-dialect.js';

export type { CallCompletion, CallOptions } from './call-core.js';
/** The events of every pool connection (the name predates the gRPC transport). */
export type FramedConnectionEvents = ConnectionEvents;

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

/** A framed call is sent once its frame is in the writer's queue (withdrawable until written). */
type FramedCall = Call<QueuedFrame>;

export class FramedConnection extends CallCore<QueuedFrame> {
  readonly transport: 'uds' | 'reverse';
  private codec: PayloadCodec = jsonCodec;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  /** Calls waiting for room in the writer queue. */
  private readonly roomWaiting: FramedCall[] = [];
  private handshakeWaiter: ((type: number, payload: Buffer) => void) | undefined;

  constructor(
    private readonly socket: Socket,
    options: FramedConnectionOptions,
  ) {
    super(options.agentId, options.requestTimeoutMs ?? 30_000);
    this.transport = options.transport;
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
    socket.on('error', (err) => this.fail(connectionLost(this.agentId, err.message, err)));
    socket.on('close', () => this.fail(connectionLost(this.agentId, 'connection closed by peer')));
  }

  get encoding(): string {
    return this.codec.encoding;
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
          // Failure path only: a docs-dialect answer gets named instead of its misleading text.
          const dialect = type === MessageType.HandshakeResponse ? docsDialectHandshake(payload) : undefined;
          const e =
            dialect !== undefined
              ? handshakeFailed(this.agentId, dialect, err)
              : err instanceof AgentPoolError && err.code === ErrorCode.HandshakeFailed
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

  // -------------------------------------------------------------------------------------------

  /** Hands an outstanding call's frame to the writer, or waits for room in its queue. */
  protected write(call: FramedCall): void {
    if (this.writer.hasRoom && this.roomWaiting.length === 0) {
      call.sent = this.writer.enqueue(call.frame);
      return;
    }
    this.roomWaiting.push(call);
    if (this.roomWaiting.length === 1) void this.drainRoomWaiting();
  }

  private async drainRoomWaiting(): Promise<void> {
    while (this.roomWaiting.length > 0 && this.closedWith === undefined) {
      await this.writer.whenRoom();
      const call = this.roomWaiting.shift();
      if (call !== undefined && this.calls.isOutstanding(call)) call.sent = this.writer.enqueue(call.frame);
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
        return this.onPong(decodePing(payload).sequence);
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
    const parsed = this.codec.readReply(payload);
    if (parsed.correlationId === null) {
      this.emit('unroutable-reply');
      return;
    }
    const call = this.calls.byReplyId(parsed.correlationId);
    if (call === undefined) {
      this.emit('late-reply', parsed.correlationId);
      return;
    }
    // The JSON codec validates the common reply while reading it (json-reply-scanner.ts).
    let response = parsed.response;
    if (response === undefined) {
      try {
        response = agentResponseFromWire(parsed.body);
      } catch (err) {
        this.settle(call, undefined, withIds(err, this.agentId, call.cid));
        return;
      }
    }
    this.settle(call, response, undefined);
  }

  /** Control frames that do not decode are dropped and reported; the connection stays (spec §2.2 step 6). */
  private control(payload: Buffer, apply: (value: unknown) => void): void {
    try {
      apply(this.codec.decodeValue(payload));
    } catch (err) {
      this.emit('bad-control-frame', asProtocolError(err, this.agentId));
    }
  }

  protected writePing(sequence: number, sentAt: number): void {
    this.writer.enqueue(encodeFrame(MessageType.Ping, encodePing({ sequence, timestampMs: sentAt })));
  }

  /** Still in the writer's queue: withdrawn. Handed to the socket: Cancel on this connection (spec §10.9). */
  protected withdrawOrCancel(call: FramedCall, reason: CancelReason | null): void {
    const queued = call.sent;
    if (queued === undefined) return; // still waiting for room: nothing was sent
    if (!queued.written) {
      queued.withdrawn = true;
      return;
    }
    if (reason === null) return;
    const payload = encodeCancel({ correlationId: call.cid, reason, timestampMs: Date.now() });
    this.writer.enqueue(encodeFrame(MessageType.Cancel, payload));
  }

  protected shutDown(): void {
    this.writer.close();
    this.socket.destroy();
    this.roomWaiting.length = 0;
  }
}

function hex(type: number): string {
  return type.toString(16).padStart(2, '0');
}
