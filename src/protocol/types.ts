// Over 400 lines on purpose: one declaration file for every message of the protocol, kept together
// so the wire mapping reads against one list.
// Domain types of Zentinel Agent Protocol v2 (spec §5–§9), camelCase.
// Wire JSON keeps snake_case; the conversion lives in the codec files of this folder only.
// Byte fields are Uint8Array (Buffer is fine); integers are JS numbers (all values stay below 2^53).

export const PROTOCOL_VERSION = 2;
export const PROXY_ID = 'zentinel-proxy';

export type Encoding = 'json' | 'msgpack';
/** Configuration value for negotiation (spec §4.3). */
export type EncodingSetting = 'json' | 'msgpack' | 'prefer-msgpack';

/** Header map: name → values in arrival order (spec §6.2). */
export type HeaderMap = Record<string, string[]>;

/** The eight proxy → agent events. The string is also the `supported_events` name we use in the API. */
export type EventKind =
  | 'request_headers'
  | 'request_body_chunk'
  | 'response_headers'
  | 'response_body_chunk'
  | 'request_complete'
  | 'websocket_frame'
  | 'guardrail_inspect'
  | 'configure';

export interface RequestMetadata {
  correlationId: string;
  requestId: string;
  clientIp: string;
  clientPort: number;
  serverName: string | null;
  /** "HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3" */
  protocol: string;
  tlsVersion: string | null;
  tlsCipher: string | null;
  routeId: string | null;
  upstreamId: string | null;
  /** RFC 3339 text, UTC, e.g. 2026-01-01T00:00:00.000Z */
  timestamp: string;
  /** W3C traceparent; omitted on the wire when absent. */
  traceparent?: string;
}

export interface RequestHeadersEvent {
  metadata: RequestMetadata;
  method: string;
  uri: string;
  headers: HeaderMap;
}

export interface RequestBodyChunkEvent {
  correlationId: string;
  data: Uint8Array;
  isLast: boolean;
  totalSize: number | null;
  chunkIndex: number;
  /** Cumulative bytes of this body including this chunk. */
  bytesReceived: number;
  /** gRPC only (`proxy_buffer_available`): free buffer bytes at the proxy. */
  proxyBufferAvailable?: number;
}

export interface ResponseBodyChunkEvent {
  correlationId: string;
  data: Uint8Array;
  isLast: boolean;
  totalSize: number | null;
  chunkIndex: number;
  /** Cumulative bytes of this body including this chunk. */
  bytesSent: number;
  /** gRPC only (`proxy_buffer_available`). */
  proxyBufferAvailable?: number;
}

export interface ResponseHeadersEvent {
  correlationId: string;
  status: number;
  headers: HeaderMap;
}

export interface RequestCompleteEvent {
  correlationId: string;
  status: number;
  durationMs: number;
  requestBodySize: number;
  responseBodySize: number;
  upstreamAttempts: number;
  error: string | null;
  /** gRPC only (`upstream`). */
  upstream?: string;
  /** gRPC only (`from_cache`), default false. */
  fromCache?: boolean;
}

export type WebSocketOpcode = 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong';

export interface WebSocketFrameEvent {
  correlationId: string;
  opcode: WebSocketOpcode;
  data: Uint8Array;
  clientToServer: boolean;
  frameIndex: number;
  fin: boolean;
  routeId: string | null;
  clientIp: string;
}

export type GuardrailInspectionType = 'prompt_injection' | 'pii_detection';

export interface GuardrailInspectEvent {
  correlationId: string;
  inspectionType: GuardrailInspectionType;
  content: string;
  /** Omitted on the wire when absent. */
  model?: string;
  categories: string[];
  /** Omitted on the wire when absent. */
  routeId?: string;
  metadata: Record<string, string>;
  /** gRPC only (`content_type`, GuardrailContentType), default 1 PROMPT. */
  contentType?: number;
}

export interface ConfigureEvent {
  /** The push id, `push-<n>`. */
  correlationId: string;
  config: unknown;
  configVersion: string | null;
  isInitial: boolean;
}

