// Wire mapping of ResponseHeaders (0x12, §6.4), RequestComplete (0x14, §6.5), WebSocketFrame (0x15, §6.6),
// GuardrailInspect (0x16, §6.7) and Configure (0x17, §6.8). Same conventions as events-request.ts.
import type {
  ConfigureEvent,
  GuardrailInspectEvent,
  GuardrailInspectionType,
  RequestCompleteEvent,
  ResponseHeadersEvent,
  WebSocketFrameEvent,
  WebSocketOpcode,
} from './types.js';
import { asStruct, boolOr, optString, reqBool, reqBytes, reqInt, reqString, stringArrayOr, stringMapOr, stringOr } from './wire-reader.js';
import { protocolError } from './errors.js';
import { quotedPeerText } from './peer-text.js';
import { checkRange, headerMapFromWire, U16_MAX, U32_MAX, wireBytes, wireU64 } from './events-common.js';

// ---------------------------------------------------------------------------------------------
// ResponseHeaders

/** Wire keys in canonical order, as responseHeadersToWire writes them (packed-json.ts relies on it). */
export const RESPONSE_HEADERS_KEYS = ['correlation_id', 'status', 'headers'] as const;
const RSH = 'ResponseHeaders';

export function responseHeadersToWire(e: ResponseHeadersEvent, cid: string): Record<string, unknown> {
  return { correlation_id: cid, status: e.status, headers: e.headers };
}

export function responseHeadersFromWire(v: unknown): ResponseHeadersEvent {
  const s = asStruct(v, RESPONSE_HEADERS_KEYS, RSH);
  return {
    correlationId: reqString(s, 'correlation_id', RSH),
    status: checkRange(reqInt(s, 'status', RSH), U16_MAX, RSH, 'status'),
    headers: headerMapFromWire(s, 'headers', RSH),
  };
}

// ---------------------------------------------------------------------------------------------
// RequestComplete

const REQUEST_COMPLETE_KEYS = [
  'correlation_id',
  'status',
  'duration_ms',
  'request_body_size',
  'response_body_size',
  'upstream_attempts',
  'error',
] as const;
const RC = 'RequestComplete';

export function requestCompleteToWire(e: RequestCompleteEvent, cid: string, binary: boolean): Record<string, unknown> {
  return {
    correlation_id: cid,
    status: e.status,
    duration_ms: wireU64(e.durationMs, binary),
    request_body_size: wireU64(e.requestBodySize, binary),
    response_body_size: wireU64(e.responseBodySize, binary),
    upstream_attempts: e.upstreamAttempts,
    error: e.error,
  };
}

export function requestCompleteFromWire(v: unknown): RequestCompleteEvent {
  const s = asStruct(v, REQUEST_COMPLETE_KEYS, RC);
  return {
    correlationId: reqString(s, 'correlation_id', RC),
    status: checkRange(reqInt(s, 'status', RC), U16_MAX, RC, 'status'),
    durationMs: reqInt(s, 'duration_ms', RC),
    requestBodySize: reqInt(s, 'request_body_size', RC),
    responseBodySize: reqInt(s, 'response_body_size', RC),
    upstreamAttempts: checkRange(reqInt(s, 'upstream_attempts', RC), U32_MAX, RC, 'upstream_attempts'),
    error: optString(s, 'error', RC),
  };
}

// ---------------------------------------------------------------------------------------------
// WebSocketFrame

const WEBSOCKET_FRAME_KEYS = [
  'correlation_id',
  'opcode',
  'data',
  'client_to_server',
  'frame_index',
  'fin',
  'route_id',
  'client_ip',
] as const;
const WS = 'WebSocketFrame';
const OPCODES: ReadonlySet<string> = new Set<WebSocketOpcode>(['continuation', 'text', 'binary', 'close', 'ping', 'pong']);

