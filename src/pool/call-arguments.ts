// The caller's side of a send (spec §10.3, §10.11 ZAP_INVALID_ARGUMENT): the event's required fields
// have the types the wire needs, the correlation id comes from one place, and the options are sane.
// Checked before admission, so a caller's bug never reaches the breaker (§10.10), sends nothing and
// cannot black-hole a healthy agent. This is the hot path: type checks of the fields only (header
// values included, they are small), no copies, no encoding (the router encodes once, later), and no
// allocation unless something is wrong. Measured: bench/call-arguments.ts.
import { AgentPoolError, ErrorCode } from '../protocol/errors.js';
import { quotedPeerText } from '../protocol/peer-text.js';
import { CANCEL_REASONS, type EventKind } from '../protocol/types.js';

/** What is wrong, as `<field> <problem>`; undefined when the field is fine. */
type Problem = string | undefined;
type EventCheck = (event: Record<string, unknown>, correlationId: string) => Problem;

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;
const OPCODES: ReadonlySet<unknown> = new Set(['continuation', 'text', 'binary', 'close', 'ping', 'pong']);
const INSPECTION_TYPES: ReadonlySet<unknown> = new Set(['prompt_injection', 'pii_detection']);
const REASONS: ReadonlySet<unknown> = new Set(CANCEL_REASONS);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringOrNull = (v: unknown): boolean => v === null || typeof v === 'string';
const isUint = (v: unknown, max: number): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;
const isU64 = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

function headerMap(v: unknown, field: string): Problem {
  if (!isObject(v)) return `${field} must be an object of header name → array of strings`;
  for (const name in v) {
    const values = v[name];
    if (!Array.isArray(values)) return `${field}[${quotedPeerText(name)}] must be an array of strings`;
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== 'string') return `${field}[${quotedPeerText(name)}][${i}] must be a string`;
    }
  }
  return undefined;
}

/** An event that carries its own `correlationId` may omit it; when given it must be the call's. */
function ownCorrelationId(e: Record<string, unknown>, correlationId: string, field = 'correlationId'): Problem {
  const own = e[field];
  if (own === undefined || own === correlationId) return undefined;
  return `${field} ${quotedPeerText(own)} contradicts the call's correlation id ${quotedPeerText(correlationId)}`;
}

function requestHeaders(e: Record<string, unknown>, correlationId: string): Problem {
  const m = e.metadata;
  if (!isObject(m)) return 'metadata must be an object';
  // metadata.correlation_id goes to the agent as written (§6.2): it must be the id the pool waits on.
  if (m.correlationId !== correlationId) {
    return typeof m.correlationId === 'string'
      ? `metadata.${ownCorrelationId(m, correlationId) as string}`
      : 'metadata.correlationId must be a string';
  }
  if (typeof m.requestId !== 'string') return 'metadata.requestId must be a string';
  if (typeof m.clientIp !== 'string') return 'metadata.clientIp must be a string';
  if (!isUint(m.clientPort, U16_MAX)) return 'metadata.clientPort must be an integer 0–65535';
  if (!isStringOrNull(m.serverName)) return 'metadata.serverName must be a string or null';
  if (typeof m.protocol !== 'string') return 'metadata.protocol must be a string';
  if (!isStringOrNull(m.tlsVersion)) return 'metadata.tlsVersion must be a string or null';
  if (!isStringOrNull(m.tlsCipher)) return 'metadata.tlsCipher must be a string or null';
  if (!isStringOrNull(m.routeId)) return 'metadata.routeId must be a string or null';
  if (!isStringOrNull(m.upstreamId)) return 'metadata.upstreamId must be a string or null';
  if (typeof m.timestamp !== 'string') return 'metadata.timestamp must be a string';
  if (m.traceparent !== undefined && typeof m.traceparent !== 'string') return 'metadata.traceparent must be a string when given';
  if (typeof e.method !== 'string') return 'method must be a string';
  if (typeof e.uri !== 'string') return 'uri must be a string';
  return headerMap(e.headers, 'headers');
}

function bodyChunk(counter: 'bytesReceived' | 'bytesSent'): EventCheck {
  return (e, correlationId) => {
    if (!(e.data instanceof Uint8Array)) return 'data must be a Uint8Array (or Buffer)';
    if (typeof e.isLast !== 'boolean') return 'isLast must be a boolean';
    if (e.totalSize !== null && !isU64(e.totalSize)) return 'totalSize must be a non-negative safe integer or null';
    if (!isUint(e.chunkIndex, U32_MAX)) return 'chunkIndex must be an integer 0–4294967295';
    if (!isU64(e[counter])) return `${counter} must be a non-negative safe integer`;
    if (e.proxyBufferAvailable !== undefined && !isU64(e.proxyBufferAvailable))
      return 'proxyBufferAvailable must be a non-negative safe integer when given';
    return ownCorrelationId(e, correlationId);
  };
}

function responseHeaders(e: Record<string, unknown>, correlationId: string): Problem {
  if (!isUint(e.status, U16_MAX)) return 'status must be an integer 0–65535';
  return headerMap(e.headers, 'headers') ?? ownCorrelationId(e, correlationId);
}

function requestComplete(e: Record<string, unknown>, correlationId: string): Problem {
  if (!isUint(e.status, U16_MAX)) return 'status must be an integer 0–65535';
  if (!isU64(e.durationMs)) return 'durationMs must be a non-negative safe integer';
  if (!isU64(e.requestBodySize)) return 'requestBodySize must be a non-negative safe integer';
  if (!isU64(e.responseBodySize)) return 'responseBodySize must be a non-negative safe integer';
  if (!isUint(e.upstreamAttempts, U32_MAX)) return 'upstreamAttempts must be an integer 0–4294967295';
  if (!isStringOrNull(e.error)) return 'error must be a string or null';
  if (e.upstream !== undefined && typeof e.upstream !== 'string') return 'upstream must be a string when given';
  if (e.fromCache !== undefined && typeof e.fromCache !== 'boolean') return 'fromCache must be a boolean when given';
  return ownCorrelationId(e, correlationId);
}

