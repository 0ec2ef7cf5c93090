// gRPC mapping of the small control messages (spec §7): Cancel and Ping (proxy → agent), Pong,
// HealthStatus, FlowControlSignal and LogMessage (agent → proxy), each in both directions: the
// proxy and our agent SDK both encode what they send and decode what they receive.
// `…ToProto` returns the stream envelope; `…FromProto` takes the inner message.
import type {
  CancelMessage,
  FlowActionCode,
  FlowControlSignal,
  HealthStateCode,
  HealthStatus,
  LoadMetrics,
  LogMessage,
  PingMessage,
  PongMessage,
  ResourceMetrics,
} from './types.js';
import type {
  PbAgentToProxy,
  PbCancelRequest,
  PbFlowControlSignal,
  PbHealthStatus,
  PbLoadMetrics,
  PbLogMessage,
  PbPing,
  PbPong,
  PbProxyToAgent,
  PbResourceMetrics,
} from './proto-messages.js';
import { cancelReasonFromGrpc, cancelReasonToGrpc } from './cancel.js';
import { f32, listOf, mapOf, num, optNum, optStr, str } from './proto-values.js';

// ---------------------------------------------------------------------------------------------
// Cancel and Ping (proxy → agent)

/**
 * gRPC reason numbering 1–6 (null → 0 unspecified, left unset). `blocking_agent_id` travels only
 * with blocked_by_agent and `manual_reason` only with manual, when given (§7.1).
 */
export function cancelToProto(c: CancelMessage): PbProxyToAgent {
  const msg: PbCancelRequest = {
    correlation_id: c.correlationId || undefined,
    reason: c.reason === null ? undefined : cancelReasonToGrpc(c.reason),
    timestamp_ms: c.timestampMs || undefined,
    blocking_agent_id: c.reason === 'blocked_by_agent' ? c.blockingAgentId : undefined,
    manual_reason: c.reason === 'manual' ? c.manualReason : undefined,
  };
  return { cancel: msg };
}

/** 1–6 → reason, 0 or unknown → null; the optional strings only when present. */
export function cancelFromProto(p: PbCancelRequest): CancelMessage {
  const c: CancelMessage = {
    correlationId: str(p.correlation_id),
    reason: cancelReasonFromGrpc(num(p.reason)),
    timestampMs: num(p.timestamp_ms),
  };
  if (typeof p.blocking_agent_id === 'string') c.blockingAgentId = p.blocking_agent_id;
  if (typeof p.manual_reason === 'string') c.manualReason = p.manual_reason;
  return c;
}

export function pingToProto(p: PingMessage): PbProxyToAgent {
  const msg: PbPing = { sequence: p.sequence || undefined, timestamp_ms: p.timestampMs || undefined };
  return { ping: msg };
}

export function pingFromProto(p: PbPing): PingMessage {
  return { sequence: num(p.sequence), timestampMs: num(p.timestamp_ms) };
}

// ---------------------------------------------------------------------------------------------
// Pong (agent → proxy): a message of its own on gRPC, not a byte echo (§7.2)

export function pongToProto(p: PongMessage): PbAgentToProxy {
  const msg: PbPong = {
    sequence: p.sequence || undefined,
    ping_timestamp_ms: p.pingTimestampMs || undefined,
    timestamp_ms: p.timestampMs || undefined,
  };
  return { pong: msg };
}

export function pongFromProto(p: PbPong): PongMessage {
  return { sequence: num(p.sequence), pingTimestampMs: num(p.ping_timestamp_ms), timestampMs: num(p.timestamp_ms) };
}

// ---------------------------------------------------------------------------------------------
// HealthStatus (§7.4; the integer form is the proto form)

function loadToProto(l: LoadMetrics): PbLoadMetrics {
  return {
    in_flight: l.inFlight || undefined,
    queue_depth: l.queueDepth || undefined,
    avg_latency_ms: l.avgLatencyMs || undefined,
    p50_latency_ms: l.p50LatencyMs || undefined,
    p95_latency_ms: l.p95LatencyMs || undefined,
    p99_latency_ms: l.p99LatencyMs || undefined,
    requests_processed: l.requestsProcessed || undefined,
    requests_rejected: l.requestsRejected || undefined,
    requests_timed_out: l.requestsTimedOut || undefined,
  };
}

function resourcesToProto(r: ResourceMetrics): PbResourceMetrics {
  // All optional (explicit presence): null stays unset, 0 is written.
  return {
    cpu_percent: r.cpuPercent,
    memory_bytes: r.memoryBytes,
    memory_limit: r.memoryLimit,
    active_threads: r.activeThreads,
    open_fds: r.openFds,
    fd_limit: r.fdLimit,
    connections: r.connections,
  };
}

