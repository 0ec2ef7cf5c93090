// gRPC mapping of the eight events (spec §8.5 "Proxy → agent"): our domain events → ProxyToAgent
// objects (proxy side) and back (agent SDK side). Encoders write `undefined` for proto3 default
// values so protobufjs leaves them out, giving the canonical bytes a Rust peer writes.
import type {
  ConfigureEvent,
  EventKind,
  EventMap,
  GuardrailInspectEvent,
  GuardrailInspectionType,
  RequestBodyChunkEvent,
  RequestCompleteEvent,
  RequestHeadersEvent,
  ResponseBodyChunkEvent,
  ResponseHeadersEvent,
  WebSocketFrameEvent,
  WebSocketOpcode,
} from './types.js';
import type {
  PbBodyChunkEvent,
  PbConfigureEvent,
  PbGuardrailInspectEvent,
  PbProxyToAgent,
  PbRequestCompleteEvent,
  PbRequestHeadersEvent,
  PbResponseHeadersEvent,
  PbWebSocketFrameEvent,
} from './proto-messages.js';
import { protocolError } from './errors.js';
import { asStruct, optString, stringArrayOr, stringMapOr, stringOr } from './wire-reader.js';
import { bytesOf, flattenHeaders, groupHeaders, jsonText, num, optNum, optStr, parseJsonText, str } from './proto-values.js';
import { quotedPeerText } from './peer-text.js';

/** GuardrailContentType PROMPT, the default content type (§8.5). */
const GUARDRAIL_CONTENT_TYPE_PROMPT = 1;

/** WebSocketFrameEvent.FrameType by opcode (§8.5); continuation has no own value and travels as 0. */
const WEBSOCKET_FRAME_TYPE: Readonly<Record<WebSocketOpcode, number>> = Object.freeze({
  continuation: 0,
  text: 1,
  binary: 2,
  ping: 3,
  pong: 4,
  close: 5,
});
const OPCODE_BY_FRAME_TYPE: readonly WebSocketOpcode[] = ['continuation', 'text', 'binary', 'ping', 'pong', 'close'];

/** metadata.timestamp_ms: the request's start as given, else the send time. */
export function requestStartMs(timestamp: string, nowMs: number): number {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? nowMs : ms;
}

