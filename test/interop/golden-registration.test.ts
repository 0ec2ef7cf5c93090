// Golden vectors GV-23 (reverse registration, spec §9.2–§9.4): the request of §9.2, the success
// response of §9.3, one refusal per row of the §9.4 table with its exact error text, and the
// wrong-token vector showing that every configured token is consulted (behaviour, not timing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRegistrationRequest,
  decodeRegistrationResponse,
  encodeRegistrationRequest,
  encodeRegistrationResponse,
  formatDuration,
  registrationRefusal,
  registrationSuccess,
  tokenMatches,
  validateRegistration,
  type RegistrationPolicy,
} from '../../src/protocol/registration.js';
import { DEFAULT_HEALTH_CONFIG } from '../../src/protocol/capabilities.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import type { RegistrationRequest } from '../../src/protocol/types.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

const REQUEST_JSON =
  '{"protocol_version":2,"agent_id":"llm-guard-1","capabilities":{"agent_id":"llm-guard-1",' +
  '"name":"LLM Guard","version":"0.9.0","supported_events":[1,7],' +
  '"features":{"streaming_body":false,"websocket":false,"guardrails":true,"config_push":false,' +
  '"metrics_export":false,"concurrent_requests":50,"cancellation":true,"flow_control":false,' +
  '"health_reporting":true},"limits":{"max_body_size":10485760,"max_concurrency":50,' +
  '"preferred_chunk_size":65536}},"auth_token":"tok-llm-guard","metadata":{"hostname":"gpu-3",' +
  '"pid":4242}}';

const REQUEST: RegistrationRequest = {
  protocolVersion: 2,
  agentId: 'llm-guard-1',
  capabilities: {
    agentId: 'llm-guard-1',
    name: 'LLM Guard',
    version: '0.9.0',
    supportedEvents: ['request_headers', 'guardrail_inspect'],
    features: {
      streamingBody: false,
      websocket: false,
      guardrails: true,
      configPush: false,
      metricsExport: false,
      concurrentRequests: 50,
      cancellation: true,
      flowControl: false,
      healthReporting: true,
    },
    limits: { maxBodySize: 10_485_760, maxConcurrency: 50, preferredChunkSize: 65_536 },
  },
  authToken: 'tok-llm-guard',
  metadata: { hostname: 'gpu-3', pid: 4242 },
};

const POLICY: RegistrationPolicy = {
  requireAuth: true,
  authTokens: ['tok-waf', 'tok-llm-guard'],
  allowedAgents: ['waf', 'llm-guard-*'],
};

test('GV-23 RegistrationRequest of §9.2 both ways', () => {
  assert.equal(encodeRegistrationRequest(REQUEST).toString('utf8'), REQUEST_JSON);
  assert.deepEqual(decodeRegistrationRequest(utf8(REQUEST_JSON)), {
    ...REQUEST,
    capabilities: { ...REQUEST.capabilities, protocolVersion: 2, healthConfig: { ...DEFAULT_HEALTH_CONFIG } },
  });
});

test('GV-23 success response for llm-guard-1 at 1767225600000', () => {
  const text =
    '{"success":true,"error":null,"proxy_id":"zentinel-proxy","proxy_version":"1.0.0","connection_id":"llm-guard-1-19b76daa800"}';
  const response = registrationSuccess('llm-guard-1', 1_767_225_600_000, '1.0.0');
  assert.equal(response.connectionId, 'llm-guard-1-19b76daa800');
  const payload = encodeRegistrationResponse(response);
  assert.equal(payload.toString('utf8'), text);
  assert.deepEqual(decodeRegistrationResponse(utf8(text)), response);
  assert.equal(encodeFrame(0x02, payload).subarray(0, 5).toString('hex'), '0000007c02');
});

test('GV-23 the §9.2 request passes validation under a policy with auth and a glob allow-list', () => {
  const verdict = validateRegistration(0x01, utf8(REQUEST_JSON), POLICY);
  assert.equal(verdict.ok, true);
  assert.equal(verdict.ok && verdict.request.agentId, 'llm-guard-1');
});

/** The request JSON with some keys replaced (undefined = removed). */
function requestWith(changes: Record<string, unknown>): Buffer {
  const wire = JSON.parse(REQUEST_JSON) as Record<string, unknown>;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete wire[k];
    else wire[k] = v;
  }
  return utf8(JSON.stringify(wire));
}

const refusalJson = (error: string): string =>
  `{"success":false,"error":${JSON.stringify(error)},"proxy_id":"zentinel-proxy","proxy_version":"1.0.0","connection_id":""}`;