function webSocketFrame(e: Record<string, unknown>, correlationId: string): Problem {
  if (!OPCODES.has(e.opcode)) return 'opcode must be one of continuation, text, binary, close, ping, pong';
  if (!(e.data instanceof Uint8Array)) return 'data must be a Uint8Array (or Buffer)';
  if (typeof e.clientToServer !== 'boolean') return 'clientToServer must be a boolean';
  if (!isU64(e.frameIndex)) return 'frameIndex must be a non-negative safe integer';
  if (typeof e.fin !== 'boolean') return 'fin must be a boolean';
  if (!isStringOrNull(e.routeId)) return 'routeId must be a string or null';
  if (typeof e.clientIp !== 'string') return 'clientIp must be a string';
  return ownCorrelationId(e, correlationId);
}

function guardrailInspect(e: Record<string, unknown>, correlationId: string): Problem {
  if (!INSPECTION_TYPES.has(e.inspectionType)) return 'inspectionType must be prompt_injection or pii_detection';
  if (typeof e.content !== 'string') return 'content must be a string';
  if (e.model !== undefined && typeof e.model !== 'string') return 'model must be a string when given';
  if (!Array.isArray(e.categories)) return 'categories must be an array of strings';
  if (e.routeId !== undefined && typeof e.routeId !== 'string') return 'routeId must be a string when given';
  if (!isObject(e.metadata)) return 'metadata must be an object of string → string';
  if (e.contentType !== undefined && !isUint(e.contentType, U32_MAX)) return 'contentType must be a non-negative integer when given';
  return ownCorrelationId(e, correlationId);
}

function configure(e: Record<string, unknown>, correlationId: string): Problem {
  if (!isStringOrNull(e.configVersion)) return 'configVersion must be a string or null';
  if (typeof e.isInitial !== 'boolean') return 'isInitial must be a boolean';
  return ownCorrelationId(e, correlationId);
}

// A Map, not an object: `send(agent, 'toString', …)` from plain JS must not find a prototype method.
const EVENT_CHECKS: ReadonlyMap<string, EventCheck> = new Map<EventKind, EventCheck>([
  ['request_headers', requestHeaders],
  ['request_body_chunk', bodyChunk('bytesReceived')],
  ['response_headers', responseHeaders],
  ['response_body_chunk', bodyChunk('bytesSent')],
  ['request_complete', requestComplete],
  ['websocket_frame', webSocketFrame],
  ['guardrail_inspect', guardrailInspect],
  ['configure', configure],
]);

function optionsProblem(options: unknown): Problem {
  if (options === undefined) return undefined;
  if (!isObject(options)) return 'options must be an object';
  const { timeoutMs, signal, cancelReason } = options;
  // NaN would remove the deadline and a value ≤ 0 reject at once: neither is a timeout (§10.11).
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs < Infinity)) {
    return (
      `options.timeoutMs must be a finite positive number of milliseconds, got ` +
      `${typeof timeoutMs === 'number' ? String(timeoutMs) : typeof timeoutMs}`
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) return 'options.signal must be an AbortSignal';
  if (cancelReason !== undefined && !REASONS.has(cancelReason)) return `options.cancelReason must be one of ${CANCEL_REASONS.join(', ')}`;
  return undefined;
}

/**
 * Checks one call's arguments. Returns the ZAP_INVALID_ARGUMENT error to reject with, or undefined
 * when the call may go on to admission.
 */
export function invalidCallArguments(
  agentId: string,
  kind: EventKind,
  event: unknown,
  correlationId: unknown,
  options: unknown,
): AgentPoolError | undefined {
  const check = EVENT_CHECKS.get(kind);
  let problem: Problem;
  if (check === undefined) problem = `unknown event kind ${quotedPeerText(kind)}`;
  else if (typeof correlationId !== 'string' || correlationId.length === 0) problem = 'the correlation id must be a non-empty string';
  else if (!isObject(event)) problem = 'the event must be an object';
  else problem = check(event, correlationId) ?? optionsProblem(options);
  if (problem === undefined) return undefined;
  const cid = typeof correlationId === 'string' ? correlationId : undefined;
  const what = check === undefined ? 'call' : `${kind} call`;
  return new AgentPoolError(ErrorCode.InvalidArgument, `Invalid ${what} to agent ${quotedPeerText(agentId)}: ${problem}`, {
    agentId,
    correlationId: cid,
  });
}

/**
 * The error of an event that passed the checks above but could not be encoded (deep content: a
 * BigInt or a cycle in a Configure's config, a value protobuf cannot hold…). It is still the
 * caller's event, not the agent's bytes: ZAP_INVALID_ARGUMENT, which the breaker treats as neutral.
 * Size (ZAP_FRAME_TOO_LARGE) and internal errors keep their code.
 */
export function unencodableEvent(err: unknown, agentId: string, correlationId: string): unknown {
  if (err instanceof AgentPoolError && err.code !== ErrorCode.ProtocolError) {
    return new AgentPoolError(err.code, err.message, { agentId, correlationId, cause: err.cause });
  }
  const why = err instanceof Error ? err.message : String(err);
  return new AgentPoolError(ErrorCode.InvalidArgument, `Event for agent ${quotedPeerText(agentId)} cannot be encoded: ${why}`, {
    agentId,
    correlationId,
    cause: err,
  });
}
