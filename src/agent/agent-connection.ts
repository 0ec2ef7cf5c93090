// One accepted proxy connection on the agent side (spec §2–§7): frames in, handshake, events to the
// handler, replies out. Transport-agnostic over any Duplex (UDS socket today; a reverse connection
// reuses it by starting with `handshake` left out, once its registration is done).
//
// What happens to a decoded event (in-flight table, handler, Cancel, reply rules) is the dispatch
// core shared with gRPC (event-dispatch-core.ts); this file owns the frames. Replies written in the
// same tick are coalesced with cork/uncork; when the socket pushes back, we stop reading until it
// drains, so a slow proxy cannot make us buffer without bound.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type {
  AgentResponse,
  CancelMessage,
  Capabilities,
  Encoding,
  EncodingSetting,
  EventKind,
  ConfigUpdateRequest,
  FlowControlSignal,
  HealthStatus,
  MetricsReport,
} from '../protocol/types.js';
import { ErrorCode, isAgentPoolError, protocolError, zapError } from '../protocol/errors.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { MAX_PAYLOAD_LENGTH, encodeFrame, encodeFrameHeader } from '../protocol/frame-encoder.js';
import { MessageType, assertReceivable, eventKindOfMessageType } from '../protocol/message-type.js';
import { codecFor, type PayloadCodec } from '../protocol/payload-codec.js';
import { bestEffortEventCorrelationId } from '../protocol/agent-response.js';
import { answerHandshake, decodeHandshakeRequest, encodeHandshakeResponse, handshakeRefusal } from '../protocol/handshake.js';
import { decodeCancel } from '../protocol/cancel.js';
import { healthStatusToWire } from '../protocol/health-status.js';
import { flowControlToWire } from '../protocol/flow-control.js';
import { configUpdateRequestToWire } from '../protocol/config-update.js';
import { metricsReportToWire } from '../protocol/metrics-report.js';
import type { AgentTransport } from './handler.js';
import type { EventDispatcher } from './event-runner.js';
import { EventDispatchCore, type DispatchStats, type ReplyPort } from './event-dispatch-core.js';
import { DEFAULT_FRAME_TIMEOUT_MS } from './server-limits.js';
import { FrameClock } from './frame-clock.js';

export interface AgentConnectionOptions {
  agentId: string;
  transport: AgentTransport;
  dispatcher: EventDispatcher;
  /** Serve the UDS handshake (§5). Left out: the connection starts established, in JSON (reverse, §9.5). */
  handshake?: { capabilities: Capabilities; encoding: EncodingSetting; timeoutMs: number };
  /**
   * Once the first byte of a frame is in, the whole frame must arrive within this many ms, else the
   * connection is closed with ZAP_PROTOCOL_ERROR (slowloris, a length announced and never sent).
   * Paused while we stop reading for our own back-pressure. Default 30 000.
   */
  frameTimeoutMs?: number;
  /** Called when a handler throws or returns something unsendable (the proxy then gets Block 500). */
  onHandlerError?: (err: unknown, correlationId: string) => void;
}

/** Counters for logs and tests. */
export type AgentConnectionStats = DispatchStats;

type Phase = 'handshake' | 'established' | 'closing' | 'closed';

// Below this size one copy into a single frame buffer is cheaper than a second write call.
const SEPARATE_PAYLOAD_BYTES = 64 * 1024;
const CLOSE_GRACE_MS = 1000;

function uncork(conn: AgentConnection): void {
  conn.flush();
}

/**
 * Events: 'ready' (encoding), 'refused' (handshake error text), 'timeout' ('handshake' | 'frame',
 * just before the connection fails with it), 'error' (Error), 'close'.
 */
export class AgentConnection extends EventEmitter {
  readonly stats: AgentConnectionStats;
  readonly #socket: Duplex;
  readonly #o: AgentConnectionOptions;
  readonly #decoder: FrameDecoder;
  readonly #events: EventDispatchCore<Buffer>;
  #phase: Phase;
  #codec: PayloadCodec;
  #corked = false;
  #readPaused = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Runs while a partial frame is buffered (and we are reading). */
  readonly #frameClock: FrameClock;
  /** Frames decoded so far: tells a new partial frame from the one already on the clock. */
  #framesDecoded = 0;

