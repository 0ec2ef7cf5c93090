// TypeScript shapes of the plain objects that @grpc/proto-loader produces and accepts for
// proto/agent_v2.proto under PROTO_LOADER_OPTIONS (snake_case, uint64 as number, bytes as Buffer).
// Every field may be absent, null or undefined: protobufjs' fromObject skips `== null` values, so
// our encoders build fixed-shape objects and write `undefined` for proto3 default values (0, '',
// false) to get the canonical encoding of the Rust peers (defaults not written). Decoders accept
// objects with or without defaults filled in; proto-loader reports an unset message field as null.
// Virtual oneof keys (`message`, `decision`, …) appear on decoded objects only.

type Opt<T> = T | null | undefined;

export interface PbHeader {
  name?: Opt<string>;
  value?: Opt<string>;
}

export interface PbHandshakeRequest {
  supported_versions?: Opt<number[]>;
  proxy_id?: Opt<string>;
  proxy_version?: Opt<string>;
  config_json?: Opt<string>;
}

export interface PbAgentFeatures {
  streaming_body?: Opt<boolean>;
  websocket?: Opt<boolean>;
  guardrails?: Opt<boolean>;
  config_push?: Opt<boolean>;
  metrics_export?: Opt<boolean>;
  concurrent_requests?: Opt<number>;
  cancellation?: Opt<boolean>;
  flow_control?: Opt<boolean>;
  health_reporting?: Opt<boolean>;
}

export interface PbAgentLimits {
  max_body_size?: Opt<number>;
  max_concurrency?: Opt<number>;
  preferred_chunk_size?: Opt<number>;
  max_memory?: Opt<number>;
  max_processing_time_ms?: Opt<number>;
}

export interface PbHealthConfig {
  report_interval_ms?: Opt<number>;
  include_load_metrics?: Opt<boolean>;
  include_resource_metrics?: Opt<boolean>;
}

export interface PbAgentCapabilities {
  protocol_version?: Opt<number>;
  agent_id?: Opt<string>;
  name?: Opt<string>;
  version?: Opt<string>;
  supported_events?: Opt<number[]>;
  features?: Opt<PbAgentFeatures>;
  limits?: Opt<PbAgentLimits>;
  health_config?: Opt<PbHealthConfig>;
}

export interface PbHandshakeResponse {
  protocol_version?: Opt<number>;
  capabilities?: Opt<PbAgentCapabilities>;
  success?: Opt<boolean>;
  error?: Opt<string>;
}

export interface PbRequestMetadata {
  correlation_id?: Opt<string>;
  request_id?: Opt<string>;
  client_ip?: Opt<string>;
  client_port?: Opt<number>;
  server_name?: Opt<string>;
  protocol?: Opt<string>;
  tls_version?: Opt<string>;
  route_id?: Opt<string>;
  upstream_id?: Opt<string>;
  timestamp_ms?: Opt<number>;
  traceparent?: Opt<string>;
}

export interface PbRequestHeadersEvent {
  metadata?: Opt<PbRequestMetadata>;
  method?: Opt<string>;
  uri?: Opt<string>;
  http_version?: Opt<string>;
  headers?: Opt<PbHeader[]>;
}

export interface PbResponseHeadersEvent {
  correlation_id?: Opt<string>;
  status_code?: Opt<number>;
  headers?: Opt<PbHeader[]>;
}

export interface PbBodyChunkEvent {
  correlation_id?: Opt<string>;
  chunk_index?: Opt<number>;
  data?: Opt<Uint8Array>;
  is_last?: Opt<boolean>;
  total_size?: Opt<number>;
  bytes_transferred?: Opt<number>;
  proxy_buffer_available?: Opt<number>;
  timestamp_ms?: Opt<number>;
}

export interface PbWebSocketFrameEvent {
  correlation_id?: Opt<string>;
  client_to_server?: Opt<boolean>;
  frame_type?: Opt<number>;
  payload?: Opt<Uint8Array>;
}

export interface PbGuardrailInspectEvent {
  correlation_id?: Opt<string>;
  content?: Opt<string>;
  content_type?: Opt<number>;
  model?: Opt<string>;
  context_json?: Opt<string>;
}

