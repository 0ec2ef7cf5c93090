// AgentResponse in the form it crosses a MessagePort from a worker: only the keys that differ
// from their defaults (most replies carry 2–3 of the 10), so the main thread deserialises a few
// objects instead of about ten. fromSparse restores the full object with fresh defaults.
import type { AgentResponse } from '../protocol/types.js';

export interface SparseResponse {
  v: number;
  d: AgentResponse['decision'];
  rq?: AgentResponse['requestHeaders'];
  rs?: AgentResponse['responseHeaders'];
  rm?: AgentResponse['routingMetadata'];
  /** The full audit, or only its `custom` map (`ac`) when everything else is at its default. */
  a?: AgentResponse['audit'];
  ac?: AgentResponse['audit']['custom'];
  nm?: true;
  qm?: NonNullable<AgentResponse['requestBodyMutation']>;
  pm?: NonNullable<AgentResponse['responseBodyMutation']>;
  wd?: NonNullable<AgentResponse['websocketDecision']>;
  cid?: string;
  pt?: number;
}

export function toSparse(r: AgentResponse): SparseResponse {
  const s: SparseResponse = { v: r.version, d: r.decision };
  if (r.requestHeaders.length > 0) s.rq = r.requestHeaders;
  if (r.responseHeaders.length > 0) s.rs = r.responseHeaders;
  for (const _ in r.routingMetadata) {
    s.rm = r.routingMetadata;
    break;
  }
  const a = r.audit;
  if (a.tags.length > 0 || a.ruleIds.length > 0 || a.reasonCodes.length > 0 || a.confidence !== null) s.a = a;
  else s.ac = a.custom;
  if (r.needsMore) s.nm = true;
  if (r.requestBodyMutation !== null) s.qm = r.requestBodyMutation;
  if (r.responseBodyMutation !== null) s.pm = r.responseBodyMutation;
  if (r.websocketDecision !== null) s.wd = r.websocketDecision;
  if (r.correlationId !== undefined) s.cid = r.correlationId;
  if (r.processingTimeMs !== undefined) s.pt = r.processingTimeMs;
  return s;
}

export function fromSparse(s: SparseResponse): AgentResponse {
  const r: AgentResponse = {
    version: s.v,
    decision: s.d,
    requestHeaders: s.rq ?? [],
    responseHeaders: s.rs ?? [],
    routingMetadata: s.rm ?? {},
    audit: s.a ?? { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: s.ac ?? {} },
    needsMore: s.nm === true,
    requestBodyMutation: s.qm ?? null,
    responseBodyMutation: s.pm ?? null,
    websocketDecision: s.wd ?? null,
  };
  if (s.cid !== undefined) r.correlationId = s.cid;
  if (s.pt !== undefined) r.processingTimeMs = s.pt;
  return r;
}
