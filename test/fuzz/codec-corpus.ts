// Seed inputs for the codec fuzzer: one valid wire value per message kind the UDS / reverse readers
// accept, built with our own encoders so they start out well-formed (the domain samples are exported
// for the gRPC seeds too). The fuzzer mutates them.
import type { AgentResponse, Capabilities, EventKind, HealthStatus, MetricsReport } from '../../src/protocol/types.js';
import { agentResponseToWire, allowResponse } from '../../src/protocol/agent-response.js';
import { capabilitiesToWire, defaultCapabilities } from '../../src/protocol/capabilities.js';
import { eventToWire } from '../../src/protocol/events.js';
import { healthStatusToWire } from '../../src/protocol/health-status.js';
import { metricsReportToWire } from '../../src/protocol/metrics-report.js';
import { flowControlToWire } from '../../src/protocol/flow-control.js';
import { configUpdateRequestToWire, configUpdateResponseToWire } from '../../src/protocol/config-update.js';
import { ALL_EVENT_KINDS, sampleDomainEvent } from '../support/events.js';

export const capabilities: Capabilities = defaultCapabilities({
  agentId: 'waf-1',
  name: 'WAF',
  version: '1.2.3',
  supportedEvents: ['request_headers', 'request_body_chunk', 'response_headers'],
  features: { streamingBody: true, cancellation: true, healthReporting: true, concurrentRequests: 64 },
});

export const blockResponse: AgentResponse = {
  ...allowResponse(),
  decision: { type: 'block', status: 403, body: 'denied', headers: { 'x-why': 'rule 942100' } },
  requestHeaders: [
    { op: 'set', name: 'x-waf', value: 'checked' },
    { op: 'remove', name: 'cookie' },
  ],
  responseHeaders: [{ op: 'add', name: 'x-trace', value: 't-1' }],
  routingMetadata: { upstream: 'b' },
  audit: { tags: ['sqli'], ruleIds: ['942100'], confidence: 0.93, reasonCodes: ['SQLI'], custom: { score: 12 } },
  needsMore: false,
  requestBodyMutation: { data: 'redacted', chunkIndex: 0 },
  responseBodyMutation: { data: null, chunkIndex: 1 },
  websocketDecision: { type: 'close', code: 1008, reason: 'policy' },
};

export const redirectResponse: AgentResponse = {
  ...allowResponse(),
  decision: { type: 'redirect', url: 'https://login.example/', status: 302 },
};

export const challengeResponse: AgentResponse = {
  ...allowResponse(),
  decision: { type: 'challenge', challengeType: 'captcha', params: { site: 'k' } },
  needsMore: true,
};

export const health: HealthStatus = {
  agentId: 'waf-1',
  state: 2,
  message: 'busy',
  load: {
    inFlight: 3,
    queueDepth: 1,
    avgLatencyMs: 1.5,
    p50LatencyMs: 1,
    p95LatencyMs: 4,
    p99LatencyMs: 9.5,
    requestsProcessed: 1000,
    requestsRejected: 2,
    requestsTimedOut: 0,
  },
  resources: {
    cpuPercent: 12.5,
    memoryBytes: 1 << 28,
    memoryLimit: null,
    activeThreads: 4,
    openFds: 20,
    fdLimit: 1024,
    connections: 2,
  },
  validUntilMs: 1_767_225_605_000,
  timestampMs: 1_767_225_600_000,
  disabledFeatures: ['websocket'],
  timeoutMultiplier: 1.5,
  drainEtaMs: null,
  unhealthyReason: null,
  recoverable: true,
};

export const metrics: MetricsReport = {
  agentId: 'waf-1',
  timestampMs: 1_767_225_600_000,
  intervalMs: 10_000,
  counters: [{ name: 'requests_total', labels: { route: 'a' }, value: 10 }],
  gauges: [{ name: 'queue', labels: {}, value: 1.5, help: 'queue depth' }],
  histograms: [
    {
      name: 'latency',
      labels: {},
      sum: 2.5,
      count: 3,
      buckets: [
        { le: 0.5, count: 1 },
        { le: Infinity, count: 3 },
      ],
    },
  ],
};

