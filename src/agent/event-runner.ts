// Agent side, shared by every transport (UDS / reverse connections, the gRPC ProcessStream and
// ProcessEvent handlers): the handler context of one in-flight event, and running the handler to
// exactly one AgentResponse (Block 500 when the handler throws, rejects or returns something unsendable).
import type { AgentResponse, AnyEvent, CancelMessage, CancelReason, EventKind } from '../protocol/types.js';
import type { AgentTransport, HandlerContext, HandlerResult, Reply } from './handler.js';
import { agentErrorResponse, toAgentResponse } from './reply.js';

/** Where decoded events go: an in-thread handler or the thread pool. */
export interface EventDispatcher {
  dispatch(kind: EventKind, event: AnyEvent, ctx: HandlerContext): HandlerResult;
  /** Told about every Cancel (after the cid's signal was aborted). */
  cancel?(c: CancelMessage): void;
}

/** One in-flight event; doubles as the handler's context. The AbortController is made on first use. */
export class InflightEvent implements HandlerContext {
  cancelled = false;
  #controller: AbortController | undefined;

  constructor(
    readonly correlationId: string,
    readonly agentId: string,
    readonly transport: AgentTransport,
    readonly kind: EventKind,
  ) {}

  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  abort(reason: CancelReason | null): void {
    this.cancelled = true;
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }
}

export type HandlerErrorSink = (err: unknown, correlationId: string) => void;

function toResponse(reply: Reply | void, ctx: InflightEvent, onError: HandlerErrorSink): AgentResponse {
  try {
    return toAgentResponse(reply);
  } catch (err) {
    onError(err, ctx.correlationId);
    return agentErrorResponse();
  }
}

/** Runs the handler; `done` is called exactly once, synchronously when the handler answered synchronously. */
export function runEvent(
  dispatcher: EventDispatcher,
  event: AnyEvent,
  ctx: InflightEvent,
  onError: HandlerErrorSink,
  done: (ctx: InflightEvent, response: AgentResponse) => void,
): void {
  let result: HandlerResult;
  try {
    result = dispatcher.dispatch(ctx.kind, event, ctx);
  } catch (err) {
    onError(err, ctx.correlationId);
    done(ctx, agentErrorResponse());
    return;
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    (result as Promise<Reply | void>).then(
      (reply) => done(ctx, toResponse(reply, ctx, onError)),
      (err: unknown) => {
        onError(err, ctx.correlationId);
        done(ctx, agentErrorResponse());
      },
    );
  } else {
    done(ctx, toResponse(result as Reply | void, ctx, onError));
  }
}
