// Agent side of one gRPC ProcessStream (spec §8): handshake first, then events to the handler
// (answered as each finishes, out of order), CancelRequest aborts, Ping → Pong, and the agent's
// own control messages (health, metrics, flow control, config updates, logs) out. What happens to
// a decoded event is the dispatch core shared with UDS (event-dispatch-core.ts); this file owns the
// gRPC messages.
//
// Every message received gets an answer: an event its AgentResponse (Allow when it cannot be
// decoded, §6.10), a Ping its Pong, a Cancel nothing by design (§7.1); anything we cannot use
// (bytes that are not a ProxyToAgent, an empty or unknown message) an error LogMessage naming the
// problem — the stream stays up, so a newer proxy's additions do not kill it. Before the handshake
// only a handshake is accepted: anything else ends the stream with FAILED_PRECONDITION.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { answerHandshake, handshakeRefusal } from '../protocol/handshake.js';
import {
  configUpdateToProto,
  flowControlToProto,
  handshakeResponseToProto,
  healthToProto,
  logToProto,
  metricsToProto,
  pongToProto,
  proxyToAgentFromProto,
  type PbAgentToProxy,
  type PbProxyToAgent,
  type ProxyToAgentMessage,
} from '../protocol/proto-mapping.js';
import type { Capabilities, ConfigUpdateRequest, FlowControlSignal, HealthStatus, LogMessage, MetricsReport } from '../protocol/types.js';
import { decodeProxyToAgent, encodeAgentToProxy } from '../transport/grpc-codec.js';
import type { EventDispatcher, HandlerErrorSink } from './event-runner.js';
import { EventDispatchCore, newDispatchStats, type DispatchStats } from './event-dispatch-core.js';
import { bestEffortEventCid, encodeGrpcReply, type DroppedFieldsSink } from './grpc-reply.js';

export interface GrpcAgentStreamOptions {
  agentId: string;
  dispatcher: EventDispatcher;
  capabilities: Capabilities;
  /** Time the proxy has to send its handshake after opening the stream. */
  handshakeTimeoutMs: number;
  onHandlerError?: HandlerErrorSink;
  /** A reply lost fields gRPC cannot carry (spec §8.5): their wire names. */
  onDroppedFields?: DroppedFieldsSink;
}

export interface GrpcAgentStreamStats extends DispatchStats {
  /** Messages answered with an error log (undecodable, empty or unknown). */
  unusableMessages: number;
}

type Phase = 'handshake' | 'established' | 'closed';
type ServerStream = grpc.ServerDuplexStream<Buffer, Buffer>;

const LOG_LEVEL_ERROR = 4;

/** Events: 'ready', 'refused' (error text), 'close'. */
export class GrpcAgentStream extends EventEmitter {
  readonly transport = 'grpc' as const;
  readonly stats: GrpcAgentStreamStats = { ...newDispatchStats(), unusableMessages: 0 };
  readonly #call: ServerStream;
  readonly #o: GrpcAgentStreamOptions;
  readonly #events: EventDispatchCore<Buffer>;
  #phase: Phase = 'handshake';
  #halfClosed = false;
  #readPaused = false;
  #handshakeTimer: NodeJS.Timeout | undefined;

