// Golden vectors GV-08 (HandshakeRequest), GV-09 (our agent's HandshakeResponse), GV-10 (proxy-side
// validation of the answer) and GV-22 (`supported_events` codes), spec §5 and §15.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerHandshake,
  buildHandshakeRequest,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  handshakeRefusal,
  validateHandshakeResponse,
} from '../../src/protocol/handshake.js';
import { capabilitiesFromWire, capabilitiesToWire, defaultCapabilities, DEFAULT_HEALTH_CONFIG } from '../../src/protocol/capabilities.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { assertReceivable } from '../../src/protocol/message-type.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import type { Capabilities, EncodingSetting, HandshakeResponse } from '../../src/protocol/types.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

// ---------------------------------------------------------------------------------------------
// GV-08

const GV08: { setting: EncodingSetting; config: unknown; json: string; header: string }[] = [
  {
    setting: 'json',
    config: { 'paranoia-level': 2 },
    json:
      '{"supported_versions":[2],"proxy_id":"zentinel-proxy","proxy_version":"1.0.0",' +
      '"config":{"paranoia-level":2},"supported_encodings":["json"]}',
    header: '0000008c01',
  },
  {
    setting: 'json',
    config: null,
    json: '{"supported_versions":[2],"proxy_id":"zentinel-proxy","proxy_version":"1.0.0","config":null,"supported_encodings":["json"]}',
    header: '0000007c01',
  },
  {
    setting: 'prefer-msgpack',
    config: { 'paranoia-level': 2 },
    json:
      '{"supported_versions":[2],"proxy_id":"zentinel-proxy","proxy_version":"1.0.0",' +
      '"config":{"paranoia-level":2},"supported_encodings":["msgpack","json"]}',
    header: '0000009601',
  },
  {
    setting: 'prefer-msgpack',
    config: null,
    json:
      '{"supported_versions":[2],"proxy_id":"zentinel-proxy","proxy_version":"1.0.0","config":null,' +
      '"supported_encodings":["msgpack","json"]}',
    header: '0000008601',
  },
  {
    setting: 'msgpack',
    config: { 'paranoia-level': 2 },
    json:
      '{"supported_versions":[2],"proxy_id":"zentinel-proxy","proxy_version":"1.0.0",' +
      '"config":{"paranoia-level":2},"supported_encodings":["msgpack"]}',
    header: '0000008f01',
  },
  {
    setting: 'msgpack',
    config: null,
    json: '{"supported_versions":[2],"proxy_id":"zentinel-proxy","proxy_version":"1.0.0","config":null,"supported_encodings":["msgpack"]}',
    header: '0000007f01',
  },
];

for (const v of GV08) {
  test(`GV-08 HandshakeRequest, encoding ${v.setting}, ${v.config === null ? 'no config' : 'with config'}`, () => {
    const request = buildHandshakeRequest({ proxyVersion: '1.0.0', config: v.config, encoding: v.setting });
    const payload = encodeHandshakeRequest(request);
    assert.equal(payload.toString('utf8'), v.json);
    const frame = encodeFrame(0x01, payload);
    assert.equal(frame.subarray(0, 5).toString('hex'), v.header);
    assert.deepEqual(decodeHandshakeRequest(utf8(v.json)), request);
  });
}

test('GV-08 an undefined config is written as null (all five keys always present)', () => {
  const request = buildHandshakeRequest({ proxyVersion: '1.0.0', config: undefined, encoding: 'json' });
  assert.equal(request.config, null);
  assert.equal(encodeHandshakeRequest(request).toString('utf8'), GV08[1]?.json);
});

// ---------------------------------------------------------------------------------------------
// GV-09

const SUCCESS_JSON =
  '{"protocol_version":2,"capabilities":{"agent_id":"waf","name":"Example WAF","version":"3.1.0",' +
  '"supported_events":[1,2,3,4,5],"features":{"streaming_body":true,"websocket":false,' +
  '"guardrails":false,"config_push":true,"metrics_export":true,"concurrent_requests":100,' +
  '"cancellation":true,"flow_control":true,"health_reporting":true},' +
  '"limits":{"max_body_size":10485760,"max_concurrency":100,"preferred_chunk_size":65536}},' +
  '"success":true,"error":null,"encoding":"json"}';