/** Valid wire values (JSON-shaped plain objects) per decoder family, keyed as the fuzzer's targets use them. */
export interface WireCorpus {
  events: Record<EventKind, Record<string, unknown>>;
  responses: Record<string, unknown>[];
  health: Record<string, unknown>;
  metrics: Record<string, unknown>;
  flowControl: Record<string, unknown>;
  configUpdateRequests: Record<string, unknown>[];
  configUpdateResponse: Record<string, unknown>;
  handshakeRequest: Record<string, unknown>;
  handshakeResponse: Record<string, unknown>;
  registrationRequest: Record<string, unknown>;
  registrationResponse: Record<string, unknown>;
  cancel: Record<string, unknown>;
  ping: Record<string, unknown>;
}

export function wireCorpus(): WireCorpus {
  const events = {} as Record<EventKind, Record<string, unknown>>;
  for (const kind of ALL_EVENT_KINDS) events[kind] = eventToWire(kind, sampleDomainEvent(kind, 'c-1'), 'c-1', false);
  return {
    events,
    responses: [allowResponse(), blockResponse, redirectResponse, challengeResponse].map((r) => agentResponseToWire(r, 'c-1')),
    health: healthStatusToWire(health),
    metrics: metricsReportToWire(metrics),
    flowControl: flowControlToWire({ correlationId: 'c-1', action: 1, bufferAvailable: 4096, timestampMs: 1 }),
    configUpdateRequests: [
      configUpdateRequestToWire({ updateType: { type: 'request_reload' }, requestId: 'u-1', timestampMs: 1 }),
      configUpdateRequestToWire({
        updateType: {
          type: 'rule_update',
          ruleSet: 'crs',
          rules: [{ id: 'r1', priority: 1, definition: { match: 'x' }, enabled: true, description: null, tags: ['t'] }],
          removeRules: ['r0'],
        },
        requestId: 'u-2',
        timestampMs: 2,
      }),
      configUpdateRequestToWire({
        updateType: { type: 'list_update', listId: 'ips', add: ['1.2.3.4'], remove: [] },
        requestId: 'u-3',
        timestampMs: 3,
      }),
      configUpdateRequestToWire({
        updateType: { type: 'restart_required', reason: 'x', gracePeriodMs: 5 },
        requestId: 'u-4',
        timestampMs: 4,
      }),
      configUpdateRequestToWire({ updateType: { type: 'config_error', error: 'bad', field: 'a.b' }, requestId: 'u-5', timestampMs: 5 }),
    ],
    configUpdateResponse: configUpdateResponseToWire({ requestId: 'u-1', accepted: false, error: 'no', timestampMs: 1 }),
    handshakeRequest: {
      supported_versions: [2],
      proxy_id: 'zentinel-proxy',
      proxy_version: '1.0.0',
      config: { mode: 'strict', rules: [1, 2] },
      supported_encodings: ['msgpack', 'json'],
    },
    handshakeResponse: {
      protocol_version: 2,
      capabilities: capabilitiesToWire(capabilities),
      success: true,
      error: null,
      encoding: 'msgpack',
    },
    registrationRequest: {
      protocol_version: 2,
      agent_id: 'waf-1',
      capabilities: capabilitiesToWire(capabilities),
      auth_token: 'secret',
      metadata: { zone: 'eu' },
    },
    registrationResponse: { success: true, error: null, proxy_id: 'zentinel-proxy', proxy_version: '1.0.0', connection_id: 'waf-1-19b' },
    cancel: { correlation_id: 'c-1', reason: 2, timestamp_ms: 1_767_225_600_000 },
    ping: { sequence: 1, timestamp_ms: 1_767_225_600_000 },
  };
}
