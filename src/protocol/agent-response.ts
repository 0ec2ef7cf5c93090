// AgentResponse (0x20, spec §6.9): validation/conversion on the proxy side (§6.10 step 4), the canonical
// reply our agent SDK writes (every key of §6.9.1), and correlation-id extraction (§6.9.1, D3).
import type { AgentResponse, AuditMetadata } from './types.js';
import { isAgentPoolError, protocolError } from './errors.js';
import { asStruct, boolOr, describe, isAbsent, optNumber, reqInt, stringArrayOr, stringMapOr, type WireStruct } from './wire-reader.js';
import { member, setOwn } from './events-common.js';
import { headerOpsFromWire, headerOpsToWire } from './header-ops.js';
import { bodyMutationFromWire, bodyMutationToWire } from './body-mutation.js';
import { decisionFromWire, decisionToWire, webSocketDecisionFromWire, webSocketDecisionToWire } from './agent-response-decision.js';
import { peerText } from './peer-text.js';

export { bestEffortEventCorrelationId } from './events.js';

/** Key order of §6.9.1; also the element order of a positional-array AgentResponse (msgpack, §4.2). */
export const AGENT_RESPONSE_KEYS = [
  'version',
  'decision',
  'request_headers',
  'response_headers',
  'routing_metadata',
  'audit',
  'needs_more',
  'request_body_mutation',
  'response_body_mutation',
  'websocket_decision',
  'correlation_id',
] as const;
/** Key order of §6.9.4; also the element order of a positional-array audit (msgpack, §4.2). */
export const AUDIT_KEYS = ['tags', 'rule_ids', 'confidence', 'reason_codes', 'custom'] as const;

const AUDIT_INDEX = 5;
const CUSTOM_INDEX = 4;
const CORRELATION_INDEX = 10;

export function emptyAudit(): AuditMetadata {
  return { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: {} };
}

/** Version 2, decision allow, every other key at its default. A fresh object each call. */
export function allowResponse(): AgentResponse {
  return {
    version: 2,
    decision: { type: 'allow' },
    requestHeaders: [],
    responseHeaders: [],
    routingMetadata: {},
    audit: emptyAudit(),
    needsMore: false,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
  };
}

/**
 * §6.9.1 precedence: `audit.custom.correlation_id` when it is a string, else the top-level
 * `correlation_id` string, else null. Works on maps, Maps and positional arrays; never throws.
 */
export function extractCorrelationId(body: unknown): string | null {
  const fromAudit = member(member(member(body, 'audit', AUDIT_INDEX), 'custom', CUSTOM_INDEX), 'correlation_id', -1);
  if (typeof fromAudit === 'string') return fromAudit;
  const top = member(body, 'correlation_id', CORRELATION_INDEX);
  return typeof top === 'string' ? top : null;
}

const W = 'AgentResponse';
const REQUEST_HEADERS_WHAT = `${W}.request_headers`;
const RESPONSE_HEADERS_WHAT = `${W}.response_headers`;

/** §6.10 step 4. Throws ZAP_PROTOCOL_ERROR naming the first problem. A version other than 2 is accepted. */
export function agentResponseFromWire(body: unknown): AgentResponse {
  try {
    return responseFromWire(body);
  } catch (err) {
    // Whatever a hostile value trips over (e.g. a Map key that cannot become a string) is still a bad shape.
    if (isAgentPoolError(err)) throw err;
    throw protocolError(`${W}: ${peerText(err instanceof Error ? err.message : err)}`, { cause: err });
  }
}

function responseFromWire(body: unknown): AgentResponse {
  const s = asStruct(body, AGENT_RESPONSE_KEYS, W);
  const response: AgentResponse = {
    version: reqInt(s, 'version', W),
    decision: decisionFromWire(s.decision, W),
    requestHeaders: headerOpsFromWire(s.request_headers, REQUEST_HEADERS_WHAT),
    responseHeaders: headerOpsFromWire(s.response_headers, RESPONSE_HEADERS_WHAT),
    routingMetadata: stringMapOr(s, 'routing_metadata', W),
    audit: auditFromWire(s.audit),
    needsMore: boolOr(s, 'needs_more', W, false),
    requestBodyMutation: bodyMutationFromWire(s.request_body_mutation, `${W}.request_body_mutation`),
    responseBodyMutation: bodyMutationFromWire(s.response_body_mutation, `${W}.response_body_mutation`),
    websocketDecision: webSocketDecisionFromWire(s.websocket_decision, W),
  };
  // Only a string is a correlation id; Rust proxies ignore the key, so another type is not an error.
  if (typeof s.correlation_id === 'string') response.correlationId = s.correlation_id;
  return response;
}

const AW = 'AgentResponse.audit';

function auditFromWire(v: unknown): AuditMetadata {
  if (isAbsent(v)) return emptyAudit();
  const s = asStruct(v, AUDIT_KEYS, AW);
  return {
    tags: stringArrayOr(s, 'tags', AW),
    ruleIds: stringArrayOr(s, 'rule_ids', AW),
    confidence: optNumber(s, 'confidence', AW),
    reasonCodes: stringArrayOr(s, 'reason_codes', AW),
    custom: customFromWire(s.custom),
  };
}

/** Object string → any JSON value; the parsed object is kept as is (a Map is converted). */
function customFromWire(v: unknown): Record<string, unknown> {
  if (isAbsent(v)) return {};
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of v) setOwn(out, String(k), val);
    return out;
  }
  if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) return v as WireStruct;
  throw protocolError(`${AW}: key 'custom' must be an object, got ${describe(v)}`);
}

/**
 * The reply our agent SDK writes: every key of §6.9.1 in table order, the cid both in `audit.custom`
 * (what Rust proxies route by) and at the top level. `custom` values are written as given (JSON values).
 */
export function agentResponseToWire(response: AgentResponse, correlationId: string): Record<string, unknown> {
  const a = response.audit;
  return {
    version: response.version,
    decision: decisionToWire(response.decision),
    request_headers: headerOpsToWire(response.requestHeaders),
    response_headers: headerOpsToWire(response.responseHeaders),
    routing_metadata: response.routingMetadata,
    audit: {
      tags: a.tags,
      rule_ids: a.ruleIds,
      confidence: a.confidence,
      reason_codes: a.reasonCodes,
      custom: customWithCorrelation(a.custom, correlationId),
    },
    needs_more: response.needsMore,
    request_body_mutation: bodyMutationToWire(response.requestBodyMutation),
    response_body_mutation: bodyMutationToWire(response.responseBodyMutation),
    websocket_decision: webSocketDecisionToWire(response.websocketDecision),
    correlation_id: correlationId,
  };
}

/** `correlation_id` first (overriding any the handler set), then the handler's own entries. */
function customWithCorrelation(custom: Record<string, unknown>, cid: string): Record<string, unknown> {
  const out: Record<string, unknown> = { correlation_id: cid };
  for (const key in custom) {
    if (key !== 'correlation_id' && Object.hasOwn(custom, key)) setOwn(out, key, custom[key]);
  }
  return out;
}