export interface PbRequestCompleteEvent {
  correlation_id?: Opt<string>;
  status_code?: Opt<number>;
  duration_ms?: Opt<number>;
  bytes_received?: Opt<number>;
  bytes_sent?: Opt<number>;
  upstream?: Opt<string>;
  from_cache?: Opt<boolean>;
  error?: Opt<string>;
}

export interface PbConfigureEvent {
  config_json?: Opt<string>;
  config_version?: Opt<string>;
  is_initial?: Opt<boolean>;
  timestamp_ms?: Opt<number>;
}

export interface PbPing {
  sequence?: Opt<number>;
  timestamp_ms?: Opt<number>;
}

export interface PbPong {
  sequence?: Opt<number>;
  ping_timestamp_ms?: Opt<number>;
  timestamp_ms?: Opt<number>;
}

export interface PbCancelRequest {
  correlation_id?: Opt<string>;
  reason?: Opt<number>;
  timestamp_ms?: Opt<number>;
  blocking_agent_id?: Opt<string>;
  manual_reason?: Opt<string>;
}

export interface PbProxyToAgent {
  handshake?: Opt<PbHandshakeRequest>;
  request_headers?: Opt<PbRequestHeadersEvent>;
  request_body_chunk?: Opt<PbBodyChunkEvent>;
  response_headers?: Opt<PbResponseHeadersEvent>;
  response_body_chunk?: Opt<PbBodyChunkEvent>;
  websocket_frame?: Opt<PbWebSocketFrameEvent>;
  guardrail?: Opt<PbGuardrailInspectEvent>;
  request_complete?: Opt<PbRequestCompleteEvent>;
  cancel?: Opt<PbCancelRequest>;
  configure?: Opt<PbConfigureEvent>;
  ping?: Opt<PbPing>;
  /** Virtual oneof key on decoded objects. */
  message?: Opt<string>;
}

// ---------------------------------------------------------------------------------------------
// AgentResponse

export type PbAllowDecision = Record<string, never>;

export interface PbBlockDecision {
  status?: Opt<number>;
  body?: Opt<string>;
  headers?: Opt<PbHeader[]>;
}

export interface PbRedirectDecision {
  url?: Opt<string>;
  status?: Opt<number>;
}

export interface PbChallengeDecision {
  challenge_type?: Opt<string>;
  params?: Opt<Record<string, string>>;
}

export interface PbHeaderOp {
  set?: Opt<PbHeader>;
  add?: Opt<PbHeader>;
  remove?: Opt<string>;
  operation?: Opt<string>;
}

export interface PbAuditMetadata {
  tags?: Opt<string[]>;
  rule_ids?: Opt<string[]>;
  confidence?: Opt<number>;
  reason_codes?: Opt<string[]>;
  custom?: Opt<Record<string, string>>;
}

export interface PbAgentResponse {
  correlation_id?: Opt<string>;
  allow?: Opt<PbAllowDecision>;
  block?: Opt<PbBlockDecision>;
  redirect?: Opt<PbRedirectDecision>;
  challenge?: Opt<PbChallengeDecision>;
  request_headers?: Opt<PbHeaderOp[]>;
  response_headers?: Opt<PbHeaderOp[]>;
  audit?: Opt<PbAuditMetadata>;
  processing_time_ms?: Opt<number>;
  needs_more?: Opt<boolean>;
  decision?: Opt<string>;
}

// ---------------------------------------------------------------------------------------------
// Agent → proxy control

export interface PbLoadMetrics {
  in_flight?: Opt<number>;
  queue_depth?: Opt<number>;
  avg_latency_ms?: Opt<number>;
  p50_latency_ms?: Opt<number>;
  p95_latency_ms?: Opt<number>;
  p99_latency_ms?: Opt<number>;
  requests_processed?: Opt<number>;
  requests_rejected?: Opt<number>;
  requests_timed_out?: Opt<number>;
}

export interface PbResourceMetrics {
  cpu_percent?: Opt<number>;
  memory_bytes?: Opt<number>;
  memory_limit?: Opt<number>;
  active_threads?: Opt<number>;
  open_fds?: Opt<number>;
  fd_limit?: Opt<number>;
  connections?: Opt<number>;
}

