// gRPC domain ↔ proto mapping (spec §8.5): every message round-trips domain → proto → bytes →
// proto → domain through the same serializers grpc-js uses, plus the one-way rules of the tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import fc from 'fast-check';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { loadProtoDefinition, loadProtoRoot, PROTO_FILE, PROTO_LOADER_OPTIONS } from '../src/transport/proto-schema.js';
import {
  agentResponseFromProto,
  agentResponseToProto,
  agentToProxyFromProto,
  capabilitiesFromProto,
  capabilitiesToProto,
  configUpdateResponseFromProto,
  configUpdateResponseToProto,
  eventToProto,
  flowControlToProto,
  grpcDroppedResponseFields,
  grpcReplyCorrelationId,
  grpcWebSocketDecision,
  handshakeRequestToProto,
  handshakeResponseToProto,
  healthToProto,
  logToProto,
  metricsToProto,
  pongToProto,
  proxyToAgentFromProto,
  supportedEventsToProto,
  type PbAgentToProxy,
  type PbProxyControl,
  type PbProxyToAgent,
} from '../src/protocol/proto-mapping.js';
import type { AgentResponse, Capabilities, EventKind, EventMap, HandshakeResponse, HealthStatus } from '../src/protocol/types.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { allowResponse } from '../src/protocol/agent-response.js';

const T0 = 1_767_225_600_000;
const def = loadProtoDefinition();
const P2A = def['zentinel.agent.v2.ProxyToAgent'] as MessageTypeDefinition<PbProxyToAgent, PbProxyToAgent>;
const A2P = def['zentinel.agent.v2.AgentToProxy'] as MessageTypeDefinition<PbAgentToProxy, PbAgentToProxy>;
const PC = def['zentinel.agent.v2.ProxyControl'] as MessageTypeDefinition<PbProxyControl, PbProxyControl>;

/** Through the wire: what the other side's grpc-js hands to its mapping. */
const viaP2A = (m: PbProxyToAgent): PbProxyToAgent => P2A.deserialize(P2A.serialize(m));
const viaA2P = (m: PbAgentToProxy): PbAgentToProxy => A2P.deserialize(A2P.serialize(m));

function response(overrides: Partial<AgentResponse> = {}): AgentResponse {
  return { ...allowResponse(), correlationId: 'req-7', ...overrides };
}

// ---------------------------------------------------------------------------------------------
// Schema

test('PROTO_FILE is the absolute path of proto/agent_v2.proto and both loaders read it', () => {
  assert.ok(isAbsolute(PROTO_FILE));
  assert.ok(PROTO_FILE.endsWith('/proto/agent_v2.proto'));
  assert.ok(existsSync(PROTO_FILE));
  const service = def['zentinel.agent.v2.AgentServiceV2'] as Record<
    string,
    { path: string; requestStream: boolean; responseStream: boolean }
  >;
  assert.equal(service['ProcessStream']?.path, '/zentinel.agent.v2.AgentServiceV2/ProcessStream');
  assert.equal(service['ProcessStream']?.requestStream, true);
  assert.equal(service['ControlStream']?.responseStream, true);
  assert.equal(service['ProcessEvent']?.requestStream, false);
  assert.equal(loadProtoDefinition(), def, 'cached');
  assert.equal(loadProtoRoot(), loadProtoRoot(), 'cached');
  assert.equal(PROTO_LOADER_OPTIONS.keepCase, true);
  assert.equal(PROTO_LOADER_OPTIONS.longs, Number);
  // Field numbers that only matter on the wire, spot-checked against §8.3.
  const root = loadProtoRoot();
  assert.equal(root.lookupType('zentinel.agent.v2.AgentResponse').fields['needs_more']?.id, 14);
  assert.equal(root.lookupType('zentinel.agent.v2.HealthStatus').fields['disabled_features']?.id, 10);
  assert.equal(root.lookupType('zentinel.agent.v2.ConfigUpdateRequest').fields['config_error']?.id, 14);
  assert.equal(root.lookupType('zentinel.agent.v2.ProxyToAgent').fields['ping']?.id, 11);
});

