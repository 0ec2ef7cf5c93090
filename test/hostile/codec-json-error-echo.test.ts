// V8's JSON.parse quotes the offending input in its error message ("Unexpected token 'x', "x␛[31m…"
// is not valid JSON"). Those messages become ZAP_PROTOCOL_ERROR texts that are logged, and for a
// reverse registration sent back to the peer (§9.4): the peer's control characters must arrive
// escaped (peerText), never raw — a newline could forge a log line, an ANSI escape rewrite a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../src/protocol/payload-codec.js';
import { parseJsonPayload } from '../../src/protocol/wire-reader.js';
import { parseJsonText } from '../../src/protocol/proto-values.js';
import { validateRegistration } from '../../src/protocol/registration.js';
import { isAgentPoolError } from '../../src/protocol/errors.js';

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
