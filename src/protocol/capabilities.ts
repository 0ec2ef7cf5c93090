// Capabilities object of the UDS handshake and reverse registration (spec §5.4), and the
// `supported_events` code table (D5). Writers send every key (Rust peers require all of them);
// readers are lenient: a missing key takes the default of the §5.4 table.
import type { AgentFeatures, AgentLimits, Capabilities, EventKind, HealthConfig } from './types.js';
import { PROTOCOL_VERSION } from './types.js';
import { asStruct, boolOr, intOr, isAbsent, stringOr, type WireStruct } from './wire-reader.js';
import { protocolError } from './errors.js';

/** Event codes of `supported_events`. Configure is 8 here, but it is never emitted (see capabilitiesToWire). */
export const EVENT_CODE: Readonly<Record<EventKind, number>> = Object.freeze({
  request_headers: 1,
  request_body_chunk: 2,
  response_headers: 3,
  response_body_chunk: 4,
  request_complete: 5,
  websocket_frame: 6,
  guardrail_inspect: 7,
  configure: 8,
});

// Index = wire code. Rust peers disagree on Configure (0 on UDS, 8 on gRPC), so both read as it.
const KIND_BY_CODE: readonly EventKind[] = [
  'configure',
  'request_headers',
  'request_body_chunk',
  'response_headers',
  'response_body_chunk',
  'request_complete',
  'websocket_frame',
  'guardrail_inspect',
  'configure',
];

/** 0 and 8 → 'configure'; 1–7 → their event; anything else → undefined (ignored by readers). */
export function eventKindFromCode(code: number): EventKind | undefined {
  return Number.isInteger(code) && code >= 0 ? KIND_BY_CODE[code] : undefined;
}

export const DEFAULT_LIMITS: Readonly<AgentLimits> = Object.freeze({
  maxBodySize: 10_485_760,
  maxConcurrency: 100,
  preferredChunkSize: 65_536,
});

/** Filled in when capabilities come from UDS/reverse, which cannot carry it (spec §5.4 last paragraph). */
export const DEFAULT_HEALTH_CONFIG: Readonly<HealthConfig> = Object.freeze({
  reportIntervalMs: 10_000,
  includeLoadMetrics: true,
  includeResourceMetrics: false,
});

function noFeatures(): AgentFeatures {
  return {
    streamingBody: false,
    websocket: false,
    guardrails: false,
    configPush: false,
    metricsExport: false,
    concurrentRequests: 0,
    cancellation: false,
    flowControl: false,
    healthReporting: false,
  };
}

/**
 * The §5.4 reading defaults (empty names, `[request_headers]`, every feature off, default limits) —
 * also exactly the capabilities of a handshake refusal (§5.3) — with the given overrides applied.
 * gRPC-only fields (protocolVersion, healthConfig) are left out.
 */
export function defaultCapabilities(
  overrides: {
    agentId?: string;
    name?: string;
    version?: string;
    supportedEvents?: EventKind[];
    features?: Partial<AgentFeatures>;
    limits?: Partial<AgentLimits>;
  } = {},
): Capabilities {
  return {
    agentId: overrides.agentId ?? '',
    name: overrides.name ?? '',
    version: overrides.version ?? '',
    supportedEvents: overrides.supportedEvents ? [...overrides.supportedEvents] : ['request_headers'],
    features: { ...noFeatures(), ...overrides.features },
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
  };
}

/** Wire codes 1–7 in the given order, deduplicated; 'configure' is never written (D5). */
function eventCodesToWire(kinds: readonly EventKind[]): number[] {
  const out: number[] = [];
  for (const kind of kinds) {
    if (kind === 'configure') continue;
    const code = EVENT_CODE[kind];
    if (!out.includes(code)) out.push(code);
  }
  return out;
}

