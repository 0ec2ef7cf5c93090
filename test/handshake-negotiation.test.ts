// Encoding negotiation (spec §4.3) on both sides, the agent's answer to a HandshakeRequest (§5.2)
// and the leniency of the handshake decoders (§5.3, §5.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptAgentEncoding, chooseAgentEncoding, offeredEncodings } from '../src/protocol/encoding-negotiation.js';
import {
  answerHandshake,
  buildHandshakeRequest,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  encodeHandshakeResponse,
  validateHandshakeResponse,
} from '../src/protocol/handshake.js';
import { defaultCapabilities } from '../src/protocol/capabilities.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import type { Encoding, EncodingSetting, HandshakeRequest } from '../src/protocol/types.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const isCode = (code: string) => (e: unknown) => e instanceof AgentPoolError && e.code === code;

test('proxy offers per setting', () => {
  assert.deepEqual(offeredEncodings('json'), ['json']);
  assert.deepEqual(offeredEncodings('prefer-msgpack'), ['msgpack', 'json']);
  assert.deepEqual(offeredEncodings('msgpack'), ['msgpack']);
  // a fresh array each time: callers may keep it
  const a = offeredEncodings('json');
  a.push('msgpack');
  assert.deepEqual(offeredEncodings('json'), ['json']);
});

test('proxy accepts the agent answer per the §4.3 table', () => {
  const accepted: [EncodingSetting, Encoding | undefined, Encoding][] = [
    ['json', undefined, 'json'],
    ['json', 'json', 'json'],
    ['prefer-msgpack', undefined, 'json'],
    ['prefer-msgpack', 'json', 'json'],
    ['prefer-msgpack', 'msgpack', 'msgpack'],
    ['msgpack', 'msgpack', 'msgpack'],
  ];
  for (const [setting, answered, expected] of accepted) {
    assert.equal(acceptAgentEncoding(setting, answered), expected, `${setting} / ${String(answered)}`);
  }
  assert.throws(() => acceptAgentEncoding('json', 'msgpack'), isCode('ZAP_HANDSHAKE_FAILED'));
  assert.throws(() => acceptAgentEncoding('msgpack', 'json'), { message: 'agent did not accept msgpack' });
  assert.throws(() => acceptAgentEncoding('msgpack', undefined), { message: 'agent did not accept msgpack' });
});

test('agent chooses per the §4.3 table', () => {
  const cases: [EncodingSetting, Encoding[] | undefined, Encoding | { refuse: string }][] = [
    ['json', undefined, 'json'],
    ['json', ['msgpack'], 'json'],
    ['prefer-msgpack', undefined, 'json'],
    ['prefer-msgpack', [], 'json'],
    ['prefer-msgpack', ['json'], 'json'],
    ['prefer-msgpack', ['msgpack', 'json'], 'msgpack'],
    ['prefer-msgpack', ['json', 'msgpack'], 'json'],
    ['prefer-msgpack', ['msgpack'], 'msgpack'],
    ['msgpack', ['msgpack'], 'msgpack'],
    ['msgpack', ['json', 'msgpack'], 'msgpack'],
    ['msgpack', ['json'], { refuse: 'msgpack required but not offered' }],
    ['msgpack', [], { refuse: 'msgpack required but not offered' }],
    ['msgpack', undefined, { refuse: 'msgpack required but not offered' }],
  ];
  for (const [setting, offered, expected] of cases) {
    assert.deepEqual(chooseAgentEncoding(setting, offered), expected, `${setting} / ${JSON.stringify(offered)}`);
  }
});

test('every proxy setting × agent setting pair: agent answer and proxy verdict agree', () => {
  const settings: EncodingSetting[] = ['json', 'prefer-msgpack', 'msgpack'];
  const outcome: Record<string, string> = {};
  for (const proxy of settings) {
    for (const agent of settings) {
      const request = buildHandshakeRequest({ proxyVersion: '1.0.0', config: null, encoding: proxy });
      const answer = answerHandshake(request, { capabilities: defaultCapabilities({ agentId: 'a' }), encoding: agent });
      // over the wire and back, as the proxy sees it
      const seen = decodeHandshakeResponse(encodeHandshakeResponse(answer));
      let result: string;
      try {
        result = validateHandshakeResponse(seen, proxy);
      } catch (e) {
        assert.ok(e instanceof AgentPoolError && e.code === 'ZAP_HANDSHAKE_FAILED');
        result = `fail: ${e.message}`;
      }
      outcome[`${proxy}→${agent}`] = result;
    }
  }
  assert.deepEqual(outcome, {
    'json→json': 'json',
    'json→prefer-msgpack': 'json',
    'json→msgpack': 'fail: msgpack required but not offered',
    'prefer-msgpack→json': 'json',
    'prefer-msgpack→prefer-msgpack': 'msgpack',
    'prefer-msgpack→msgpack': 'msgpack',
    'msgpack→json': 'fail: agent did not accept msgpack',
    'msgpack→prefer-msgpack': 'msgpack',
    'msgpack→msgpack': 'msgpack',
  });
});