// ---------------------------------------------------------------------------------------------
// Events, proxy → agent → decoded by the agent SDK

const EVENTS: { [K in EventKind]: EventMap[K] } = {
  request_headers: {
    metadata: {
      correlationId: 'req-7',
      requestId: 'r-1',
      clientIp: '192.0.2.10',
      clientPort: 51514,
      serverName: null,
      protocol: 'HTTP/1.1',
      tlsVersion: null,
      tlsCipher: null,
      routeId: 'checkout',
      upstreamId: 'shop-backend',
      timestamp: '2026-01-01T00:00:00.123Z',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
    method: 'POST',
    uri: '/cart?step=2',
    headers: { host: ['shop.example'], 'set-cookie': ['a=1', 'b=2'], accept: ['*/*'] },
  },
  request_body_chunk: {
    correlationId: 'req-7',
    data: Buffer.from([0x00, 0xff, 0x10, 0x80]),
    isLast: false,
    totalSize: 0,
    chunkIndex: 2,
    bytesReceived: 12,
    proxyBufferAvailable: 65536,
  },
  response_headers: { correlationId: 'req-7', status: 200, headers: { 'content-type': ['text/html'], 'set-cookie': ['a=1', 'b=2'] } },
  response_body_chunk: {
    correlationId: 'req-7',
    data: Buffer.from('hello'),
    isLast: true,
    totalSize: null,
    chunkIndex: 0,
    bytesSent: 5,
    proxyBufferAvailable: 0,
  },
  request_complete: {
    correlationId: 'req-7',
    status: 502,
    durationMs: 42,
    requestBodySize: 14,
    responseBodySize: 0,
    upstreamAttempts: 1,
    error: 'upstream reset',
    upstream: 'shop-backend',
    fromCache: false,
  },
  websocket_frame: {
    correlationId: 'req-9',
    opcode: 'close',
    data: Buffer.from([0x03, 0xe8]),
    clientToServer: false,
    frameIndex: 0,
    fin: true,
    routeId: null,
    clientIp: '',
  },
  guardrail_inspect: {
    correlationId: 'gr-31',
    inspectionType: 'pii_detection',
    content: 'my card is 4111',
    model: 'gpt-x',
    categories: ['pii', 'finance'],
    routeId: 'llm',
    metadata: { tenant: 't1' },
    contentType: 2,
  },
  configure: { correlationId: 'push-1', config: { 'paranoia-level': 2, countries: ['RU'] }, configVersion: 'push-1', isInitial: true },
};

for (const kind of Object.keys(EVENTS) as EventKind[]) {
  test(`event ${kind}: domain → proto → bytes → domain`, () => {
    const event = EVENTS[kind];
    const decoded = proxyToAgentFromProto(viaP2A(eventToProto(kind, event, cidOf(kind), T0)));
    assert.deepEqual(decoded, { type: 'event', kind, correlationId: cidOf(kind), event });
  });
}

function cidOf(kind: EventKind): string {
  const e = EVENTS[kind] as { correlationId?: string; metadata?: { correlationId: string } };
  return e.correlationId ?? e.metadata?.correlationId ?? '';
}

test('event mapping: send-time timestamp_ms, bytes_transferred, content_type default, context_json text', () => {
  const chunk = P2A.serialize(eventToProto('response_body_chunk', EVENTS.response_body_chunk, 'req-7', T0));
  const m = P2A.deserialize(chunk).response_body_chunk;
  assert.equal(m?.timestamp_ms, T0);
  assert.equal(m?.bytes_transferred, 5);
  assert.equal(m?.total_size, undefined, 'total_size null → unset');

  const { contentType: _unused, routeId: _r, ...noDefaults } = EVENTS.guardrail_inspect;
  const g = eventToProto('guardrail_inspect', noDefaults, 'gr-31', T0).guardrail;
  assert.equal(g?.content_type, 1, 'default PROMPT');
  assert.equal(
    g?.context_json,
    '{"inspection_type":"pii_detection","categories":["pii","finance"],"route_id":null,"metadata":{"tenant":"t1"}}',
  );
  const back = proxyToAgentFromProto(viaP2A(eventToProto('guardrail_inspect', noDefaults, 'gr-31', T0)));
  assert.deepEqual(back, { type: 'event', kind: 'guardrail_inspect', correlationId: 'gr-31', event: { ...noDefaults, contentType: 1 } });
});

test("event mapping: the correlationId argument wins over the event's own ids; RequestHeaders metadata carries it", () => {
  const p = viaP2A(eventToProto('request_headers', EVENTS.request_headers, 'other', T0));
  assert.equal(p.request_headers?.metadata?.correlation_id, 'other');
  assert.equal(p.request_headers?.http_version, 'HTTP/1.1');
  assert.equal(p.request_headers?.metadata?.timestamp_ms, T0 + 123);
  const c = viaP2A(eventToProto('request_body_chunk', EVENTS.request_body_chunk, 'other', T0));
  assert.equal(c.request_body_chunk?.correlation_id, 'other');
});

test('Configure: config_version carries the cid when none is given; the reply cid is config_version', () => {
  const event = { correlationId: 'push-2', config: null, configVersion: null, isInitial: false };
  const p = viaP2A(eventToProto('configure', event, 'push-2', T0));
  assert.equal(p.configure?.config_version, 'push-2');
  assert.equal(p.configure?.config_json, 'null');
  assert.deepEqual(proxyToAgentFromProto(p), {
    type: 'event',
    kind: 'configure',
    correlationId: 'push-2',
    event: { correlationId: 'push-2', config: null, configVersion: 'push-2', isInitial: false },
  });
  assert.equal(grpcReplyCorrelationId('configure', { ...event, configVersion: 'v7' }, 'push-2'), 'v7');
  assert.equal(grpcReplyCorrelationId('configure', event, 'push-2'), 'push-2');
  assert.equal(grpcReplyCorrelationId('response_headers', EVENTS.response_headers, 'req-7'), 'req-7');
});

test('agent side: undecodable JSON text fields throw ZAP_PROTOCOL_ERROR carrying the cid', () => {
  for (const msg of [
    { guardrail: { correlation_id: 'gr-1', context_json: '{oops' } },
    { guardrail: { correlation_id: 'gr-1', context_json: '{"inspection_type":"toxicity"}' } },
    { configure: { config_version: 'gr-1', config_json: '[1,' } },
    { websocket_frame: { correlation_id: 'gr-1', frame_type: 9 } },
  ]) {
    assert.throws(
      () => proxyToAgentFromProto(msg),
      (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_PROTOCOL_ERROR' && err.correlationId === 'gr-1',
    );
  }
});

test('agent side: handshake with config, and an empty ProxyToAgent is unknown', () => {
  const p = viaP2A(handshakeRequestToProto({ supportedVersions: [2, 1], proxyId: 'p', proxyVersion: '9', config: { a: [1] } }));
  assert.equal(p.handshake?.config_json, '{"a":[1]}');
  assert.deepEqual(proxyToAgentFromProto(p), {
    type: 'handshake',
    handshake: { supportedVersions: [2, 1], proxyId: 'p', proxyVersion: '9', config: { a: [1] }, supportedEncodings: [] },
  });
  assert.deepEqual(proxyToAgentFromProto(viaP2A({})), { type: 'unknown' });
  assert.deepEqual(agentToProxyFromProto(viaA2P({})), { type: 'unknown' });
});

// ---------------------------------------------------------------------------------------------
// AgentResponse

const RESPONSES: Array<[string, AgentResponse]> = [
  [
    'allow with ops and audit',
    response({
      requestHeaders: [
        { op: 'set', name: 'x-user', value: 'alice' },
        { op: 'add', name: 'x-tag', value: 'a' },
        { op: 'remove', name: 'cookie' },
      ],
      responseHeaders: [{ op: 'set', name: 'x-frame-options', value: 'DENY' }],
      audit: {
        tags: ['sqli'],
        ruleIds: ['942100'],
        confidence: 0.98,
        reasonCodes: ['SQLI'],
        custom: { correlation_id: 'req-7', note: 'x' },
      },
      needsMore: true,
      processingTimeMs: 0,
    }),
  ],
  [
    'block with headers',
    response({ decision: { type: 'block', status: 403, body: null, headers: { 'x-blocked-by': 'waf', 'x-b': '2' } } }),
  ],
  ['redirect', response({ decision: { type: 'redirect', url: 'https://login.example/', status: 302 }, processingTimeMs: 7 })],
  ['challenge', response({ decision: { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } } })],
  ['challenge with {} params', response({ decision: { type: 'challenge', challengeType: 'js', params: {} } })],
];

for (const [name, resp] of RESPONSES) {
  test(`AgentResponse ${name}: agent → proto → bytes → proxy`, () => {
    assert.deepEqual(agentToProxyFromProto(viaA2P(agentResponseToProto(resp, 'req-7'))), {
      type: 'response',
      correlationId: 'req-7',
      response: resp,
    });
  });
}

test('AgentResponse encode: custom non-string values as JSON text; uncarriable fields dropped and named', () => {
  const resp = response({
    audit: {
      tags: [],
      ruleIds: [],
      confidence: null,
      reasonCodes: [],
      custom: { correlation_id: 'req-7', n: 3, o: { a: true }, s: 'x', u: undefined },
    },
    routingMetadata: { guardrail_response: '{}' },
    requestBodyMutation: { data: '', chunkIndex: 0 },
    websocketDecision: { type: 'drop' },
  });
  const p = viaA2P(agentResponseToProto(resp, 'req-7'));
  assert.deepEqual(p.response?.audit?.custom, { correlation_id: 'req-7', n: '3', o: '{"a":true}', s: 'x' });
  const back = agentToProxyFromProto(p);
  assert.ok(back.type === 'response');
  assert.deepEqual(back.response.routingMetadata, {});
  assert.equal(back.response.requestBodyMutation, null);
  assert.equal(back.response.websocketDecision, null);
  assert.deepEqual(grpcDroppedResponseFields(resp), ['routing_metadata', 'request_body_mutation', 'websocket_decision']);
  assert.deepEqual(grpcDroppedResponseFields(response()), []);
});

test(
  'AgentResponse decode (§8.5): unset decision = Allow; block headers last wins, [] → null; empty ' +
    'HeaderOp dropped; audit unset → empty',
  () => {
    assert.deepEqual(agentResponseFromProto({ correlation_id: 'c' }), response({ correlationId: 'c' }));
    const blocked = agentResponseFromProto({
      block: {
        status: 451,
        headers: [
          { name: 'x', value: '1' },
          { name: 'y', value: '2' },
          { name: 'x', value: '3' },
        ],
      },
      request_headers: [{}, { remove: 'cookie' }, { set: null }],
    });
    assert.deepEqual(blocked.decision, { type: 'block', status: 451, body: null, headers: { x: '3', y: '2' } });
    assert.deepEqual(blocked.requestHeaders, [{ op: 'remove', name: 'cookie' }]);
    const fromBytes = agentToProxyFromProto(A2P.deserialize(A2P.serialize({ response: { block: { status: 403, headers: [] } } })));
    assert.ok(fromBytes.type === 'response');
    assert.deepEqual(fromBytes.response.decision, { type: 'block', status: 403, body: null, headers: null });
    assert.deepEqual(fromBytes.response.audit, { tags: [], ruleIds: [], confidence: null, reasonCodes: [], custom: {} });
    assert.equal('processingTimeMs' in fromBytes.response, false);
  },
);

test('AgentResponse decode: audit.custom strings are kept as received (no JSON decoding); float confidence reads back short', () => {
  const p = viaA2P({ response: { correlation_id: 'c', audit: { custom: { n: '3', j: '{"a":1}' }, confidence: 0.1 } } });
  const d = agentToProxyFromProto(p);
  assert.ok(d.type === 'response');
  assert.deepEqual(d.response.audit.custom, { n: '3', j: '{"a":1}' });
  assert.equal(d.response.audit.confidence, 0.1);
});

test('grpcWebSocketDecision: Block → close 1008 with the block body; anything else → allow', () => {
  assert.deepEqual(grpcWebSocketDecision(response({ decision: { type: 'block', status: 403, body: 'no', headers: null } })), {
    type: 'close',
    code: 1008,
    reason: 'no',
  });
  assert.deepEqual(grpcWebSocketDecision(response({ decision: { type: 'block', status: 403, body: null, headers: null } })), {
    type: 'close',
    code: 1008,
    reason: '',
  });
  assert.deepEqual(grpcWebSocketDecision(response()), { type: 'allow' });
});

// ---------------------------------------------------------------------------------------------
// Handshake response and capabilities

const CAPS: Capabilities = {
  agentId: 'waf',
  name: 'Example WAF',
  version: '3.1.0',
  supportedEvents: ['request_headers', 'request_body_chunk', 'guardrail_inspect'],
  features: {
    streamingBody: true,
    websocket: false,
    guardrails: true,
    configPush: true,
    metricsExport: false,
    concurrentRequests: 100,
    cancellation: true,
    flowControl: false,
    healthReporting: true,
  },
  limits: { maxBodySize: 10_485_760, maxConcurrency: 100, preferredChunkSize: 65_536, maxMemory: 0, maxProcessingTimeMs: 250 },
  protocolVersion: 2,
  healthConfig: { reportIntervalMs: 5000, includeLoadMetrics: false, includeResourceMetrics: true },
};

test('HandshakeResponse: success and refusal round-trip; encoding reads as json', () => {
  const ok: HandshakeResponse = { protocolVersion: 2, capabilities: CAPS, success: true, error: null, encoding: 'json' };
  assert.deepEqual(agentToProxyFromProto(viaA2P(handshakeResponseToProto(ok))), { type: 'handshake', handshake: ok });
  const refusal: HandshakeResponse = { ...ok, protocolVersion: 0, success: false, error: 'unsupported protocol version' };
  assert.deepEqual(agentToProxyFromProto(viaA2P(handshakeResponseToProto(refusal))), { type: 'handshake', handshake: refusal });
});

test('capabilities: configure is never emitted; 0 and 8 both read as configure; unknown codes ignored', () => {
  assert.deepEqual(supportedEventsToProto(['configure', 'request_headers', 'websocket_frame', 'request_headers']), [1, 6]);
  const withConfigure = capabilitiesToProto({ ...CAPS, supportedEvents: ['configure', 'response_headers'] });
  assert.deepEqual(withConfigure.supported_events, [3]);
  assert.deepEqual(capabilitiesFromProto({ supported_events: [0, 1, 8, 9] }).supportedEvents, ['configure', 'request_headers']);
  assert.deepEqual(capabilitiesFromProto({ supported_events: [8, 7, 7, -1] }).supportedEvents, ['configure', 'guardrail_inspect']);
});

test('capabilities: missing sub-messages take the §5.4 defaults (health config 10 000 ms, load true, resources false)', () => {
  const fromBytes = agentToProxyFromProto(
    viaA2P({ handshake: { protocol_version: 2, success: true, capabilities: { agent_id: 'a', protocol_version: 2 } } }),
  );
  assert.ok(fromBytes.type === 'handshake');
  assert.deepEqual(fromBytes.handshake.capabilities, {
    agentId: 'a',
    name: '',
    version: '',
    supportedEvents: [],
    features: {
      streamingBody: false,
      websocket: false,
      guardrails: false,
      configPush: false,
      metricsExport: false,
      concurrentRequests: 0,
      cancellation: false,
      flowControl: false,
      healthReporting: false,
    },
    limits: { maxBodySize: 10_485_760, maxConcurrency: 100, preferredChunkSize: 65_536 },
    protocolVersion: 2,
    healthConfig: { reportIntervalMs: 10_000, includeLoadMetrics: true, includeResourceMetrics: false },
  });
  const none = agentToProxyFromProto(viaA2P({ handshake: { success: false, error: 'nope' } }));
  assert.ok(none.type === 'handshake');
  assert.equal(none.handshake.error, 'nope');
  assert.deepEqual(none.handshake.capabilities.supportedEvents, ['request_headers']);
  assert.equal(none.handshake.capabilities.limits.maxConcurrency, 100);
});

// ---------------------------------------------------------------------------------------------
// Agent → proxy control messages

test('HealthStatus round-trips with load and resources, and with both null', () => {
  const full: HealthStatus = {
    agentId: 'waf',
    state: 2,
    message: 'rules reloading',
    load: {
      inFlight: 3,
      queueDepth: 1,
      avgLatencyMs: 1.25,
      p50LatencyMs: 0.98,
      p95LatencyMs: 7.3,
      p99LatencyMs: 12,
      requestsProcessed: 1000,
      requestsRejected: 2,
      requestsTimedOut: 0,
    },
    resources: { cpuPercent: 37.5, memoryBytes: 0, memoryLimit: null, activeThreads: 8, openFds: null, fdLimit: 1024, connections: 0 },
    validUntilMs: T0 + 30_000,
    timestampMs: T0,
    disabledFeatures: ['guardrails'],
    timeoutMultiplier: 1.5,
    drainEtaMs: null,
    unhealthyReason: null,
    recoverable: true,
  };
  assert.deepEqual(agentToProxyFromProto(viaA2P(healthToProto(full))), { type: 'health', health: full });
  const bare: HealthStatus = {
    ...full,
    state: 3,
    message: null,
    load: null,
    resources: null,
    validUntilMs: null,
    drainEtaMs: 0,
    disabledFeatures: [],
    timeoutMultiplier: 1,
    recoverable: false,
  };
  assert.deepEqual(agentToProxyFromProto(viaA2P(healthToProto(bare))), { type: 'health', health: bare });
  const odd = agentToProxyFromProto(viaA2P({ health: { state: 9, timeout_multiplier: -2 } }));
  assert.ok(odd.type === 'health');
  assert.equal(odd.health.state, 0);
  assert.equal(odd.health.timeoutMultiplier, 1);
});

test('MetricsReport, FlowControl, Pong and Log round-trip', () => {
  const metrics = {
    agentId: 'waf',
    timestampMs: T0,
    intervalMs: 10_000,
    counters: [{ name: 'agent_requests_blocked_total', help: 'Requests blocked', labels: { rule: '942100' }, value: 17 }],
    gauges: [{ name: 'agent_in_flight_requests', labels: {}, value: 3.5 }],
    histograms: [
      {
        name: 'h',
        labels: { a: 'b' },
        sum: 0.42,
        count: 120,
        buckets: [
          { le: 0.001, count: 80 },
          { le: Infinity, count: 120 },
        ],
      },
    ],
  };
  assert.deepEqual(agentToProxyFromProto(viaA2P(metricsToProto(metrics))), { type: 'metrics', metrics });

  for (const flowControl of [
    { correlationId: null, action: 1 as const, bufferAvailable: null, timestampMs: T0 },
    { correlationId: 'req-7', action: 3 as const, bufferAvailable: 0, timestampMs: T0 + 100 },
  ]) {
    assert.deepEqual(agentToProxyFromProto(viaA2P(flowControlToProto(flowControl))), { type: 'flow_control', flowControl });
  }
  const badAction = agentToProxyFromProto(viaA2P({ flow_control: { action: 7 } }));
  assert.ok(badAction.type === 'flow_control');
  assert.equal(badAction.flowControl.action, 0);

  const pong = { sequence: 7, pingTimestampMs: T0, timestampMs: T0 + 3 };
  assert.deepEqual(agentToProxyFromProto(viaA2P(pongToProto(pong))), { type: 'pong', pong });

  const log = { level: 3, message: 'slow rule', correlationId: 'req-7', fields: { rule: '942100' }, timestampMs: T0 };
  assert.deepEqual(agentToProxyFromProto(viaA2P(logToProto(log))), { type: 'log', log });
  const { correlationId: _c, ...noCid } = log;
  assert.deepEqual(agentToProxyFromProto(viaA2P(logToProto(noCid))), { type: 'log', log: noCid });
});

test('ConfigUpdateResponse round-trips as ProxyControl.config_response; a ConfigUpdateRequest without update_type is refused', () => {
  for (const r of [
    { requestId: 'cu-42', accepted: true, error: null, timestampMs: T0 },
    { requestId: 'cu-43', accepted: false, error: 'List updates not supported', timestampMs: T0 },
  ]) {
    const p = PC.deserialize(PC.serialize(configUpdateResponseToProto(r)));
    assert.equal(p.message, 'config_response');
    assert.deepEqual(configUpdateResponseFromProto(p.config_response ?? {}), r);
  }
  assert.throws(
    () => agentToProxyFromProto(viaA2P({ config_update: { request_id: 'x' } })),
    (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_PROTOCOL_ERROR',
  );
});

// ---------------------------------------------------------------------------------------------
// Properties

const headerMapArb = fc
  .array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 3 })), {
    maxLength: 6,
  })
  .map((entries) => {
    const out: Record<string, string[]> = {};
    for (const [k, v] of entries) out[k] = v;
    return out;
  });

