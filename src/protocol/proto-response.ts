// gRPC mapping of AgentResponse (spec §8.5 "Agent → proxy" table), both directions: the agent
// SDK encodes its reply, the proxy decodes it. gRPC has no routing metadata, body mutations or
// WebSocket decision: the encoder drops them (grpcDroppedResponseFields names them for a warning),
// the decoder reports them empty / null.
import type { AgentResponse, AuditMetadata, Decision, HeaderOp, WebSocketDecision } from './types.js';
import { PROTOCOL_VERSION } from './types.js';
import type { PbAgentResponse, PbAgentToProxy, PbAuditMetadata, PbHeader, PbHeaderOp } from './proto-messages.js';
import { f32, listOf, mapOf, num, optNum, optStr, str } from './proto-values.js';

// ---------------------------------------------------------------------------------------------
// Agent side: domain → proto

function headerOpsToProto(ops: readonly HeaderOp[]): PbHeaderOp[] {
  const out: PbHeaderOp[] = new Array<PbHeaderOp>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as HeaderOp;
    if (op.op === 'remove') out[i] = { remove: op.name };
    else if (op.op === 'set') out[i] = { set: { name: op.name, value: op.value } };
    else out[i] = { add: { name: op.name, value: op.value } };
  }
  return out;
}

/**
 * `custom` values: strings verbatim, any other JSON value as its JSON text (§8.5, §14.1). An empty
 * audit is left unset, which reads back as the same empty audit.
 */
function auditToProto(a: AuditMetadata): PbAuditMetadata | undefined {
  const custom: Record<string, string> = {};
  let customCount = 0;
  for (const key in a.custom) {
    const v = a.custom[key];
    if (v === undefined) continue;
    custom[key] = typeof v === 'string' ? v : JSON.stringify(v);
    customCount++;
  }
  if (customCount === 0 && a.confidence === null && a.tags.length === 0 && a.ruleIds.length === 0 && a.reasonCodes.length === 0) {
    return undefined;
  }
  return { tags: a.tags, rule_ids: a.ruleIds, confidence: a.confidence, reason_codes: a.reasonCodes, custom };
}

function blockHeadersToProto(headers: Record<string, string> | null): PbHeader[] {
  const out: PbHeader[] = [];
  if (headers !== null) for (const name in headers) out.push({ name, value: headers[name] });
  return out;
}

/**
 * The AgentToProxy reply. `correlationId` fills field 1: the event's cid (for Configure, the
 * event's config_version).
 */
export function agentResponseToProto(resp: AgentResponse, correlationId: string): PbAgentToProxy {
  const d: Decision = resp.decision;
  const msg: PbAgentResponse = {
    correlation_id: correlationId || undefined,
    allow: d.type === 'allow' ? {} : undefined,
    block: d.type === 'block' ? { status: d.status || undefined, body: d.body, headers: blockHeadersToProto(d.headers) } : undefined,
    redirect: d.type === 'redirect' ? { url: d.url || undefined, status: d.status || undefined } : undefined,
    challenge: d.type === 'challenge' ? { challenge_type: d.challengeType || undefined, params: d.params } : undefined,
    request_headers: headerOpsToProto(resp.requestHeaders),
    response_headers: headerOpsToProto(resp.responseHeaders),
    audit: auditToProto(resp.audit),
    processing_time_ms: resp.processingTimeMs,
    needs_more: resp.needsMore || undefined,
  };
  return { response: msg };
}