function isoFromMs(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Proxy side: domain → proto

/**
 * The ProxyToAgent object for one event. `correlationId` is the cid the proxy waits on: it fills
 * every `correlation_id` field, including `metadata.correlation_id` of RequestHeaders (gRPC has no
 * separate injected key). ConfigureEvent has no cid field: `config_version` carries the event's
 * configVersion, else `correlationId`, and the agent answers with that value (see
 * grpcReplyCorrelationId). `nowMs` fills the send-time `timestamp_ms` fields.
 */
export function eventToProto<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string, nowMs: number): PbProxyToAgent {
  const cid = correlationId || undefined;
  switch (kind) {
    case 'request_headers': {
      const e = event as RequestHeadersEvent;
      const m = e.metadata;
      const msg: PbRequestHeadersEvent = {
        metadata: {
          correlation_id: cid,
          request_id: m.requestId || undefined,
          client_ip: m.clientIp || undefined,
          client_port: m.clientPort || undefined,
          server_name: m.serverName,
          protocol: m.protocol || undefined,
          tls_version: m.tlsVersion,
          route_id: m.routeId,
          upstream_id: m.upstreamId,
          timestamp_ms: requestStartMs(m.timestamp, nowMs) || undefined,
          traceparent: m.traceparent,
        },
        method: e.method || undefined,
        uri: e.uri || undefined,
        http_version: m.protocol || undefined,
        headers: flattenHeaders(e.headers),
      };
      return { request_headers: msg };
    }
    case 'request_body_chunk': {
      const e = event as RequestBodyChunkEvent;
      return { request_body_chunk: bodyChunk(cid, e, e.bytesReceived, nowMs) };
    }
    case 'response_body_chunk': {
      const e = event as ResponseBodyChunkEvent;
      return { response_body_chunk: bodyChunk(cid, e, e.bytesSent, nowMs) };
    }
    case 'response_headers': {
      const e = event as ResponseHeadersEvent;
      const msg: PbResponseHeadersEvent = {
        correlation_id: cid,
        status_code: e.status || undefined,
        headers: flattenHeaders(e.headers),
      };
      return { response_headers: msg };
    }
    case 'request_complete': {
      const e = event as RequestCompleteEvent;
      // upstream_attempts has no field.
      const msg: PbRequestCompleteEvent = {
        correlation_id: cid,
        status_code: e.status || undefined,
        duration_ms: e.durationMs || undefined,
        bytes_received: e.requestBodySize || undefined,
        bytes_sent: e.responseBodySize || undefined,
        upstream: e.upstream,
        from_cache: e.fromCache || undefined,
        error: e.error,
      };
      return { request_complete: msg };
    }
    case 'websocket_frame': {
      const e = event as WebSocketFrameEvent;
      // frame_index, fin, route_id and client_ip have no field.
      const msg: PbWebSocketFrameEvent = {
        correlation_id: cid,
        client_to_server: e.clientToServer || undefined,
        frame_type: WEBSOCKET_FRAME_TYPE[e.opcode] || undefined,
        payload: e.data.byteLength > 0 ? e.data : undefined,
      };
      return { websocket_frame: msg };
    }
    case 'guardrail_inspect': {
      const e = event as GuardrailInspectEvent;
      const context = {
        inspection_type: e.inspectionType,
        categories: e.categories,
        route_id: e.routeId ?? null,
        metadata: e.metadata,
      };
      const msg: PbGuardrailInspectEvent = {
        correlation_id: cid,
        content: e.content || undefined,
        content_type: e.contentType ?? GUARDRAIL_CONTENT_TYPE_PROMPT,
        model: e.model,
        context_json: JSON.stringify(context),
      };
      return { guardrail: msg };
    }
    case 'configure': {
      const e = event as ConfigureEvent;
      const msg: PbConfigureEvent = {
        config_json: jsonText(e.config),
        config_version: e.configVersion ?? correlationId,
        is_initial: e.isInitial || undefined,
        timestamp_ms: nowMs || undefined,
      };
      return { configure: msg };
    }
    default:
      throw protocolError(`Cannot map unknown event kind '${String(kind)}' to gRPC`);
  }
}

function bodyChunk(
  cid: string | undefined,
  e: RequestBodyChunkEvent | ResponseBodyChunkEvent,
  transferred: number,
  nowMs: number,
): PbBodyChunkEvent {
  return {
    correlation_id: cid,
    chunk_index: e.chunkIndex || undefined,
    data: e.data.byteLength > 0 ? e.data : undefined,
    is_last: e.isLast || undefined,
    total_size: e.totalSize, // explicit presence: 0 is a real value
    bytes_transferred: transferred || undefined,
    proxy_buffer_available: e.proxyBufferAvailable || undefined,
    timestamp_ms: nowMs || undefined,
  };
}

/**
 * The cid an agent puts into its reply to this event on gRPC: `correlationId`, except for
 * Configure, which has no cid field, so the agent answers with its `config_version` (§8.5).
 */
export function grpcReplyCorrelationId<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): string {
  return kind === 'configure' ? ((event as ConfigureEvent).configVersion ?? correlationId) : correlationId;
}

// ---------------------------------------------------------------------------------------------
// Agent side: proto → domain

/** The decoded event, tagged with its kind, and the cid the agent must answer with. */
export type ProtoEvent = {
  [K in EventKind]: { type: 'event'; kind: K; correlationId: string; event: EventMap[K] };
}[EventKind];