  constructor(call: ServerStream, o: GrpcAgentStreamOptions) {
    super();
    this.#call = call;
    this.#o = o;
    this.#events = new EventDispatchCore(
      { ...o, transport: 'grpc' },
      {
        encodeReply: (response, cid) => encodeGrpcReply(response, cid, o.onDroppedFields),
        writeReply: (bytes) => this.#writeBytes(bytes),
        // The proxy half-closed: we end our side once the last event in flight is answered.
        settled: () => {
          if (this.#halfClosed && this.#events.inFlight === 0) this.close();
        },
      },
      this.stats,
    );
    call.on('data', (bytes: Buffer) => this.#onMessage(bytes));
    call.on('end', () => this.#onHalfClose());
    call.on('drain', () => this.#onDrain());
    call.on('error', () => this.#closed());
    call.on('cancelled', () => this.#closed());
    call.on('close', () => this.#closed());
    // Response headers now, not with our first message: the reference proxy (tonic) waits for them
    // before it writes its handshake, and that handshake is what our first message answers.
    call.sendMetadata(new grpc.Metadata());
    this.#handshakeTimer = setTimeout(
      () => this.#endWithStatus(grpc.status.DEADLINE_EXCEEDED, 'no handshake received in time'),
      o.handshakeTimeoutMs,
    );
    this.#handshakeTimer.unref();
  }

  get established(): boolean {
    return this.#phase === 'established';
  }
  get inFlight(): number {
    return this.#events.inFlight;
  }
  /** The proxy's address as grpc-js reports it (`ip:port`). */
  get peer(): string {
    return this.#call.getPeer();
  }

  /** §7.4 / §7.5 / §7.7 / §7.6 / §7.3: agent → proxy control messages (after the handshake only). */
  sendHealth(h: HealthStatus): void {
    this.#sendControl(healthToProto(h));
  }
  sendMetrics(m: MetricsReport): void {
    this.#sendControl(metricsToProto(m));
  }
  sendFlowControl(f: FlowControlSignal): void {
    this.#sendControl(flowControlToProto(f));
  }
  sendConfigUpdate(r: ConfigUpdateRequest): void {
    this.#sendControl(configUpdateToProto(r));
  }
  sendLog(l: LogMessage): void {
    this.#sendControl(logToProto(l));
  }

  /** Ends the stream (status OK); in-flight handlers see their signal abort, their replies are dropped. */
  close(): void {
    if (this.#phase === 'closed') return;
    this.#events.close();
    this.#phase = 'closed';
    clearTimeout(this.#handshakeTimer);
    if (!this.#call.writableEnded) this.#call.end();
    this.emit('close');
  }

  // ---------------------------------------------------------------------------------------------

  #onMessage(bytes: Buffer): void {
    if (this.#phase === 'closed') return;
    let msg: ProxyToAgentMessage;
    let pb: PbProxyToAgent | undefined;
    try {
      pb = decodeProxyToAgent(bytes);
      msg = proxyToAgentFromProto(pb);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const eventCid = pb === undefined ? undefined : bestEffortEventCid(pb);
      if (pb?.message === 'handshake' && this.#phase === 'handshake') {
        // An unreadable request still gets an answer, so the proxy sees why (§5.3 refusal shape).
        this.#refuse(`Invalid handshake request: ${why}`);
      } else if (eventCid !== undefined && this.#phase === 'established') {
        this.#events.undecodable(eventCid, false);
      } else {
        this.#unusable(`undecodable ProxyToAgent message: ${why}`, bytes.length);
      }
      return;
    }
    if (this.#phase === 'handshake') return this.#onHandshake(msg);
    switch (msg.type) {
      case 'event':
        return this.#events.dispatch(msg.kind, msg.correlationId, msg.event);
      case 'ping':
        this.#write(pongToProto({ sequence: msg.ping.sequence, pingTimestampMs: msg.ping.timestampMs, timestampMs: Date.now() }));
        return;
      case 'cancel':
        return this.#events.cancel(msg.cancel);
      case 'handshake':
        return this.#unusable('a second handshake on an established stream was ignored', bytes.length);
      default:
        return this.#unusable('empty or unknown ProxyToAgent message ignored', bytes.length);
    }
  }

  #onHandshake(msg: ProxyToAgentMessage): void {
    if (msg.type !== 'handshake') {
      this.#endWithStatus(grpc.status.FAILED_PRECONDITION, 'expected a handshake as the first message on ProcessStream');
      return;
    }
    const res = answerHandshake(msg.handshake, { capabilities: this.#o.capabilities, encoding: 'json' });
    if (!res.success) return this.#refuse(res.error ?? 'refused');
    clearTimeout(this.#handshakeTimer);
    this.#write(handshakeResponseToProto(res));
    this.#phase = 'established';
    this.emit('ready');
  }

  /** HandshakeResponse{success: false}, then the stream ends. */
  #refuse(error: string): void {
    this.#write(handshakeResponseToProto(handshakeRefusal(error)));
    this.emit('refused', error);
    this.close();
  }

  #unusable(why: string, size: number): void {
    this.stats.unusableMessages++;
    const log: LogMessage = {
      level: LOG_LEVEL_ERROR,
      message: `ZAP_PROTOCOL_ERROR: ${why}`,
      fields: { code: 'ZAP_PROTOCOL_ERROR', message_bytes: String(size) },
      timestampMs: Date.now(),
    };
    if (this.#phase === 'handshake') this.#endWithStatus(grpc.status.INVALID_ARGUMENT, why);
    else this.#write(logToProto(log));
  }

  #sendControl(message: PbAgentToProxy): void {
    if (this.#phase === 'established') this.#write(message);
  }

  #write(message: PbAgentToProxy): void {
    this.#writeBytes(encodeAgentToProxy(message));
  }

  #writeBytes(bytes: Buffer): void {
    const call = this.#call;
    if (call.writableEnded || call.destroyed) return;
    if (!call.write(bytes) && !this.#readPaused) {
      // The proxy reads slower than we answer: stop reading until our replies drain.
      this.#readPaused = true;
      call.pause();
    }
  }

  #onDrain(): void {
    if (!this.#readPaused) return;
    this.#readPaused = false;
    if (this.#phase !== 'closed') this.#call.resume();
  }

  /** The proxy half-closed: answer what is in flight, then end our side. */
  #onHalfClose(): void {
    this.#halfClosed = true;
    if (this.#events.inFlight === 0) this.close();
  }

  #endWithStatus(code: grpc.status, details: string): void {
    if (this.#phase === 'closed') return;
    this.#events.close();
    this.#phase = 'closed';
    clearTimeout(this.#handshakeTimer);
    this.#call.emit('error', { code, details });
    this.emit('close');
  }

  #closed(): void {
    if (this.#phase === 'closed') return;
    clearTimeout(this.#handshakeTimer);
    this.#events.close();
    this.#phase = 'closed';
    this.emit('close');
  }
}
