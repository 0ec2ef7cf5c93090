// Peer text in ZAP_PROTOCOL_ERROR messages. Those texts are logged, and for a reverse registration
// sent back to the peer (§9.4), so the peer's bytes in them must arrive escaped and bounded
// (peerText), never raw — a newline could forge a log line, an ANSI escape rewrite a terminal, a
// 16 MiB tag flood a log. Two sources: V8's JSON.parse quotes the offending input in its own message
// ("Unexpected token 'x', "x␛[31m…" is not valid JSON"), and our decoders name unknown tags and keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../src/protocol/payload-codec.js';
import { parseJsonPayload } from '../../src/protocol/wire-reader.js';
import { parseJsonText } from '../../src/protocol/proto-values.js';
import { validateRegistration } from '../../src/protocol/registration.js';
import { isAgentPoolError } from '../../src/protocol/errors.js';
import { agentResponseFromWire } from '../../src/protocol/agent-response.js';
import { configUpdateRequestFromWire } from '../../src/protocol/config-update.js';
import { decodeHandshakeResponse, validateHandshakeResponse } from '../../src/protocol/handshake.js';

const HOSTILE = 'x\n\u001b[2J\u202eforged log line';
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(isAgentPoolError(err), String(err));
    return err.message;
  }
  assert.fail('expected a protocol error');
}

test('JSON error echo: peer bytes quoted by a JSON.parse error are escaped in every JSON reader', () => {
  const payload = Buffer.from(HOSTILE, 'utf8');
  const messages = [
    messageOf(() => jsonCodec.decodeValue(payload)),
    messageOf(() => jsonCodec.parseResponse(payload)),
    messageOf(() => parseJsonPayload(payload, 'HandshakeRequest')),
    messageOf(() => parseJsonText(HOSTILE, 'config_json', {})),
  ];
  for (const m of messages) {
    assert.doesNotMatch(m, RAW_CONTROL, `raw control character in ${JSON.stringify(m)}`);
    assert.match(m, /x\\n\\x1b\[2J\\u202e/, m);
  }
});

test('JSON error echo: a registration refusal sent back to the agent carries no raw control characters', () => {
  const verdict = validateRegistration(0x01, Buffer.from(HOSTILE, 'utf8'), { requireAuth: false, authTokens: [], allowedAgents: [] });
  assert.equal(verdict.ok, false);
  assert.ok(!verdict.ok);
  assert.match(verdict.error, /^Invalid message format: RegistrationRequest: invalid JSON \(/);
  assert.doesNotMatch(verdict.error, RAW_CONTROL);
});

test('protocol error echo: peer strings named in decoder errors (tags, header names, map keys, agent ids) are escaped and bounded', () => {
  const evil = `a\n\u001b[2J\u202e${'x'.repeat(100_000)}`;
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v), 'utf8');
  const base = { version: 2, decision: 'allow' };
  const messages = [
    messageOf(() => agentResponseFromWire({ ...base, decision: evil })),
    messageOf(() => agentResponseFromWire({ ...base, websocket_decision: evil })),
    messageOf(() => agentResponseFromWire({ ...base, request_headers: [{ [evil]: { name: 'a' } }] })),
    messageOf(() => agentResponseFromWire({ ...base, routing_metadata: { [evil]: 1 } })),
    messageOf(() => jsonCodec.decodeEvent('response_headers', json({ correlation_id: 'c', status: 200, headers: { [evil]: 'x' } }))),
    messageOf(() => jsonCodec.decodeEvent('websocket_frame', json({ correlation_id: 'c', opcode: evil }))),
    messageOf(() => jsonCodec.decodeEvent('guardrail_inspect', json({ correlation_id: 'c', inspection_type: evil, content: '' }))),
    messageOf(() => configUpdateRequestFromWire({ update_type: { type: evil }, request_id: 'r', timestamp_ms: 1 })),
    messageOf(() => decodeHandshakeResponse(json({ protocol_version: 2, success: true, encoding: evil }))),
  ];
  const refusal = validateRegistration(0x01, json({ protocol_version: 2, agent_id: evil, capabilities: {} }), {
    requireAuth: false,
    authTokens: [],
    allowedAgents: ['waf-*'],
  });
  assert.ok(!refusal.ok);
  messages.push(refusal.error);
  for (const m of messages) {
    assert.doesNotMatch(m, RAW_CONTROL, `raw control character in ${JSON.stringify(m.slice(0, 200))}`);
    assert.ok(m.length < 400, `message of ${m.length} characters: ${m.slice(0, 200)}`);
    assert.match(m, /a\\n\\x1b\[2J\\u202ex/, m.slice(0, 200));
  }
});

test("protocol error echo: an agent's handshake refusal text in ZAP_HANDSHAKE_FAILED is escaped and bounded (found by the fuzzer)", () => {
  const refusal = Buffer.from(
    JSON.stringify({ protocol_version: 2, success: false, error: `\u0000\u001b[31m\n${'y'.repeat(10_000)}` }),
    'utf8',
  );
  let message = '';
  try {
    validateHandshakeResponse(decodeHandshakeResponse(refusal), 'json');
  } catch (err) {
    assert.ok(isAgentPoolError(err));
    assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
    message = err.message;
  }
  assert.match(message, /^\\x00\\x1b\[31m\\ny/);
  assert.doesNotMatch(message, RAW_CONTROL);
  assert.ok(message.length < 200, `${message.length} characters`);
});
