// Reply builders for handler authors, and the one place that turns a handler's partial Reply into a
// full AgentResponse with the §6.9.1 defaults.
import type { AgentResponse, AuditMetadata, BodyMutation, Decision } from '../protocol/types.js';
import { PROTOCOL_VERSION } from '../protocol/types.js';
import { encodeBase64 } from '../protocol/wire-reader.js';
import type { Reply } from './handler.js';
import { BlockReplyBuilder, ReplyBuilder } from './reply-builder.js';

const ALLOW: Decision = Object.freeze({ type: 'allow' }) as Decision;

/** Allow, to chain on: `allow().setRequestHeader('x-user', id).withTag('authenticated')`. */
export function allow(): ReplyBuilder {
  return new ReplyBuilder({ decision: ALLOW });
}

/**
 * Block with `status`: `block(403).withBody('Forbidden').withRuleId('941100')`. The body and the block
 * response's headers may also be given here, as before.
 */
export function block(status: number, body: string | null = null, headers: Record<string, string> | null = null): BlockReplyBuilder {
  const frozenHeaders = headers === null ? null : Object.freeze({ ...headers });
  return new BlockReplyBuilder({ decision: Object.freeze({ type: 'block', status, body, headers: frozenHeaders }) });
}

/** Redirect the client to `url` (status 301, 302, 303, 307 or 308). */
export function redirect(url: string, status = 302): ReplyBuilder {
  return new ReplyBuilder({ decision: Object.freeze({ type: 'redirect', url, status }) });
}

/** Ask the proxy to challenge the client (e.g. `challenge('captcha', { site_key: 'k' })`). */
export function challenge(challengeType: string, params: Record<string, string> = {}): ReplyBuilder {
  return new ReplyBuilder({ decision: Object.freeze({ type: 'challenge', challengeType, params: Object.freeze({ ...params }) }) });
}

/** §6.9.7: a request-side replacement travels as UTF-8 text (binary request bodies cannot be replaced). */
export function replaceRequestChunk(text: string, chunkIndex: number): BodyMutation {
  return { data: text, chunkIndex };
}

/** §6.9.7: a response-side replacement travels as base64 of the bytes. */
export function replaceResponseChunk(bytes: Uint8Array, chunkIndex: number): BodyMutation {
  return { data: encodeBase64(bytes), chunkIndex };
}

/** §6.9.7: forward zero bytes for this chunk (a Rust proxy honours it on the request side only). */
export function dropChunk(chunkIndex: number): BodyMutation {
  return { data: '', chunkIndex };
}

export interface GuardrailDetection {
  category: string;
  description: string;
  severity?: 'low' | 'medium' | 'high' | 'critical';
  confidence?: number;
  span?: { start: number; end: number };
}

export interface GuardrailVerdict {
  detected: boolean;
  confidence?: number;
  detections?: GuardrailDetection[];
  redactedContent?: string;
}

/** §6.7: a guardrail verdict rides in routing_metadata.guardrail_response as JSON text. */
export function guardrailReply(v: GuardrailVerdict): ReplyBuilder {
  const wire: Record<string, unknown> = {
    detected: v.detected,
    confidence: v.confidence ?? 0,
    detections: (v.detections ?? []).map((d) => ({ ...d, severity: d.severity ?? 'medium' })),
  };
  if (v.redactedContent !== undefined) wire['redacted_content'] = v.redactedContent;
  return allow().withRoutingMetadata('guardrail_response', JSON.stringify(wire));
}

function fullAudit(a: Partial<AuditMetadata> | undefined): AuditMetadata {
  return {
    tags: a?.tags ?? [],
    ruleIds: a?.ruleIds ?? [],
    confidence: a?.confidence ?? null,
    reasonCodes: a?.reasonCodes ?? [],
    custom: a?.custom ?? {},
  };
}

/** Fills every key a handler left out with its §6.9.1 default (no decision = allow). */
export function toAgentResponse(reply: Reply | void): AgentResponse {
  if (reply === undefined || reply === null) return allowResponse();
  return {
    version: PROTOCOL_VERSION,
    decision: reply.decision ?? ALLOW,
    requestHeaders: reply.requestHeaders ?? [],
    responseHeaders: reply.responseHeaders ?? [],
    routingMetadata: reply.routingMetadata ?? {},
    audit: fullAudit(reply.audit),
    needsMore: reply.needsMore ?? false,
    requestBodyMutation: reply.requestBodyMutation ?? null,
    responseBodyMutation: reply.responseBodyMutation ?? null,
    websocketDecision: reply.websocketDecision ?? null,
  };
}

function allowResponse(): AgentResponse {
  return {
    version: PROTOCOL_VERSION,
    decision: ALLOW,
    requestHeaders: [],
    responseHeaders: [],
    routingMetadata: {},
    audit: fullAudit(undefined),
    needsMore: false,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
  };
}

/** What a connection sends when the handler threw or returned something unsendable. */
export function agentErrorResponse(): AgentResponse {
  return toAgentResponse(block(500, 'Agent error'));
}

/** §6.10 agent side: an undecodable event is answered Allow; a WebSocket frame also gets "allow". */
export function undecodableEventResponse(isWebSocket: boolean): AgentResponse {
  const r = allowResponse();
  if (isWebSocket) r.websocketDecision = { type: 'allow' };
  return r;
}