export interface EventMap {
  request_headers: RequestHeadersEvent;
  request_body_chunk: RequestBodyChunkEvent;
  response_headers: ResponseHeadersEvent;
  response_body_chunk: ResponseBodyChunkEvent;
  request_complete: RequestCompleteEvent;
  websocket_frame: WebSocketFrameEvent;
  guardrail_inspect: GuardrailInspectEvent;
  configure: ConfigureEvent;
}

export type AnyEvent = EventMap[EventKind];

// ---------------------------------------------------------------------------------------------
// AgentResponse (spec §6.9)

export type Decision =
  | { type: 'allow' }
  | { type: 'block'; status: number; body: string | null; headers: Record<string, string> | null }
  | { type: 'redirect'; url: string; status: number }
  | { type: 'challenge'; challengeType: string; params: Record<string, string> };

export type DecisionType = Decision['type'];

export type HeaderOp =
  { op: 'set'; name: string; value: string } | { op: 'add'; name: string; value: string } | { op: 'remove'; name: string };

export interface AuditMetadata {
  tags: string[];
  ruleIds: string[];
  confidence: number | null;
  reasonCodes: string[];
  /** Any JSON values; carries `correlation_id`. */
  custom: Record<string, unknown>;
}

export interface BodyMutation {
  /** null = pass through; "" = drop; else replacement (response: base64, request: UTF-8 text). */
  data: string | null;
  chunkIndex: number;
}

export type WebSocketDecision = { type: 'allow' } | { type: 'drop' } | { type: 'close'; code: number; reason: string };