/** Keys (wire names) of `resp` that gRPC cannot carry and that hold something; [] when nothing is lost. */
export function grpcDroppedResponseFields(resp: AgentResponse): string[] {
  const out: string[] = [];
  for (const _ in resp.routingMetadata) {
    out.push('routing_metadata');
    break;
  }
  if (resp.requestBodyMutation !== null) out.push('request_body_mutation');
  if (resp.responseBodyMutation !== null) out.push('response_body_mutation');
  if (resp.websocketDecision !== null) out.push('websocket_decision');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Proxy side: proto → domain

function decisionFromProto(p: PbAgentResponse): Decision {
  // `decision` is the oneof key proto-loader adds; without it, look for the member that is set.
  const which = p.decision ?? (p.block ? 'block' : p.redirect ? 'redirect' : p.challenge ? 'challenge' : 'allow');
  if (which === 'block') {
    const b = p.block ?? {};
    return { type: 'block', status: num(b.status), body: optStr(b.body), headers: blockHeadersFromProto(b.headers) };
  }
  if (which === 'redirect') {
    const r = p.redirect ?? {};
    return { type: 'redirect', url: str(r.url), status: num(r.status) };
  }
  if (which === 'challenge') {
    const c = p.challenge ?? {};
    return { type: 'challenge', challengeType: str(c.challenge_type), params: mapOf(c.params) };
  }
  return { type: 'allow' }; // allow, or unset (§8.5)
}

/** Duplicates: last wins; an empty list reads as null (§8.5). */
function blockHeadersFromProto(list: PbHeader[] | null | undefined): Record<string, string> | null {
  if (!list || list.length === 0) return null;
  const out: Record<string, string> = {};
  for (const h of list) out[str(h.name)] = str(h.value);
  return out;
}

/** A HeaderOp with no operation set is dropped (§8.5). */
function headerOpsFromProto(list: PbHeaderOp[] | null | undefined): HeaderOp[] {
  const out: HeaderOp[] = [];
  if (!list) return out;
  for (const p of list) {
    const which = p.operation ?? (p.set ? 'set' : p.add ? 'add' : typeof p.remove === 'string' ? 'remove' : undefined);
    if (which === 'set' && p.set) out.push({ op: 'set', name: str(p.set.name), value: str(p.set.value) });
    else if (which === 'add' && p.add) out.push({ op: 'add', name: str(p.add.name), value: str(p.add.value) });
    else if (which === 'remove' && typeof p.remove === 'string') out.push({ op: 'remove', name: p.remove });
  }
  return out;
}

/** Unset → empty; `custom` values stay the strings received (no JSON decoding, §8.5). */
function auditFromProto(p: PbAuditMetadata | null | undefined): AuditMetadata {
  if (p === null || p === undefined) return { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: {} };
  const confidence = optNum(p.confidence);
  return {
    tags: listOf(p.tags),
    ruleIds: listOf(p.rule_ids),
    confidence: confidence === null ? null : f32(confidence),
    reasonCodes: listOf(p.reason_codes),
    custom: mapOf(p.custom),
  };
}

/**
 * Proxy side (§8.5): decision unset = Allow; routingMetadata {}, mutations and websocketDecision
 * null (gRPC cannot carry them); `correlationId` = field 1, by which the reply is routed;
 * `processingTimeMs` only when the agent set it. The decoded object's arrays and maps are reused.
 */
export function agentResponseFromProto(p: PbAgentResponse): AgentResponse {
  const resp: AgentResponse = {
    version: PROTOCOL_VERSION,
    decision: decisionFromProto(p),
    requestHeaders: headerOpsFromProto(p.request_headers),
    responseHeaders: headerOpsFromProto(p.response_headers),
    routingMetadata: {},
    audit: auditFromProto(p.audit),
    needsMore: p.needs_more === true,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
    correlationId: str(p.correlation_id),
  };
  const processingTimeMs = optNum(p.processing_time_ms);
  if (processingTimeMs !== null) resp.processingTimeMs = processingTimeMs;
  return resp;
}

/**
 * The fate of a WebSocket frame answered over gRPC, which has no websocket_decision (§8.5):
 * Block → close with code 1008 and the block body as reason; anything else → allow.
 */
export function grpcWebSocketDecision(resp: AgentResponse): WebSocketDecision {
  const d = resp.decision;
  return d.type === 'block' ? { type: 'close', code: 1008, reason: d.body ?? '' } : { type: 'allow' };
}