function requestHeadersFromProto(p: PbRequestHeadersEvent): RequestHeadersEvent {
  const m = p.metadata ?? {};
  const protocol = str(m.protocol) || str(p.http_version);
  const metadata: RequestHeadersEvent['metadata'] = {
    correlationId: str(m.correlation_id),
    requestId: str(m.request_id),
    clientIp: str(m.client_ip),
    clientPort: num(m.client_port),
    serverName: optStr(m.server_name),
    protocol,
    tlsVersion: optStr(m.tls_version),
    tlsCipher: null, // no field on gRPC
    routeId: optStr(m.route_id),
    upstreamId: optStr(m.upstream_id),
    timestamp: isoFromMs(num(m.timestamp_ms)),
  };
  if (typeof m.traceparent === 'string') metadata.traceparent = m.traceparent;
  return { metadata, method: str(p.method) || 'GET', uri: str(p.uri) || '/', headers: groupHeaders(p.headers) };
}

function requestBodyChunkFromProto(p: PbBodyChunkEvent): RequestBodyChunkEvent {
  return {
    correlationId: str(p.correlation_id),
    data: bytesOf(p.data),
    isLast: p.is_last === true,
    totalSize: optNum(p.total_size),
    chunkIndex: num(p.chunk_index),
    bytesReceived: num(p.bytes_transferred),
    proxyBufferAvailable: num(p.proxy_buffer_available),
  };
}

function responseBodyChunkFromProto(p: PbBodyChunkEvent): ResponseBodyChunkEvent {
  return {
    correlationId: str(p.correlation_id),
    data: bytesOf(p.data),
    isLast: p.is_last === true,
    totalSize: optNum(p.total_size),
    chunkIndex: num(p.chunk_index),
    bytesSent: num(p.bytes_transferred),
    proxyBufferAvailable: num(p.proxy_buffer_available),
  };
}

function responseHeadersFromProto(p: PbResponseHeadersEvent): ResponseHeadersEvent {
  return { correlationId: str(p.correlation_id), status: num(p.status_code), headers: groupHeaders(p.headers) };
}

/** `upstream_attempts` has no field and reads as 1 (§8.5). */
function requestCompleteFromProto(p: PbRequestCompleteEvent): RequestCompleteEvent {
  const e: RequestCompleteEvent = {
    correlationId: str(p.correlation_id),
    status: num(p.status_code),
    durationMs: num(p.duration_ms),
    requestBodySize: num(p.bytes_received),
    responseBodySize: num(p.bytes_sent),
    upstreamAttempts: 1,
    error: optStr(p.error),
    fromCache: p.from_cache === true,
  };
  if (typeof p.upstream === 'string') e.upstream = p.upstream;
  return e;
}

/**
 * Opcode from `frame_type` (0 → continuation). The UDS-only fields read as: frame_index 0, fin
 * true (gRPC carries whole frames), route_id null, client_ip ''. An unknown frame_type is a
 * ZAP_PROTOCOL_ERROR carrying the cid, so the SDK can still answer (§6.10).
 */
function websocketFrameFromProto(p: PbWebSocketFrameEvent): WebSocketFrameEvent {
  const correlationId = str(p.correlation_id);
  const opcode = OPCODE_BY_FRAME_TYPE[num(p.frame_type)];
  if (opcode === undefined) {
    throw protocolError(`WebSocketFrameEvent: unknown frame_type ${String(p.frame_type)}`, { correlationId });
  }
  return {
    correlationId,
    opcode,
    data: bytesOf(p.payload),
    clientToServer: p.client_to_server === true,
    frameIndex: 0,
    fin: true,
    routeId: null,
    clientIp: '',
  };
}

const GUARDRAIL_CONTEXT_KEYS = ['inspection_type', 'categories', 'route_id', 'metadata'] as const;