  constructor(socket: Duplex, o: AgentConnectionOptions) {
    super();
    this.#socket = socket;
    this.#o = o;
    this.#phase = o.handshake === undefined ? 'established' : 'handshake';
    this.#codec = codecFor('json');
    const replies: ReplyPort<Buffer> = {
      encodeReply: (response, cid) => this.#encodeReply(response, cid),
      writeReply: (payload) => this.#write(MessageType.AgentResponse, payload),
    };
    this.#events = new EventDispatchCore(o, replies);
    this.stats = this.#events.stats;
    this.#frameClock = new FrameClock(o.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS, () => this.#frameTimedOut());
    this.#decoder = new FrameDecoder((type, payload) => {
      this.#framesDecoded++;
      this.handleFrame(type, payload);
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: Error) => this.#fail(err));
    socket.on('close', () => this.#onClose());
    socket.on('drain', () => this.#onDrain());
    if (o.handshake !== undefined) {
      this.#handshakeTimer = setTimeout(() => {
        this.emit('timeout', 'handshake');
        this.#fail(zapError(ErrorCode.HandshakeFailed, 'handshake timeout'));
      }, o.handshake.timeoutMs);
      this.#handshakeTimer.unref();
    }
  }

  /** The negotiated encoding (JSON until the handshake is done). */
  get encoding(): Encoding {
    return this.#codec.encoding;
  }

  get established(): boolean {
    return this.#phase === 'established';
  }

  get inFlight(): number {
    return this.#events.inFlight;
  }

  /**
   * Processes one frame. Called by the connection's own reader; public so that a reverse connector
   * can hand over frames it read in the same chunk as the registration reply.
   */
  handleFrame(type: number, payload: Buffer): void {
    if (this.#phase === 'established') {
      assertReceivable(type, 'agent', 'established');
      const kind = eventKindOfMessageType(type);
      if (kind !== undefined) this.#onEvent(kind, payload);
      else if (type === MessageType.Ping) this.#write(MessageType.Pong, payload);
      else this.#onCancel(payload);
    } else if (this.#phase === 'handshake') {
      assertReceivable(type, 'agent', 'handshake');
      this.#onHandshake(payload);
    }
    // closing / closed: frames still in the pipe are ignored.
  }

  /** §7.4: send a HealthStatus (after the handshake only). */
  sendHealth(h: HealthStatus): void {
    if (this.#phase === 'established') this.#write(MessageType.HealthStatus, this.#codec.encodeValue(healthStatusToWire(h)));
  }

  /** §7.5: send a MetricsReport (after the handshake only). */
  sendMetrics(m: MetricsReport): void {
    if (this.#phase === 'established') this.#write(MessageType.MetricsReport, this.#codec.encodeValue(metricsReportToWire(m)));
  }

  /** §7.7: send a FlowControl signal (back-pressure towards the proxy). */
  sendFlowControl(f: FlowControlSignal): void {
    if (this.#phase === 'established') this.#write(MessageType.FlowControl, this.#codec.encodeValue(flowControlToWire(f)));
  }

  /** §7.6: send a ConfigUpdateRequest (the proxy's answer is not transmitted on UDS / reverse). */
  sendConfigUpdate(r: ConfigUpdateRequest): void {
    if (this.#phase === 'established') this.#write(MessageType.ConfigUpdateRequest, this.#codec.encodeValue(configUpdateRequestToWire(r)));
  }

  /** Ends the connection: pending replies are dropped, in-flight handlers see their signal abort. */
  close(): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return;
    this.#phase = 'closing';
    this.#frameClock.stop();
    this.#events.close();
    this.flush();
    this.#socket.end();
    // A peer that never closes its side must not hold our close() forever.
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Writes out the replies of this tick (cork/uncork coalescing). */
  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  #onData(chunk: Buffer): void {
    const decodedBefore = this.#framesDecoded;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#clockPartialFrame(this.#framesDecoded !== decodedBefore);
  }

  /** The frame clock runs while we read and hold a partial frame. */
  #clockPartialFrame(newFrame: boolean): void {
    const reading = !this.#readPaused && (this.#phase === 'handshake' || this.#phase === 'established');
    this.#frameClock.update(reading ? this.#decoder.bufferedBytes : 0, newFrame);
  }

  #frameTimedOut(): void {
    this.emit('timeout', 'frame');
    this.#fail(
      protocolError(`Frame not completed within ${this.#frameClock.timeoutMs} ms (${this.#decoder.bufferedBytes} bytes of it received)`),
    );
  }

  #onEnd(): void {
    try {
      this.#decoder.end();
    } catch (err) {
      this.#fail(err);
    }
  }

  #onHandshake(payload: Buffer): void {
    const hs = this.#o.handshake;
    if (hs === undefined) return;
    clearTimeout(this.#handshakeTimer);
    let res;
    try {
      res = answerHandshake(decodeHandshakeRequest(payload), { capabilities: hs.capabilities, encoding: hs.encoding });
    } catch (err) {
      // An unreadable request still gets an answer, so the proxy sees why (§5.3 refusal shape).
      res = handshakeRefusal(`Invalid handshake request: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#write(MessageType.HandshakeResponse, encodeHandshakeResponse(res));
    if (!res.success) {
      this.emit('refused', res.error);
      this.close();
      return;
    }
    this.#codec = codecFor(res.encoding);
    this.#phase = 'established';
    this.emit('ready', res.encoding);
  }

  #onEvent(kind: EventKind, payload: Buffer): void {
    let decoded;
    try {
      decoded = this.#codec.decodeEvent(kind, payload);
    } catch {
      this.#events.undecodable(this.#bestEffortCid(payload), kind === 'websocket_frame');
      return;
    }
    this.#events.dispatch(kind, decoded.correlationId, decoded.event);
  }

  /** §6.10 agent side: the cid of an undecodable event, found best-effort (`""` if none). */
  #bestEffortCid(payload: Buffer): string {
    try {
      return bestEffortEventCorrelationId(this.#codec.decodeValue(payload));
    } catch {
      return ''; // not even a JSON / MessagePack value: no cid to be found
    }
  }

  #onCancel(payload: Buffer): void {
    let c: CancelMessage;
    try {
      c = decodeCancel(payload);
    } catch {
      this.stats.droppedControlFrames++;
      return;
    }
    this.#events.cancel(c);
  }

  // ---------------------------------------------------------------------------------------------
  // Replying

  /** The reply's frame payload; throws when it cannot be sent (the core then answers Block 500). */
  #encodeReply(response: AgentResponse, cid: string): Buffer {
    const payload = this.#codec.encodeResponse(response, cid);
    if (payload.length > MAX_PAYLOAD_LENGTH) {
      throw zapError(ErrorCode.FrameTooLarge, `reply of ${payload.length} bytes exceeds ${MAX_PAYLOAD_LENGTH}`);
    }
    return payload;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  #write(type: number, payload: Uint8Array): void {
    const socket = this.#socket;
    if (this.#phase === 'closed' || socket.destroyed || socket.writableEnded) return;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(uncork, this);
    }
    let ok: boolean;
    if (payload.length > SEPARATE_PAYLOAD_BYTES) {
      socket.write(encodeFrameHeader(type, payload.length));
      ok = socket.write(payload);
    } else {
      ok = socket.write(encodeFrame(type, payload));
    }
    if (!ok && !this.#readPaused) {
      this.#readPaused = true;
      socket.pause();
      // We stopped reading: the peer's frame is not late, it waits on us.
      this.#frameClock.stop();
    }
  }

  #onDrain(): void {
    if (!this.#readPaused) return;
    this.#readPaused = false;
    if (this.#phase !== 'closed') this.#socket.resume();
    this.#clockPartialFrame(false);
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  #fail(err: unknown): void {
    if (this.#phase === 'closed') return;
    const error = isAgentPoolError(err) || err instanceof Error ? err : protocolError(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.#phase = 'closing';
    this.#frameClock.stop();
    this.#events.close();
    this.#socket.destroy();
  }

  #onClose(): void {
    if (this.#phase === 'closed') return;
    clearTimeout(this.#handshakeTimer);
    this.#frameClock.stop();
    this.#events.close();
    this.#phase = 'closed';
    this.emit('close');
  }
}