export interface PbHealthStatus {
  agent_id?: Opt<string>;
  state?: Opt<number>;
  message?: Opt<string>;
  load?: Opt<PbLoadMetrics>;
  resources?: Opt<PbResourceMetrics>;
  valid_until_ms?: Opt<number>;
  timestamp_ms?: Opt<number>;
  disabled_features?: Opt<string[]>;
  timeout_multiplier?: Opt<number>;
  drain_eta_ms?: Opt<number>;
  unhealthy_reason?: Opt<string>;
  recoverable?: Opt<boolean>;
}

export interface PbMetricSample {
  name?: Opt<string>;
  help?: Opt<string>;
  labels?: Opt<Record<string, string>>;
  value?: Opt<number>;
}

export interface PbHistogramBucket {
  le?: Opt<number>;
  count?: Opt<number>;
}

export interface PbHistogramMetric {
  name?: Opt<string>;
  help?: Opt<string>;
  labels?: Opt<Record<string, string>>;
  sum?: Opt<number>;
  count?: Opt<number>;
  buckets?: Opt<PbHistogramBucket[]>;
}

export interface PbMetricsReport {
  agent_id?: Opt<string>;
  timestamp_ms?: Opt<number>;
  interval_ms?: Opt<number>;
  counters?: Opt<PbMetricSample[]>;
  gauges?: Opt<PbMetricSample[]>;
  histograms?: Opt<PbHistogramMetric[]>;
}

export interface PbRuleDefinition {
  id?: Opt<string>;
  priority?: Opt<number>;
  definition_json?: Opt<string>;
  enabled?: Opt<boolean>;
  description?: Opt<string>;
  tags?: Opt<string[]>;
}

export interface PbRuleUpdate {
  rule_set?: Opt<string>;
  rules?: Opt<PbRuleDefinition[]>;
  remove_rules?: Opt<string[]>;
}

export interface PbListUpdate {
  list_id?: Opt<string>;
  add?: Opt<string[]>;
  remove?: Opt<string[]>;
}

export interface PbRestartRequired {
  reason?: Opt<string>;
  grace_period_ms?: Opt<number>;
}

export interface PbConfigError {
  error?: Opt<string>;
  field?: Opt<string>;
}

export interface PbConfigUpdateRequest {
  request_id?: Opt<string>;
  timestamp_ms?: Opt<number>;
  request_reload?: Opt<Record<string, never>>;
  rule_update?: Opt<PbRuleUpdate>;
  list_update?: Opt<PbListUpdate>;
  restart_required?: Opt<PbRestartRequired>;
  config_error?: Opt<PbConfigError>;
  update_type?: Opt<string>;
}

export interface PbConfigUpdateResponse {
  request_id?: Opt<string>;
  accepted?: Opt<boolean>;
  error?: Opt<string>;
  timestamp_ms?: Opt<number>;
}

export interface PbFlowControlSignal {
  correlation_id?: Opt<string>;
  action?: Opt<number>;
  buffer_available?: Opt<number>;
  timestamp_ms?: Opt<number>;
}

export interface PbLogMessage {
  level?: Opt<number>;
  message?: Opt<string>;
  correlation_id?: Opt<string>;
  fields?: Opt<Record<string, string>>;
  timestamp_ms?: Opt<number>;
}

export interface PbAgentToProxy {
  handshake?: Opt<PbHandshakeResponse>;
  response?: Opt<PbAgentResponse>;
  health?: Opt<PbHealthStatus>;
  metrics?: Opt<PbMetricsReport>;
  config_update?: Opt<PbConfigUpdateRequest>;
  flow_control?: Opt<PbFlowControlSignal>;
  pong?: Opt<PbPong>;
  log?: Opt<PbLogMessage>;
  message?: Opt<string>;
}

/** ProxyControl (ControlStream); our side only ever builds `config_response`. */
export interface PbProxyControl {
  configure?: Opt<PbConfigureEvent>;
  shutdown?: Opt<{ reason?: Opt<number>; grace_period_ms?: Opt<number>; timestamp_ms?: Opt<number> }>;
  drain?: Opt<{ duration_ms?: Opt<number>; reason?: Opt<number>; timestamp_ms?: Opt<number> }>;
  config_response?: Opt<PbConfigUpdateResponse>;
  message?: Opt<string>;
}