export function healthToProto(h: HealthStatus): PbAgentToProxy {
  const msg: PbHealthStatus = {
    agent_id: h.agentId || undefined,
    state: h.state || undefined,
    message: h.message,
    load: h.load === null ? null : loadToProto(h.load),
    resources: h.resources === null ? null : resourcesToProto(h.resources),
    valid_until_ms: h.validUntilMs,
    timestamp_ms: h.timestampMs || undefined,
    disabled_features: h.disabledFeatures,
    timeout_multiplier: h.timeoutMultiplier || undefined,
    drain_eta_ms: h.drainEtaMs,
    unhealthy_reason: h.unhealthyReason,
    recoverable: h.recoverable || undefined,
  };
  return { health: msg };
}

function loadFromProto(p: PbLoadMetrics): LoadMetrics {
  return {
    inFlight: num(p.in_flight),
    queueDepth: num(p.queue_depth),
    avgLatencyMs: f32(p.avg_latency_ms),
    p50LatencyMs: f32(p.p50_latency_ms),
    p95LatencyMs: f32(p.p95_latency_ms),
    p99LatencyMs: f32(p.p99_latency_ms),
    requestsProcessed: num(p.requests_processed),
    requestsRejected: num(p.requests_rejected),
    requestsTimedOut: num(p.requests_timed_out),
  };
}

function resourcesFromProto(p: PbResourceMetrics): ResourceMetrics {
  const cpu = optNum(p.cpu_percent);
  return {
    cpuPercent: cpu === null ? null : f32(cpu),
    memoryBytes: optNum(p.memory_bytes),
    memoryLimit: optNum(p.memory_limit),
    activeThreads: optNum(p.active_threads),
    openFds: optNum(p.open_fds),
    fdLimit: optNum(p.fd_limit),
    connections: optNum(p.connections),
  };
}

/** A state outside 0–4 reads as 0 (unspecified, ignored by the pool); a multiplier ≤ 0 or unset reads as 1. */
export function healthFromProto(p: PbHealthStatus): HealthStatus {
  const state = num(p.state);
  const multiplier = f32(p.timeout_multiplier);
  return {
    agentId: str(p.agent_id),
    state: (Number.isInteger(state) && state >= 0 && state <= 4 ? state : 0) as HealthStateCode,
    message: optStr(p.message),
    load: p.load ? loadFromProto(p.load) : null,
    resources: p.resources ? resourcesFromProto(p.resources) : null,
    validUntilMs: optNum(p.valid_until_ms),
    timestampMs: num(p.timestamp_ms),
    disabledFeatures: listOf(p.disabled_features),
    timeoutMultiplier: multiplier > 0 ? multiplier : 1,
    drainEtaMs: optNum(p.drain_eta_ms),
    unhealthyReason: optStr(p.unhealthy_reason),
    recoverable: p.recoverable === true,
  };
}

// ---------------------------------------------------------------------------------------------
// FlowControlSignal (§7.7)

export function flowControlToProto(f: FlowControlSignal): PbAgentToProxy {
  const msg: PbFlowControlSignal = {
    correlation_id: f.correlationId, // null = global, left unset
    action: f.action || undefined,
    buffer_available: f.bufferAvailable,
    timestamp_ms: f.timestampMs || undefined,
  };
  return { flow_control: msg };
}

/** An action outside 0–3 reads as 0 (unspecified, ignored by the pool). */
export function flowControlFromProto(p: PbFlowControlSignal): FlowControlSignal {
  const action = num(p.action);
  return {
    correlationId: optStr(p.correlation_id),
    action: (Number.isInteger(action) && action >= 0 && action <= 3 ? action : 0) as FlowActionCode,
    bufferAvailable: optNum(p.buffer_available),
    timestampMs: num(p.timestamp_ms),
  };
}

// ---------------------------------------------------------------------------------------------
// LogMessage (§7.3, gRPC only)

export function logToProto(l: LogMessage): PbAgentToProxy {
  const msg: PbLogMessage = {
    level: l.level || undefined,
    message: l.message || undefined,
    correlation_id: l.correlationId,
    fields: l.fields,
    timestamp_ms: l.timestampMs || undefined,
  };
  return { log: msg };
}

export function logFromProto(p: PbLogMessage): LogMessage {
  const l: LogMessage = {
    level: num(p.level),
    message: str(p.message),
    fields: mapOf(p.fields),
    timestampMs: num(p.timestamp_ms),
  };
  if (typeof p.correlation_id === 'string') l.correlationId = p.correlation_id;
  return l;
}
