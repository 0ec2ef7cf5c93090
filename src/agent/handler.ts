// The agent author's interface (spec §6): one optional method per event kind. A connection calls
// dispatchEvent() for each decoded event; whatever the method returns becomes the AgentResponse.
import type {
  AgentResponse,
  AnyEvent,
  AuditMetadata,
  CancelMessage,
  ConfigureEvent,
  EventKind,
  GuardrailInspectEvent,
  RequestBodyChunkEvent,
  RequestCompleteEvent,
  RequestHeadersEvent,
  ResponseBodyChunkEvent,
  ResponseHeadersEvent,
  WebSocketFrameEvent,
} from '../protocol/types.js';

export type AgentTransport = 'uds' | 'grpc' | 'reverse';

export interface HandlerContext {
  correlationId: string;
  agentId: string;
  transport: AgentTransport;
  /**
   * Aborted when the proxy sends Cancel for this cid; `reason` = the CancelReason (or null when the
   * proxy gave none). In threads mode the signal never fires: cancellation only drops the reply.
   */
  signal: AbortSignal;
}

/**
 * What a handler returns; anything omitted takes the §6.9.1 default; no decision = allow.
 * `audit` may be partial too (missing lists are empty, confidence null). The builders of reply.ts
 * (`allow()`, `block()`, `redirect()`, `challenge()` and their chained methods) are Replies as they are.
 */
export type Reply = Partial<Omit<AgentResponse, 'version' | 'correlationId' | 'synthetic' | 'processingTimeMs' | 'audit'>> & {
  audit?: Partial<AuditMetadata>;
};
export type HandlerResult = Reply | void | Promise<Reply | void>;

/** Every method is optional; a missing one answers Allow. */
export interface AgentHandler {
  onRequestHeaders?(e: RequestHeadersEvent, ctx: HandlerContext): HandlerResult;
  onRequestBodyChunk?(e: RequestBodyChunkEvent, ctx: HandlerContext): HandlerResult;
  onResponseHeaders?(e: ResponseHeadersEvent, ctx: HandlerContext): HandlerResult;
  onResponseBodyChunk?(e: ResponseBodyChunkEvent, ctx: HandlerContext): HandlerResult;
  onRequestComplete?(e: RequestCompleteEvent, ctx: HandlerContext): HandlerResult;
  onWebSocketFrame?(e: WebSocketFrameEvent, ctx: HandlerContext): HandlerResult;
  onGuardrailInspect?(e: GuardrailInspectEvent, ctx: HandlerContext): HandlerResult;
  /** Allow = accept the configuration; any other decision rejects it (spec §6.8). */
  onConfigure?(e: ConfigureEvent, ctx: HandlerContext): HandlerResult;
  /** Informational; the context's signal is aborted as well. */
  onCancel?(c: CancelMessage): void;
}

/** A module usable with `AgentServer({ threads })`: its default export builds the handler. */
export type HandlerFactory = (options: unknown) => AgentHandler | Promise<AgentHandler>;

type MethodName = Exclude<keyof AgentHandler, 'onCancel'>;

/** Event kind → handler method name; a plain lookup keeps dispatch free of per-call branching. */
const HANDLER_METHOD: { readonly [K in EventKind]: MethodName } = {
  request_headers: 'onRequestHeaders',
  request_body_chunk: 'onRequestBodyChunk',
  response_headers: 'onResponseHeaders',
  response_body_chunk: 'onResponseBodyChunk',
  request_complete: 'onRequestComplete',
  websocket_frame: 'onWebSocketFrame',
  guardrail_inspect: 'onGuardrailInspect',
  configure: 'onConfigure',
};

type AnyMethod = (e: AnyEvent, ctx: HandlerContext) => HandlerResult;

/**
 * Calls the handler method for `kind`. A missing method answers Allow (undefined). Exceptions thrown
 * synchronously propagate to the caller, which turns them into Block 500 (see reply.ts).
 */
export function dispatchEvent(handler: AgentHandler, kind: EventKind, event: AnyEvent, ctx: HandlerContext): HandlerResult {
  const method = handler[HANDLER_METHOD[kind]] as AnyMethod | undefined;
  if (method === undefined) return undefined;
  return method.call(handler, event, ctx);
}

/** Turns a handler module's exports into a factory (default export, or a named `createHandler`). */
export function handlerFactoryOf(mod: Record<string, unknown>, where: string): HandlerFactory {
  const candidate = typeof mod['default'] === 'function' ? mod['default'] : mod['createHandler'];
  if (typeof candidate !== 'function') {
    throw new TypeError(`${where}: a handler module must export default function createHandler(options)`);
  }
  return candidate as HandlerFactory;
}