const WAF_CAPABILITIES: Capabilities = {
  agentId: 'waf',
  name: 'Example WAF',
  version: '3.1.0',
  supportedEvents: ['request_headers', 'request_body_chunk', 'response_headers', 'response_body_chunk', 'request_complete'],
  features: {
    streamingBody: true,
    websocket: false,
    guardrails: false,
    configPush: true,
    metricsExport: true,
    concurrentRequests: 100,
    cancellation: true,
    flowControl: true,
    healthReporting: true,
  },
  limits: { maxBodySize: 10_485_760, maxConcurrency: 100, preferredChunkSize: 65_536 },
};

const REFUSAL_CAPS_JSON =
  '"capabilities":{"agent_id":"","name":"","version":"","supported_events":[1],' +
  '"features":{"streaming_body":false,"websocket":false,"guardrails":false,"config_push":false,' +
  '"metrics_export":false,"concurrent_requests":0,"cancellation":false,"flow_control":false,' +
  '"health_reporting":false},"limits":{"max_body_size":10485760,"max_concurrency":100,' +
  '"preferred_chunk_size":65536}}';
const refusalJson = (error: string): string =>
  `{"protocol_version":0,${REFUSAL_CAPS_JSON},"success":false,"error":${JSON.stringify(error)},"encoding":"json"}`;

test('GV-09 success response from our agent: exact §5.3 bytes, every capability key', () => {
  const request = buildHandshakeRequest({ proxyVersion: '1.0.0', config: null, encoding: 'json' });
  const response = answerHandshake(request, { capabilities: WAF_CAPABILITIES, encoding: 'json' });
  const payload = encodeHandshakeResponse(response);
  assert.equal(payload.toString('utf8'), SUCCESS_JSON);
  assert.equal(encodeFrame(0x02, payload).subarray(0, 5).toString('hex'), '000001cf02');
});

test('GV-09 success response decodes back (UDS fills protocol version 2 and the default health config)', () => {
  const expected: HandshakeResponse = {
    protocolVersion: 2,
    capabilities: { ...WAF_CAPABILITIES, protocolVersion: 2, healthConfig: { ...DEFAULT_HEALTH_CONFIG } },
    success: true,
    error: null,
    encoding: 'json',
  };
  assert.deepEqual(decodeHandshakeResponse(utf8(SUCCESS_JSON)), expected);
  assert.deepEqual(expected.capabilities.healthConfig, {
    reportIntervalMs: 10_000,
    includeLoadMetrics: true,
    includeResourceMetrics: false,
  });
});

test('GV-09 refusal shape: version 0, empty capabilities with [1], features off, default limits', () => {
  assert.equal(
    encodeHandshakeResponse(handshakeRefusal('unsupported protocol version')).toString('utf8'),
    refusalJson('unsupported protocol version'),
  );
  const versionRefusal = answerHandshake(
    { supportedVersions: [1], proxyId: 'zentinel-proxy', proxyVersion: '1.0.0', config: null, supportedEncodings: ['json'] },
    { capabilities: WAF_CAPABILITIES, encoding: 'json' },
  );
  assert.equal(encodeHandshakeResponse(versionRefusal).toString('utf8'), refusalJson('unsupported protocol version'));
  const msgpackRefusal = answerHandshake(
    { supportedVersions: [2], proxyId: 'zentinel-proxy', proxyVersion: '1.0.0', config: null, supportedEncodings: ['json'] },
    { capabilities: WAF_CAPABILITIES, encoding: 'msgpack' },
  );
  assert.equal(encodeHandshakeResponse(msgpackRefusal).toString('utf8'), refusalJson('msgpack required but not offered'));
});

test('GV-09 refusal decodes back', () => {
  const decoded = decodeHandshakeResponse(utf8(refusalJson('unsupported protocol version')));
  assert.deepEqual(decoded, {
    protocolVersion: 0,
    capabilities: { ...defaultCapabilities(), protocolVersion: 2, healthConfig: { ...DEFAULT_HEALTH_CONFIG } },
    success: false,
    error: 'unsupported protocol version',
    encoding: 'json',
  });
});

// ---------------------------------------------------------------------------------------------
// GV-10 (one-way)

function handshakeFailure(text: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AgentPoolError);
    assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
    assert.equal(err.message, text);
    return true;
  };
}

const CAPS = `"capabilities":${JSON.stringify(capabilitiesToWire(WAF_CAPABILITIES))}`;

