// gRPC mapping of the handshake (spec §8.4, §5.4): ProxyToAgent.handshake and AgentToProxy.handshake,
// both directions, including AgentCapabilities with its gRPC-only fields.
import type { AgentFeatures, AgentLimits, Capabilities, EventKind, HandshakeRequest, HandshakeResponse, HealthConfig } from './types.js';
import { PROTOCOL_VERSION, PROXY_ID } from './types.js';
import type {
  PbAgentCapabilities,
  PbAgentFeatures,
  PbAgentLimits,
  PbAgentToProxy,
  PbHandshakeRequest,
  PbHandshakeResponse,
  PbHealthConfig,
  PbProxyToAgent,
} from './proto-messages.js';
import { DEFAULT_HEALTH_CONFIG, DEFAULT_LIMITS, EVENT_CODE, eventKindFromCode } from './capabilities.js';
import { listOf, num, optNum, optStr, parseJsonText, str } from './proto-values.js';

// ---------------------------------------------------------------------------------------------
// HandshakeRequest (proxy → agent)

/**
 * The first message on ProcessStream. `config_json` is the JSON text of the agent's config, or "{}"
 * when there is none (null/undefined). supportedEncodings does not exist on gRPC.
 */
export function handshakeRequestToProto(
  req: Pick<HandshakeRequest, 'supportedVersions' | 'proxyId' | 'proxyVersion' | 'config'>,
): PbProxyToAgent {
  const msg: PbHandshakeRequest = {
    supported_versions: req.supportedVersions,
    proxy_id: req.proxyId || undefined,
    proxy_version: req.proxyVersion || undefined,
    config_json: req.config === null || req.config === undefined ? '{}' : JSON.stringify(req.config),
  };
  return { handshake: msg };
}

/** Our proxy's handshake: versions [2], proxy id "zentinel-proxy" (§8.4 step 3). */
export function proxyHandshakeToProto(proxyVersion: string, config: unknown): PbProxyToAgent {
  return handshakeRequestToProto({ supportedVersions: [PROTOCOL_VERSION], proxyId: PROXY_ID, proxyVersion, config });
}

/**
 * Agent side. `config_json` is parsed as is ("{}" reads as {}, '' as null); bad JSON →
 * ZAP_PROTOCOL_ERROR. `supportedEncodings` is [] (gRPC has no encodings; [] means JSON only).
 */