test('property: response headers and body chunks survive domain → bytes → domain', () => {
  fc.assert(
    fc.property(
      headerMapArb,
      fc.integer({ min: 100, max: 599 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.option(fc.nat(), { nil: null }),
      fc.nat({ max: 1000 }),
      fc.boolean(),
      (headers, status, data, totalSize, chunkIndex, isLast) => {
        const rh = { correlationId: 'c', status, headers };
        assert.deepEqual(proxyToAgentFromProto(viaP2A(eventToProto('response_headers', rh, 'c', T0))), {
          type: 'event',
          kind: 'response_headers',
          correlationId: 'c',
          event: rh,
        });
        const chunk = {
          correlationId: 'c',
          data: Buffer.from(data),
          isLast,
          totalSize,
          chunkIndex,
          bytesReceived: data.length,
          proxyBufferAvailable: chunkIndex,
        };
        assert.deepEqual(proxyToAgentFromProto(viaP2A(eventToProto('request_body_chunk', chunk, 'c', T0))), {
          type: 'event',
          kind: 'request_body_chunk',
          correlationId: 'c',
          event: chunk,
        });
      },
    ),
    { numRuns: 100 },
  );
});

test('property: float32 fields read back as the shortest decimal of the float32', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), (n) => {
      const confidence = n / 1000;
      const d = agentResponseFromProto(
        viaA2P(agentResponseToProto(response({ audit: { tags: [], ruleIds: [], confidence, reasonCodes: [], custom: {} } }), 'c'))
          .response ?? {},
      );
      assert.equal(d.audit.confidence, confidence);
    }),
    { numRuns: 100 },
  );
});