const GV10: { name: string; json: string; setting: EncodingSetting; text: string }[] = [
  {
    name: 'success false with an error',
    json: `{"protocol_version":0,${CAPS},"success":false,"error":"license expired","encoding":"json"}`,
    setting: 'json',
    text: 'license expired',
  },
  {
    name: 'success false with error null',
    json: `{"protocol_version":0,${CAPS},"success":false,"error":null}`,
    setting: 'json',
    text: 'Unknown handshake error',
  },
  {
    name: 'protocol_version 1',
    json: `{"protocol_version":1,${CAPS},"success":true,"error":null,"encoding":"json"}`,
    setting: 'json',
    text: 'Protocol version mismatch: expected 2, got 1',
  },
  {
    name: 'encoding msgpack when we offered JSON only',
    json: `{"protocol_version":2,${CAPS},"success":true,"error":null,"encoding":"msgpack"}`,
    setting: 'json',
    text: "agent chose encoding 'msgpack', which was not offered (offered: json)",
  },
  {
    name: 'encoding json when we require msgpack',
    json: `{"protocol_version":2,${CAPS},"success":true,"error":null,"encoding":"json"}`,
    setting: 'msgpack',
    text: 'agent did not accept msgpack',
  },
  {
    name: 'encoding absent when we require msgpack',
    json: `{"protocol_version":2,${CAPS},"success":true,"error":null}`,
    setting: 'msgpack',
    text: 'agent did not accept msgpack',
  },
  {
    name: 'success false beats a version mismatch (checked first)',
    json: `{"protocol_version":7,${CAPS},"success":false,"error":"nope","encoding":"msgpack"}`,
    setting: 'json',
    text: 'nope',
  },
];

for (const v of GV10) {
  test(`GV-10 ${v.name} → ZAP_HANDSHAKE_FAILED`, () => {
    const decoded = decodeHandshakeResponse(utf8(v.json));
    assert.throws(() => validateHandshakeResponse(decoded, v.setting), handshakeFailure(v.text));
  });
}

test('GV-10 a first frame of type 0x20 is refused by the direction check (the caller maps it to a handshake failure)', () => {
  assert.throws(
    () => assertReceivable(0x20, 'proxy', 'handshake'),
    (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_PROTOCOL_ERROR',
  );
  assert.doesNotThrow(() => assertReceivable(0x02, 'proxy', 'handshake'));
});

test('GV-10 acceptable answers return the encoding to switch to', () => {
  const ok = (encoding: string | null) =>
    decodeHandshakeResponse(
      utf8(`{"protocol_version":2,${CAPS},"success":true,"error":null${encoding === null ? '' : `,"encoding":"${encoding}"`}}`),
    );
  assert.equal(validateHandshakeResponse(ok(null), 'json'), 'json');
  assert.equal(validateHandshakeResponse(ok('json'), 'json'), 'json');
  assert.equal(validateHandshakeResponse(ok(null), 'prefer-msgpack'), 'json');
  assert.equal(validateHandshakeResponse(ok('msgpack'), 'prefer-msgpack'), 'msgpack');
  assert.equal(validateHandshakeResponse(ok('msgpack'), 'msgpack'), 'msgpack');
});

// ---------------------------------------------------------------------------------------------
// GV-22

test('GV-22 supported_events [0,1,8,9] decodes to {configure, request_headers}', () => {
  const caps = capabilitiesFromWire({ supported_events: [0, 1, 8, 9] });
  assert.deepEqual(caps.supportedEvents, ['configure', 'request_headers']);
});

test('GV-22 our emitter never writes 0 or 8', () => {
  const caps = defaultCapabilities({
    supportedEvents: [
      'configure',
      'request_headers',
      'request_body_chunk',
      'response_headers',
      'response_body_chunk',
      'request_complete',
      'websocket_frame',
      'guardrail_inspect',
    ],
  });
  assert.deepEqual(capabilitiesToWire(caps)['supported_events'], [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(capabilitiesToWire(defaultCapabilities({ supportedEvents: ['configure'] }))['supported_events'], []);
});

test('GV-22 missing supported_events reads as [1]; missing capability keys take the §5.4 defaults', () => {
  assert.deepEqual(capabilitiesFromWire({}), {
    ...defaultCapabilities(),
    protocolVersion: 2,
    healthConfig: { ...DEFAULT_HEALTH_CONFIG },
  });
  const partial = capabilitiesFromWire({ agent_id: 'x', features: { websocket: true }, limits: { max_concurrency: 7 } });
  assert.equal(partial.features.websocket, true);
  assert.equal(partial.features.streamingBody, false);
  assert.deepEqual(partial.limits, { maxBodySize: 10_485_760, maxConcurrency: 7, preferredChunkSize: 65_536 });
});