export interface AgentResponse {
  version: number;
  decision: Decision;
  requestHeaders: HeaderOp[];
  responseHeaders: HeaderOp[];
  routingMetadata: Record<string, string>;
  audit: AuditMetadata;
  needsMore: boolean;
  requestBodyMutation: BodyMutation | null;
  responseBodyMutation: BodyMutation | null;
  websocketDecision: WebSocketDecision | null;
  /** Top-level correlation id when the agent wrote one. */
  correlationId?: string;
  /** gRPC only. */
  processingTimeMs?: number;
  /** Set by the pool for a fail-open synthetic Allow (spec §10.5); never on the wire. */
  synthetic?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Control messages (spec §7)

export type CancelReason = 'client_disconnect' | 'timeout' | 'blocked_by_agent' | 'upstream_error' | 'proxy_shutdown' | 'manual';

export const CANCEL_REASONS: readonly CancelReason[] = [
  'client_disconnect',
  'timeout',
  'blocked_by_agent',
  'upstream_error',
  'proxy_shutdown',
  'manual',
];

export interface CancelMessage {
  correlationId: string;
  /** null = unspecified (only possible when reading). */
  reason: CancelReason | null;
  timestampMs: number;
  /** gRPC only. */
  blockingAgentId?: string;
  /** gRPC only. */
  manualReason?: string;
}

export interface PingMessage {
  sequence: number;
  timestampMs: number;
}

/** gRPC Pong; on UDS a Pong is the Ping payload echoed byte for byte. */
export interface PongMessage {
  sequence: number;
  pingTimestampMs: number;
  timestampMs: number;
}

export const HealthState = {
  Unspecified: 0,
  Healthy: 1,
  Degraded: 2,
  Draining: 3,
  Unhealthy: 4,
} as const;
export type HealthStateCode = (typeof HealthState)[keyof typeof HealthState];

export interface LoadMetrics {
  inFlight: number;
  queueDepth: number;
  avgLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  requestsProcessed: number;
  requestsRejected: number;
  requestsTimedOut: number;
}

export interface ResourceMetrics {
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimit: number | null;
  activeThreads: number | null;
  openFds: number | null;
  fdLimit: number | null;
  connections: number | null;
}

export interface HealthStatus {
  agentId: string;
  state: HealthStateCode;
  message: string | null;
  load: LoadMetrics | null;
  resources: ResourceMetrics | null;
  validUntilMs: number | null;
  timestampMs: number;
  disabledFeatures: string[];
  /** ≤ 0 or missing reads as 1. */
  timeoutMultiplier: number;
  drainEtaMs: number | null;
  unhealthyReason: string | null;
  recoverable: boolean;
}

export interface MetricSample {
  name: string;
  help?: string;
  labels: Record<string, string>;
  value: number;
}

export interface HistogramBucket {
  /** Upper bound; Infinity for the +Inf bucket. */
  le: number;
  count: number;
}

export interface HistogramSample {
  name: string;
  help?: string;
  labels: Record<string, string>;
  sum: number;
  count: number;
  buckets: HistogramBucket[];
}

export interface MetricsReport {
  agentId: string;
  timestampMs: number;
  intervalMs: number;
  counters: MetricSample[];
  gauges: MetricSample[];
  histograms: HistogramSample[];
}

export interface RuleDefinition {
  id: string;
  priority: number;
  definition: unknown;
  enabled: boolean;
  description: string | null;
  tags: string[];
}

export type ConfigUpdateType =
  | { type: 'request_reload' }
  | { type: 'rule_update'; ruleSet: string; rules: RuleDefinition[]; removeRules: string[] }
  | { type: 'list_update'; listId: string; add: string[]; remove: string[] }
  | { type: 'restart_required'; reason: string; gracePeriodMs: number }
  | { type: 'config_error'; error: string; field: string | null };

export interface ConfigUpdateRequest {
  updateType: ConfigUpdateType;
  requestId: string;
  timestampMs: number;
}

export interface ConfigUpdateResponse {
  requestId: string;
  accepted: boolean;
  error: string | null;
  timestampMs: number;
}

export const FlowAction = {
  Unspecified: 0,
  Pause: 1,
  Resume: 2,
  UpdateCapacity: 3,
} as const;
export type FlowActionCode = (typeof FlowAction)[keyof typeof FlowAction];

export interface FlowControlSignal {
  /** null = the whole connection. */
  correlationId: string | null;
  action: FlowActionCode;
  bufferAvailable: number | null;
  timestampMs: number;
}

/** gRPC only (spec §7.3). level 0 unspecified, 1 debug, 2 info, 3 warn, 4 error. */
export interface LogMessage {
  level: number;
  message: string;
  correlationId?: string;
  fields: Record<string, string>;
  timestampMs: number;
}

// ---------------------------------------------------------------------------------------------
// Handshake, capabilities, registration (spec §5, §9)

export interface AgentFeatures {
  streamingBody: boolean;
  websocket: boolean;
  guardrails: boolean;
  configPush: boolean;
  metricsExport: boolean;
  concurrentRequests: number;
  cancellation: boolean;
  flowControl: boolean;
  healthReporting: boolean;
}

export interface AgentLimits {
  maxBodySize: number;
  maxConcurrency: number;
  preferredChunkSize: number;
  /** gRPC only. */
  maxMemory?: number;
  /** gRPC only. */
  maxProcessingTimeMs?: number;
}

export interface HealthConfig {
  reportIntervalMs: number;
  includeLoadMetrics: boolean;
  includeResourceMetrics: boolean;
}

export interface Capabilities {
  agentId: string;
  name: string;
  version: string;
  /** Deduplicated; wire codes 0 and 8 both read as 'configure', which is never emitted. */
  supportedEvents: EventKind[];
  features: AgentFeatures;
  limits: AgentLimits;
  /** gRPC only; 2 when read from UDS. */
  protocolVersion?: number;
  /** gRPC only; defaults when read from UDS. */
  healthConfig?: HealthConfig;
}

export interface HandshakeRequest {
  supportedVersions: number[];
  proxyId: string;
  proxyVersion: string;
  config: unknown;
  supportedEncodings: Encoding[];
}

export interface HandshakeResponse {
  protocolVersion: number;
  capabilities: Capabilities;
  success: boolean;
  error: string | null;
  /** Absent on the wire reads as 'json'. */
  encoding: Encoding;
}

export interface RegistrationRequest {
  protocolVersion: number;
  agentId: string;
  capabilities: Capabilities;
  authToken: string | null;
  metadata: unknown;
}

export interface RegistrationResponse {
  success: boolean;
  error: string | null;
  proxyId: string;
  proxyVersion: string;
  connectionId: string;
}