const REQ: HandshakeRequest = {
  supportedVersions: [2],
  proxyId: 'zentinel-proxy',
  proxyVersion: '1.0.0',
  config: null,
  supportedEncodings: ['json'],
};

test('agent answer: success carries our capabilities and the chosen encoding', () => {
  const caps = defaultCapabilities({ agentId: 'waf', name: 'WAF', features: { cancellation: true } });
  assert.deepEqual(answerHandshake(REQ, { capabilities: caps, encoding: 'prefer-msgpack' }), {
    protocolVersion: 2,
    capabilities: caps,
    success: true,
    error: null,
    encoding: 'json',
  });
  assert.equal(answerHandshake({ ...REQ, supportedVersions: [1, 2] }, { capabilities: caps, encoding: 'json' }).success, true);
});

test('agent answer: version refusal comes before the encoding refusal', () => {
  const caps = defaultCapabilities({ agentId: 'waf' });
  const r = answerHandshake({ ...REQ, supportedVersions: [1] }, { capabilities: caps, encoding: 'msgpack' });
  assert.equal(r.success, false);
  assert.equal(r.protocolVersion, 0);
  assert.equal(r.error, 'unsupported protocol version');
  assert.deepEqual(r.capabilities, defaultCapabilities());
});

test('decodeHandshakeRequest is lenient about optional keys', () => {
  assert.deepEqual(decodeHandshakeRequest(utf8('{"supported_versions":[2],"proxy_id":"p","proxy_version":"9"}')), {
    supportedVersions: [2],
    proxyId: 'p',
    proxyVersion: '9',
    config: null,
    supportedEncodings: [],
  });
  // unknown encoding names are dropped; an empty result means JSON only
  const r = decodeHandshakeRequest(utf8('{"supported_versions":[2],"supported_encodings":["cbor","msgpack"]}'));
  assert.deepEqual(r.supportedEncodings, ['msgpack']);
  // missing supported_versions → refused with a message instead of a dropped socket
  const noVersions = decodeHandshakeRequest(utf8('{"proxy_id":"p"}'));
  assert.equal(
    answerHandshake(noVersions, { capabilities: defaultCapabilities(), encoding: 'json' }).error,
    'unsupported protocol version',
  );
});

test('decodeHandshakeRequest rejects malformed payloads with ZAP_PROTOCOL_ERROR', () => {
  for (const bad of ['', 'not json', '[1,2', '"text"', '{"supported_versions":"2"}', '{"supported_versions":[2.5]}']) {
    assert.throws(() => decodeHandshakeRequest(utf8(bad)), isCode('ZAP_PROTOCOL_ERROR'), bad);
  }
  // a UTF-8 BOM is not allowed (§4.1)
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"supported_versions":[2]}')]);
  assert.throws(() => decodeHandshakeRequest(bom), isCode('ZAP_PROTOCOL_ERROR'));
  // invalid UTF-8
  assert.throws(() => decodeHandshakeRequest(Buffer.from([0x7b, 0xff, 0x7d])), isCode('ZAP_PROTOCOL_ERROR'));
});

test('decodeHandshakeResponse: lenient defaults, unknown encoding name rejected', () => {
  const r = decodeHandshakeResponse(utf8('{"success":true,"protocol_version":2}'));
  assert.equal(r.encoding, 'json');
  assert.equal(r.error, null);
  assert.equal(r.capabilities.agentId, '');
  assert.deepEqual(r.capabilities.supportedEvents, ['request_headers']);
  assert.equal(decodeHandshakeResponse(utf8('{"encoding":null}')).encoding, 'json');
  assert.equal(decodeHandshakeResponse(utf8('{}')).success, false);
  assert.throws(() => decodeHandshakeResponse(utf8('{"success":true,"encoding":"cbor"}')), isCode('ZAP_PROTOCOL_ERROR'));
  assert.throws(() => decodeHandshakeResponse(utf8('{"success":"yes"}')), isCode('ZAP_PROTOCOL_ERROR'));
  assert.throws(
    () => decodeHandshakeResponse(utf8('{"success":true,"capabilities":{"features":{"websocket":1}}}')),
    /Capabilities.features: key 'websocket' must be a boolean/,
  );
});