const ROWS: { row: string; type: number; payload: Buffer; policy?: RegistrationPolicy; error: string; permanent: boolean }[] = [
  {
    row: '2 (frame type is not 0x01)',
    type: 0x10,
    payload: utf8(REQUEST_JSON),
    error: 'Invalid message format: Expected registration request (HandshakeRequest), got RequestHeaders',
    permanent: false,
  },
  {
    row: '3 (payload is not JSON)',
    type: 0x01,
    payload: utf8('{"protocol_version":2,'),
    error: 'Invalid message format: RegistrationRequest: invalid JSON (',
    permanent: false,
  },
  {
    row: '3 (agent_id missing)',
    type: 0x01,
    payload: requestWith({ agent_id: undefined }),
    error: "Invalid message format: RegistrationRequest: key 'agent_id' must be a string, got nothing",
    permanent: false,
  },
  {
    row: '3 (capabilities missing)',
    type: 0x01,
    payload: requestWith({ capabilities: undefined }),
    error: "Invalid message format: RegistrationRequest: missing key 'capabilities'",
    permanent: false,
  },
  {
    row: '4 (protocol version 1)',
    type: 0x01,
    payload: requestWith({ protocol_version: 1 }),
    error: 'Protocol version mismatch: expected 2, got 1',
    permanent: true,
  },
  {
    row: '5 (empty agent id)',
    type: 0x01,
    payload: requestWith({ agent_id: '' }),
    error: 'Invalid message format: Agent ID cannot be empty',
    permanent: true,
  },
  {
    row: '6 (not in the allow-list)',
    type: 0x01,
    payload: requestWith({ agent_id: 'rogue' }),
    error: "Invalid message format: Agent 'rogue' is not in the allowed list",
    permanent: true,
  },
  {
    row: '7 (auth required, token null)',
    type: 0x01,
    payload: requestWith({ auth_token: null }),
    error: 'Invalid message format: Authentication required but no token provided',
    permanent: true,
  },
  {
    row: '7 (auth required, token absent)',
    type: 0x01,
    payload: requestWith({ auth_token: undefined }),
    error: 'Invalid message format: Authentication required but no token provided',
    permanent: true,
  },
  {
    row: '8 (wrong token)',
    type: 0x01,
    payload: requestWith({ auth_token: 'tok-guess' }),
    error: 'Invalid message format: Authentication failed',
    permanent: true,
  },
];

for (const r of ROWS) {
  test(`GV-23 §9.4 row ${r.row}`, () => {
    const verdict = validateRegistration(r.type, r.payload, r.policy ?? POLICY);
    assert.equal(verdict.ok, false);
    if (verdict.ok) return;
    if (r.error.endsWith('(')) assert.ok(verdict.error.startsWith(r.error), verdict.error);
    else assert.equal(verdict.error, r.error);
    assert.equal(verdict.permanent, r.permanent);
    // the refusal written before closing
    const refusal = encodeRegistrationResponse(registrationRefusal(verdict.error, '1.0.0')).toString('utf8');
    assert.equal(refusal, refusalJson(verdict.error));
  });
}

test('GV-23 §9.4 row 1 (timeout) text with the configured duration', () => {
  assert.equal(
    encodeRegistrationResponse(registrationRefusal(`Timeout after ${formatDuration(10_000)}`, '1.0.0')).toString('utf8'),
    refusalJson('Timeout after 10s'),
  );
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(1500), '1.5s');
});

test('GV-23 §9.4 row 9 (connection limit) refusal bytes', () => {
  const text = 'Connection failed: Agent llm-guard-1 already has maximum connections (4)';
  assert.equal(encodeRegistrationResponse(registrationRefusal(text, '1.0.0')).toString('utf8'), refusalJson(text));
});

test('GV-23 wrong token: every configured token is consulted, no early exit', () => {
  const consulted = new Set<number>();
  // A recording view of the configured tokens: which entries did the comparison read?
  const record = (tokens: string[]): readonly string[] =>
    new Proxy(tokens, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) consulted.add(Number(key));
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  const tokens = ['tok-a', 'tok-b', 'tok-c', 'tok-d'];

  assert.equal(tokenMatches('tok-guess', record(tokens)), false);
  assert.deepEqual([...consulted].sort(), [0, 1, 2, 3]);

  // A match on the first entry still reads all the others.
  consulted.clear();
  assert.equal(tokenMatches('tok-a', record(tokens)), true);
  assert.deepEqual([...consulted].sort(), [0, 1, 2, 3]);

  // Through validateRegistration too.
  consulted.clear();
  const verdict = validateRegistration(0x01, requestWith({ auth_token: 'tok-guess' }), {
    requireAuth: true,
    authTokens: record(tokens),
    allowedAgents: [],
  });
  assert.equal(verdict.ok, false);
  assert.deepEqual([...consulted].sort(), [0, 1, 2, 3]);
});