export function handshakeRequestFromProto(p: PbHandshakeRequest): HandshakeRequest {
  return {
    supportedVersions: listOf(p.supported_versions).map(num),
    proxyId: str(p.proxy_id),
    proxyVersion: str(p.proxy_version),
    config: parseJsonText(p.config_json, 'HandshakeRequest.config_json', null),
    supportedEncodings: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/** Codes 1–7 in the given order, deduplicated; Configure (0/8) is never emitted (D5). */
export function supportedEventsToProto(kinds: readonly EventKind[]): number[] {
  const out: number[] = [];
  for (const kind of kinds) {
    if (kind === 'configure') continue;
    const code = EVENT_CODE[kind];
    if (!out.includes(code)) out.push(code);
  }
  return out;
}

/** 0 and 8 → 'configure', 1–7 → their event, others ignored; deduplicated, first-seen order. */
function supportedEventsFromProto(codes: readonly number[] | null | undefined): EventKind[] {
  const out: EventKind[] = [];
  for (const code of listOf(codes as number[] | null | undefined)) {
    const kind = eventKindFromCode(num(code));
    if (kind !== undefined && !out.includes(kind)) out.push(kind);
  }
  return out;
}

export function capabilitiesToProto(c: Capabilities): PbAgentCapabilities {
  const f = c.features;
  const l = c.limits;
  const h = c.healthConfig ?? DEFAULT_HEALTH_CONFIG;
  const features: PbAgentFeatures = {
    streaming_body: f.streamingBody || undefined,
    websocket: f.websocket || undefined,
    guardrails: f.guardrails || undefined,
    config_push: f.configPush || undefined,
    metrics_export: f.metricsExport || undefined,
    concurrent_requests: f.concurrentRequests || undefined,
    cancellation: f.cancellation || undefined,
    flow_control: f.flowControl || undefined,
    health_reporting: f.healthReporting || undefined,
  };
  const limits: PbAgentLimits = {
    max_body_size: l.maxBodySize || undefined,
    max_concurrency: l.maxConcurrency || undefined,
    preferred_chunk_size: l.preferredChunkSize || undefined,
    max_memory: l.maxMemory,
    max_processing_time_ms: l.maxProcessingTimeMs,
  };
  const healthConfig: PbHealthConfig = {
    report_interval_ms: h.reportIntervalMs || undefined,
    include_load_metrics: h.includeLoadMetrics || undefined,
    include_resource_metrics: h.includeResourceMetrics || undefined,
  };
  return {
    protocol_version: (c.protocolVersion ?? PROTOCOL_VERSION) || undefined,
    agent_id: c.agentId || undefined,
    name: c.name || undefined,
    version: c.version || undefined,
    supported_events: supportedEventsToProto(c.supportedEvents),
    features,
    limits,
    health_config: healthConfig,
  };
}

function featuresFromProto(p: PbAgentFeatures | null | undefined): AgentFeatures {
  const f = p ?? {};
  return {
    streamingBody: f.streaming_body === true,
    websocket: f.websocket === true,
    guardrails: f.guardrails === true,
    configPush: f.config_push === true,
    metricsExport: f.metrics_export === true,
    concurrentRequests: num(f.concurrent_requests),
    cancellation: f.cancellation === true,
    flowControl: f.flow_control === true,
    healthReporting: f.health_reporting === true,
  };
}

/** A missing sub-message takes the §5.4 defaults; inside a present one, proto3 zeros are real values. */
function limitsFromProto(p: PbAgentLimits | null | undefined): AgentLimits {
  if (p === null || p === undefined) return { ...DEFAULT_LIMITS };
  const limits: AgentLimits = {
    maxBodySize: num(p.max_body_size),
    maxConcurrency: num(p.max_concurrency),
    preferredChunkSize: num(p.preferred_chunk_size),
  };
  const maxMemory = optNum(p.max_memory);
  if (maxMemory !== null) limits.maxMemory = maxMemory;
  const maxTime = optNum(p.max_processing_time_ms);
  if (maxTime !== null) limits.maxProcessingTimeMs = maxTime;
  return limits;
}

function healthConfigFromProto(p: PbHealthConfig | null | undefined): HealthConfig {
  if (p === null || p === undefined) return { ...DEFAULT_HEALTH_CONFIG };
  return {
    reportIntervalMs: num(p.report_interval_ms),
    includeLoadMetrics: p.include_load_metrics === true,
    includeResourceMetrics: p.include_resource_metrics === true,
  };
}

/** Lenient (§8.4 step 4): a missing capabilities message or sub-message takes the §5.4 defaults. */
export function capabilitiesFromProto(p: PbAgentCapabilities | null | undefined): Capabilities {
  if (p === null || p === undefined) {
    return {
      agentId: '',
      name: '',
      version: '',
      supportedEvents: ['request_headers'],
      features: featuresFromProto(null),
      limits: { ...DEFAULT_LIMITS },
      protocolVersion: PROTOCOL_VERSION,
      healthConfig: { ...DEFAULT_HEALTH_CONFIG },
    };
  }
  return {
    agentId: str(p.agent_id),
    name: str(p.name),
    version: str(p.version),
    supportedEvents: supportedEventsFromProto(p.supported_events),
    features: featuresFromProto(p.features),
    limits: limitsFromProto(p.limits),
    protocolVersion: num(p.protocol_version),
    healthConfig: healthConfigFromProto(p.health_config),
  };
}

// ---------------------------------------------------------------------------------------------
// HandshakeResponse (agent → proxy)

/** Agent side. `encoding` does not exist on gRPC and is dropped; `error` null is left unset. */
export function handshakeResponseToProto(r: HandshakeResponse): PbAgentToProxy {
  const msg: PbHandshakeResponse = {
    protocol_version: r.protocolVersion || undefined,
    capabilities: capabilitiesToProto(r.capabilities),
    success: r.success || undefined,
    error: r.error,
  };
  return { handshake: msg };
}

/**
 * Proxy side. Only maps; the §8.4 checks (success, protocol version) belong to the caller.
 * `encoding` is always 'json' (meaningless on gRPC, which is protobuf).
 */
export function handshakeResponseFromProto(p: PbHandshakeResponse): HandshakeResponse {
  return {
    protocolVersion: num(p.protocol_version),
    capabilities: capabilitiesFromProto(p.capabilities),
    success: p.success === true,
    error: optStr(p.error),
    encoding: 'json',
  };
}