/** Every key, canonical order; gRPC-only fields are not written (they do not exist on UDS). */
export function capabilitiesToWire(c: Capabilities): Record<string, unknown> {
  const f = c.features;
  const l = c.limits;
  return {
    agent_id: c.agentId,
    name: c.name,
    version: c.version,
    supported_events: eventCodesToWire(c.supportedEvents),
    features: {
      streaming_body: f.streamingBody,
      websocket: f.websocket,
      guardrails: f.guardrails,
      config_push: f.configPush,
      metrics_export: f.metricsExport,
      concurrent_requests: f.concurrentRequests,
      cancellation: f.cancellation,
      flow_control: f.flowControl,
      health_reporting: f.healthReporting,
    },
    limits: {
      max_body_size: l.maxBodySize,
      max_concurrency: l.maxConcurrency,
      preferred_chunk_size: l.preferredChunkSize,
    },
  };
}

const CAPABILITIES_KEYS = ['agent_id', 'name', 'version', 'supported_events', 'features', 'limits'] as const;
const FEATURE_KEYS = [
  'streaming_body',
  'websocket',
  'guardrails',
  'config_push',
  'metrics_export',
  'concurrent_requests',
  'cancellation',
  'flow_control',
  'health_reporting',
] as const;
const LIMIT_KEYS = ['max_body_size', 'max_concurrency', 'preferred_chunk_size'] as const;

const WHAT = 'Capabilities';

function eventKindsFromWire(v: unknown): EventKind[] {
  if (isAbsent(v)) return ['request_headers'];
  if (!Array.isArray(v)) throw protocolError(`${WHAT}: key 'supported_events' must be an array`);
  const out: EventKind[] = [];
  for (const code of v) {
    // Unknown codes (and non-numbers) are ignored rather than failing the whole handshake.
    const kind = typeof code === 'number' ? eventKindFromCode(code) : undefined;
    if (kind !== undefined && !out.includes(kind)) out.push(kind);
  }
  return out;
}

function featuresFromWire(v: unknown): AgentFeatures {
  if (isAbsent(v)) return noFeatures();
  const s = asStruct(v, FEATURE_KEYS, `${WHAT}.features`);
  const what = `${WHAT}.features`;
  return {
    streamingBody: boolOr(s, 'streaming_body', what, false),
    websocket: boolOr(s, 'websocket', what, false),
    guardrails: boolOr(s, 'guardrails', what, false),
    configPush: boolOr(s, 'config_push', what, false),
    metricsExport: boolOr(s, 'metrics_export', what, false),
    concurrentRequests: intOr(s, 'concurrent_requests', what, 0),
    cancellation: boolOr(s, 'cancellation', what, false),
    flowControl: boolOr(s, 'flow_control', what, false),
    healthReporting: boolOr(s, 'health_reporting', what, false),
  };
}

function limitsFromWire(v: unknown): AgentLimits {
  if (isAbsent(v)) return { ...DEFAULT_LIMITS };
  const what = `${WHAT}.limits`;
  const s: WireStruct = asStruct(v, LIMIT_KEYS, what);
  return {
    maxBodySize: intOr(s, 'max_body_size', what, DEFAULT_LIMITS.maxBodySize),
    maxConcurrency: intOr(s, 'max_concurrency', what, DEFAULT_LIMITS.maxConcurrency),
    preferredChunkSize: intOr(s, 'preferred_chunk_size', what, DEFAULT_LIMITS.preferredChunkSize),
  };
}

/**
 * Lenient reader (§5.4): missing keys take their defaults, a present key of the wrong type is a
 * ZAP_PROTOCOL_ERROR. UDS cannot carry the gRPC-only fields, so protocolVersion 2 and the default
 * health config are filled in.
 */
export function capabilitiesFromWire(v: unknown): Capabilities {
  const s = asStruct(v, CAPABILITIES_KEYS, WHAT);
  return {
    agentId: stringOr(s, 'agent_id', WHAT, ''),
    name: stringOr(s, 'name', WHAT, ''),
    version: stringOr(s, 'version', WHAT, ''),
    supportedEvents: eventKindsFromWire(s['supported_events']),
    features: featuresFromWire(s['features']),
    limits: limitsFromWire(s['limits']),
    protocolVersion: PROTOCOL_VERSION,
    healthConfig: { ...DEFAULT_HEALTH_CONFIG },
  };
}
