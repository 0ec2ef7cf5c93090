// Agent side, one for both connection transports (AgentConnection: UDS and reverse; GrpcAgentStream:
// gRPC ProcessStream): what happens to an event once it is decoded. It keeps the in-flight table,
// runs the handler (event-runner.ts), serves Cancel, and holds the reply rules: exactly one reply per
// event, answered as each finishes (out of order, §1.3); none once the event is cancelled (§10.9) or
// the connection closes; Block 500 when the handler fails or its reply cannot be encoded.
// Decoding, Ping, the handshake and the bytes on the wire stay in each transport's file (ReplyPort).
import type { AgentResponse, AnyEvent, CancelMessage, EventKind } from '../protocol/types.js';
import type { AgentTransport } from './handler.js';
import { InflightEvent, runEvent, tellCancel, type EventDispatcher, type HandlerErrorSink } from './event-runner.js';
import { agentErrorResponse, undecodableEventResponse } from './reply.js';

/** Counters for logs and tests. */
export interface DispatchStats {
  events: number;
  replies: number;
  /** Events that could not be decoded (answered Allow, §6.10). */
  undecodableEvents: number;
  /** Control frames (Cancel) that could not be decoded; dropped. */
  droppedControlFrames: number;
  handlerErrors: number;
  cancels: number;
}

export function newDispatchStats(): DispatchStats {
  return { events: 0, replies: 0, undecodableEvents: 0, droppedControlFrames: 0, handlerErrors: 0, cancels: 0 };
}

/** How one transport puts a reply on its wire (`B`: its bytes type). */
export interface ReplyPort<B extends Uint8Array = Uint8Array> {
  /** The reply's wire form; throws when it cannot be sent (bad shape, too large): that call gets Block 500. */
  encodeReply(response: AgentResponse, correlationId: string): B;
  writeReply(bytes: B): void;
  /** Told after every event settles, answered or dropped (a half-closed gRPC stream ends once none is left). */
  settled?(): void;
}

export interface EventDispatchOptions {
  agentId: string;
  transport: AgentTransport;
  dispatcher: EventDispatcher;
  /** A handler threw or returned something unsendable, or an onCancel hook threw. */
  onHandlerError?: HandlerErrorSink;
}

/** The encoded reply, or the encoded Block 500 (reported to `onError`) when it cannot be encoded. */
export function encodeReplyOrBlock500<B extends Uint8Array>(
  port: Pick<ReplyPort<B>, 'encodeReply'>,
  response: AgentResponse,
  correlationId: string,
  onError: HandlerErrorSink,
): B {
  try {
    return port.encodeReply(response, correlationId);
  } catch (err) {
    onError(err, correlationId);
    return port.encodeReply(agentErrorResponse(), correlationId);
  }
}

export class EventDispatchCore<B extends Uint8Array = Uint8Array> {
  readonly stats: DispatchStats;
  readonly #o: EventDispatchOptions;
  readonly #port: ReplyPort<B>;
  readonly #inflight = new Map<string, InflightEvent>();
  #closed = false;
  // Bound once per connection, not per event.
  readonly #done = (ctx: InflightEvent, response: AgentResponse): void => this.#finish(ctx, response);
  readonly #failed: HandlerErrorSink = (err, correlationId) => this.#handlerFailed(err, correlationId);

  /** `stats` may be a transport's larger stats object; the core counts its own fields in it. */
  constructor(o: EventDispatchOptions, port: ReplyPort<B>, stats: DispatchStats = newDispatchStats()) {
    this.#o = o;
    this.#port = port;
    this.stats = stats;
  }

  get inFlight(): number {
    return this.#inflight.size;
  }

  /** One decoded event: the handler runs now, its reply goes out when it settles. */
  dispatch(kind: EventKind, correlationId: string, event: AnyEvent): void {
    this.stats.events++;
    const ctx = new InflightEvent(correlationId, this.#o.agentId, this.#o.transport, kind);
    this.#inflight.set(correlationId, ctx);
    runEvent(this.#o.dispatcher, event, ctx, this.#failed, this.#done);
  }

  /** §6.10 agent side: an event that cannot be decoded is answered Allow, for the cid found best-effort. */
  undecodable(correlationId: string, isWebSocket: boolean): void {
    this.stats.events++;
    this.stats.undecodableEvents++;
    this.#reply(undecodableEventResponse(isWebSocket), correlationId);
  }

  /** §7.1: the cid's signal aborts and its reply is dropped; then the dispatcher hears of it. */
  cancel(c: CancelMessage): void {
    this.stats.cancels++;
    const ctx = this.#inflight.get(c.correlationId);
    if (ctx !== undefined) {
      this.#inflight.delete(c.correlationId);
      ctx.abort(c.reason);
    }
    tellCancel(this.#o.dispatcher, c, this.#o.onHandlerError);
  }

  /** The connection ends: every in-flight handler sees its signal abort, and no reply goes out any more. */
  close(): void {
    this.#closed = true;
    for (const ctx of this.#inflight.values()) ctx.abort(null);
    this.#inflight.clear();
  }

  /** Counts and reports a handler failure (the call itself is answered Block 500). */
  #handlerFailed(err: unknown, correlationId: string): void {
    this.stats.handlerErrors++;
    this.#o.onHandlerError?.(err, correlationId);
  }

  #finish(ctx: InflightEvent, response: AgentResponse): void {
    // A newer event may have taken a reused cid's slot: only our own entry is removed.
    if (this.#inflight.get(ctx.correlationId) === ctx) this.#inflight.delete(ctx.correlationId);
    // The proxy forgot a cancelled call (§10.9): a reply would only be discarded there.
    if (!ctx.cancelled && !this.#closed) this.#reply(response, ctx.correlationId);
    this.#port.settled?.();
  }

  // encodeReplyOrBlock500 written out: this runs once per event, one call less.
  #reply(response: AgentResponse, correlationId: string): void {
    const port = this.#port;
    let bytes: B;
    try {
      bytes = port.encodeReply(response, correlationId);
    } catch (err) {
      this.#handlerFailed(err, correlationId);
      bytes = port.encodeReply(agentErrorResponse(), correlationId);
    }
    this.stats.replies++;
    port.writeReply(bytes);
  }
}
