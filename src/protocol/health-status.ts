// HealthStatus (spec §7.4, D8), agent → proxy. We emit the integer form (the only one Rust proxies
// read) and accept both the integer form and the tagged form produced by Rust domain types.
import type { HealthStateCode, HealthStatus, LoadMetrics, ResourceMetrics } from './types.js';
import { HealthState } from './types.js';
import {
  asStruct,
  boolOr,
  intOr,
  isAbsent,
  numberOr,
  optInt,
  optNumber,
  optString,
  stringArrayOr,
  stringOr,
  type WireStruct,
} from './wire-reader.js';

const WHAT = 'HealthStatus';
const HEALTH_KEYS = [
  'agent_id',
  'state',
  'message',
  'load',
  'resources',
  'valid_until_ms',
  'timestamp_ms',
  'disabled_features',
  'timeout_multiplier',
  'drain_eta_ms',
  'unhealthy_reason',
  'recoverable',
] as const;
const LOAD_KEYS = [
  'in_flight',
  'queue_depth',
  'avg_latency_ms',
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'requests_processed',
  'requests_rejected',
  'requests_timed_out',
] as const;
const RESOURCE_KEYS = ['cpu_percent', 'memory_bytes', 'memory_limit', 'active_threads', 'open_fds', 'fd_limit', 'connections'] as const;

function loadToWire(l: LoadMetrics): Record<string, unknown> {
  return {
    in_flight: l.inFlight,
    queue_depth: l.queueDepth,
    avg_latency_ms: l.avgLatencyMs,
    p50_latency_ms: l.p50LatencyMs,
    p95_latency_ms: l.p95LatencyMs,
    p99_latency_ms: l.p99LatencyMs,
    requests_processed: l.requestsProcessed,
    requests_rejected: l.requestsRejected,
    requests_timed_out: l.requestsTimedOut,
  };
}

function resourcesToWire(r: ResourceMetrics): Record<string, unknown> {
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

/** Integer form, every key in the §7.4 order. */
export function healthStatusToWire(h: HealthStatus): Record<string, unknown> {
  return {
    agent_id: h.agentId,
    state: h.state,
    message: h.message,
    load: h.load === null ? null : loadToWire(h.load),
    resources: h.resources === null ? null : resourcesToWire(h.resources),
    valid_until_ms: h.validUntilMs,
    timestamp_ms: h.timestampMs,
    disabled_features: h.disabledFeatures,
    timeout_multiplier: h.timeoutMultiplier,
    drain_eta_ms: h.drainEtaMs,
    unhealthy_reason: h.unhealthyReason,
    recoverable: h.recoverable,
  };
}

function loadFromWire(v: unknown): LoadMetrics | null {
  if (isAbsent(v)) return null;
  const what = `${WHAT}.load`;
  const s = asStruct(v, LOAD_KEYS, what);
  return {
    inFlight: intOr(s, 'in_flight', what, 0),
    queueDepth: intOr(s, 'queue_depth', what, 0),
    avgLatencyMs: numberOr(s, 'avg_latency_ms', what, 0),
    p50LatencyMs: numberOr(s, 'p50_latency_ms', what, 0),
    p95LatencyMs: numberOr(s, 'p95_latency_ms', what, 0),
    p99LatencyMs: numberOr(s, 'p99_latency_ms', what, 0),
    requestsProcessed: intOr(s, 'requests_processed', what, 0),
    requestsRejected: intOr(s, 'requests_rejected', what, 0),
    requestsTimedOut: intOr(s, 'requests_timed_out', what, 0),
  };
}

function resourcesFromWire(v: unknown): ResourceMetrics | null {
  if (isAbsent(v)) return null;
  const what = `${WHAT}.resources`;
  const s = asStruct(v, RESOURCE_KEYS, what);
  return {
    cpuPercent: optNumber(s, 'cpu_percent', what),
    memoryBytes: optInt(s, 'memory_bytes', what),
    memoryLimit: optInt(s, 'memory_limit', what),
    activeThreads: optInt(s, 'active_threads', what),
    openFds: optInt(s, 'open_fds', what),
    fdLimit: optInt(s, 'fd_limit', what),
    connections: optInt(s, 'connections', what),
  };
}

/** ≤ 0, non-finite or missing reads as 1 (§7.4). */
function multiplier(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 1;
}

const STATUS_CODE: Readonly<Record<string, HealthStateCode>> = {
  healthy: HealthState.Healthy,
  degraded: HealthState.Degraded,
  draining: HealthState.Draining,
  unhealthy: HealthState.Unhealthy,
};

function integerState(v: unknown): HealthStateCode {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4) return v as HealthStateCode;
  return HealthState.Unspecified;
}

/**
 * Integer and tagged forms (§7.4). An unknown state — integer out of range, unknown `status`, any
 * other shape — reads as state 0, which the caller ignores. A wrongly typed field is a ZAP_PROTOCOL_ERROR.
 */
export function healthStatusFromWire(v: unknown): HealthStatus {
  const s = asStruct(v, HEALTH_KEYS, WHAT);
  const out: HealthStatus = {
    agentId: stringOr(s, 'agent_id', WHAT, ''),
    state: HealthState.Unspecified,
    message: optString(s, 'message', WHAT),
    load: loadFromWire(s['load']),
    resources: resourcesFromWire(s['resources']),
    validUntilMs: optInt(s, 'valid_until_ms', WHAT),
    timestampMs: intOr(s, 'timestamp_ms', WHAT, 0),
    disabledFeatures: stringArrayOr(s, 'disabled_features', WHAT),
    timeoutMultiplier: multiplier(numberOr(s, 'timeout_multiplier', WHAT, 1)),
    drainEtaMs: optInt(s, 'drain_eta_ms', WHAT),
    unhealthyReason: optString(s, 'unhealthy_reason', WHAT),
    // Missing reads as recoverable: a partial report must not get a connection closed (§10.6).
    recoverable: boolOr(s, 'recoverable', WHAT, true),
  };
  const state = s['state'];
  if (typeof state === 'object' && state !== null && !Array.isArray(state)) {
    applyTaggedState(out, asStruct(state, [], `${WHAT}.state`));
  } else {
    out.state = integerState(state);
  }
  return out;
}

/** Tagged form: `state` is internally tagged by `status`; the variant's fields live inside it. */
function applyTaggedState(out: HealthStatus, st: WireStruct): void {
  const what = `${WHAT}.state`;
  const status = st['status'];
  const code = typeof status === 'string' ? STATUS_CODE[status] : undefined;
  if (code === undefined) return; // unknown status: stays 0 (ignored by the caller)
  out.state = code;
  switch (code) {
    case HealthState.Degraded:
      if (!isAbsent(st['disabled_features'])) out.disabledFeatures = stringArrayOr(st, 'disabled_features', what);
      if (!isAbsent(st['timeout_multiplier'])) {
        out.timeoutMultiplier = multiplier(numberOr(st, 'timeout_multiplier', what, 1));
      }
      break;
    case HealthState.Draining:
      if ('eta_ms' in st) out.drainEtaMs = optInt(st, 'eta_ms', what);
      break;
    case HealthState.Unhealthy:
      if (!isAbsent(st['reason'])) out.unhealthyReason = optString(st, 'reason', what);
      if (!isAbsent(st['recoverable'])) out.recoverable = boolOr(st, 'recoverable', what, true);
      break;
    default:
      break;
  }
}