/** Guardrail fields back from `context_json`; bad JSON or shape → ZAP_PROTOCOL_ERROR carrying the cid. */
function guardrailInspectFromProto(p: PbGuardrailInspectEvent): GuardrailInspectEvent {
  const correlationId = str(p.correlation_id);
  const what = 'GuardrailInspectEvent.context_json';
  try {
    const s = asStruct(parseJsonText(p.context_json, what, {}), GUARDRAIL_CONTEXT_KEYS, what);
    const inspectionType = stringOr(s, 'inspection_type', what, 'prompt_injection');
    if (inspectionType !== 'prompt_injection' && inspectionType !== 'pii_detection') {
      throw protocolError(`${what}: unknown inspection_type ${quotedPeerText(inspectionType)}`);
    }
    const e: GuardrailInspectEvent = {
      correlationId,
      inspectionType: inspectionType satisfies GuardrailInspectionType,
      content: str(p.content),
      categories: stringArrayOr(s, 'categories', what),
      metadata: stringMapOr(s, 'metadata', what),
      contentType: num(p.content_type),
    };
    if (typeof p.model === 'string') e.model = p.model;
    const routeId = optString(s, 'route_id', what);
    if (routeId !== null) e.routeId = routeId;
    return e;
  } catch (err) {
    throw protocolError(err instanceof Error ? err.message : String(err), { correlationId, cause: err });
  }
}

/** The cid of a Configure is its `config_version` ('' when unset); `config_json` '' reads as null. */
function configureFromProto(p: PbConfigureEvent): ConfigureEvent {
  const correlationId = str(p.config_version);
  return {
    correlationId,
    config: parseJsonText(p.config_json, 'ConfigureEvent.config_json', null, correlationId),
    configVersion: optStr(p.config_version),
    isInitial: p.is_initial === true,
  };
}

/** The event of a ProxyToAgent oneof member, or undefined when `msg` carries no event. */
export function eventFromProto(msg: PbProxyToAgent): ProtoEvent | undefined {
  const which = msg.message;
  // `message` is the oneof key proto-loader adds; without it, look for the member that is set.
  if (which === 'request_headers' || (which === undefined && msg.request_headers)) {
    const event = requestHeadersFromProto(msg.request_headers ?? {});
    return { type: 'event', kind: 'request_headers', correlationId: event.metadata.correlationId, event };
  }
  if (which === 'request_body_chunk' || (which === undefined && msg.request_body_chunk)) {
    const event = requestBodyChunkFromProto(msg.request_body_chunk ?? {});
    return { type: 'event', kind: 'request_body_chunk', correlationId: event.correlationId, event };
  }
  if (which === 'response_headers' || (which === undefined && msg.response_headers)) {
    const event = responseHeadersFromProto(msg.response_headers ?? {});
    return { type: 'event', kind: 'response_headers', correlationId: event.correlationId, event };
  }
  if (which === 'response_body_chunk' || (which === undefined && msg.response_body_chunk)) {
    const event = responseBodyChunkFromProto(msg.response_body_chunk ?? {});
    return { type: 'event', kind: 'response_body_chunk', correlationId: event.correlationId, event };
  }
  if (which === 'request_complete' || (which === undefined && msg.request_complete)) {
    const event = requestCompleteFromProto(msg.request_complete ?? {});
    return { type: 'event', kind: 'request_complete', correlationId: event.correlationId, event };
  }
  if (which === 'websocket_frame' || (which === undefined && msg.websocket_frame)) {
    const event = websocketFrameFromProto(msg.websocket_frame ?? {});
    return { type: 'event', kind: 'websocket_frame', correlationId: event.correlationId, event };
  }
  if (which === 'guardrail' || (which === undefined && msg.guardrail)) {
    const event = guardrailInspectFromProto(msg.guardrail ?? {});
    return { type: 'event', kind: 'guardrail_inspect', correlationId: event.correlationId, event };
  }
  if (which === 'configure' || (which === undefined && msg.configure)) {
    const event = configureFromProto(msg.configure ?? {});
    return { type: 'event', kind: 'configure', correlationId: event.correlationId, event };
  }
  return undefined;
}