export function webSocketFrameToWire(e: WebSocketFrameEvent, cid: string, binary: boolean): Record<string, unknown> {
  return {
    correlation_id: cid,
    opcode: e.opcode,
    data: wireBytes(e.data, binary),
    client_to_server: e.clientToServer,
    frame_index: wireU64(e.frameIndex, binary),
    fin: e.fin,
    route_id: e.routeId,
    client_ip: e.clientIp,
  };
}

export function webSocketFrameFromWire(v: unknown): WebSocketFrameEvent {
  const s = asStruct(v, WEBSOCKET_FRAME_KEYS, WS);
  const opcode = reqString(s, 'opcode', WS);
  if (!OPCODES.has(opcode)) throw protocolError(`${WS}: unknown opcode ${quotedPeerText(opcode)}`);
  return {
    correlationId: reqString(s, 'correlation_id', WS),
    opcode: opcode as WebSocketOpcode,
    data: reqBytes(s, 'data', WS),
    clientToServer: reqBool(s, 'client_to_server', WS),
    frameIndex: reqInt(s, 'frame_index', WS),
    fin: reqBool(s, 'fin', WS),
    routeId: optString(s, 'route_id', WS),
    clientIp: reqString(s, 'client_ip', WS),
  };
}

// ---------------------------------------------------------------------------------------------
// GuardrailInspect

const GUARDRAIL_INSPECT_KEYS = ['correlation_id', 'inspection_type', 'content', 'model', 'categories', 'route_id', 'metadata'] as const;
const GR = 'GuardrailInspect';

export function guardrailInspectToWire(e: GuardrailInspectEvent, cid: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    correlation_id: cid,
    inspection_type: e.inspectionType,
    content: e.content,
  };
  // `model` and `route_id` are omitted when absent (§6.7, GV-13): insertion order keeps the table order.
  if (e.model !== undefined) out.model = e.model;
  out.categories = e.categories;
  if (e.routeId !== undefined) out.route_id = e.routeId;
  out.metadata = e.metadata;
  return out;
}

export function guardrailInspectFromWire(v: unknown): GuardrailInspectEvent {
  const s = asStruct(v, GUARDRAIL_INSPECT_KEYS, GR);
  const inspectionType = reqString(s, 'inspection_type', GR);
  if (inspectionType !== 'prompt_injection' && inspectionType !== 'pii_detection') {
    throw protocolError(`${GR}: unknown inspection_type ${quotedPeerText(inspectionType)}`);
  }
  const e: GuardrailInspectEvent = {
    correlationId: reqString(s, 'correlation_id', GR),
    inspectionType: inspectionType satisfies GuardrailInspectionType,
    content: reqString(s, 'content', GR),
    categories: stringArrayOr(s, 'categories', GR),
    metadata: stringMapOr(s, 'metadata', GR),
  };
  const model = optString(s, 'model', GR);
  if (model !== null) e.model = model;
  const routeId = optString(s, 'route_id', GR);
  if (routeId !== null) e.routeId = routeId;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Configure

const CONFIGURE_KEYS = ['correlation_id', 'config', 'config_version', 'is_initial'] as const;
const CF = 'Configure';

/** `config` is free-form: the MessagePack codec makes its wide integers safe, not this mapper. */
export function configureToWire(e: ConfigureEvent, cid: string): Record<string, unknown> {
  return {
    correlation_id: cid,
    config: e.config === undefined ? null : e.config,
    config_version: e.configVersion,
    is_initial: e.isInitial,
  };
}

/** Like Rust agents, `correlation_id` defaults to "" and `config` to null (§6.8); `is_initial` defaults to false. */
export function configureFromWire(v: unknown): ConfigureEvent {
  const s = asStruct(v, CONFIGURE_KEYS, CF);
  const config = s.config;
  return {
    correlationId: stringOr(s, 'correlation_id', CF, ''),
    config: config === undefined ? null : config,
    configVersion: optString(s, 'config_version', CF),
    isInitial: boolOr(s, 'is_initial', CF, false),
  };
}
