// Reverse registration validation (spec §9.4): check order, allow-list globs, token comparison,
// and the small helpers (connection id, duration text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectionIdFor,
  decodeRegistrationRequest,
  encodeRegistrationRequest,
  formatDuration,
  globMatch,
  tokenMatches,
  validateRegistration,
  type RegistrationPolicy,
} from '../src/protocol/registration.js';
import { defaultCapabilities } from '../src/protocol/capabilities.js';
import type { RegistrationRequest } from '../src/protocol/types.js';

const OPEN: RegistrationPolicy = { requireAuth: false, authTokens: [], allowedAgents: [] };

function payload(over: Partial<RegistrationRequest> = {}): Buffer {
  return encodeRegistrationRequest({
    protocolVersion: 2,
    agentId: 'waf-1',
    capabilities: defaultCapabilities({ agentId: 'waf-1' }),
    authToken: null,
    metadata: null,
    ...over,
  });
}

function errorOf(type: number, bytes: Buffer, policy: RegistrationPolicy): string {
  const v = validateRegistration(type, bytes, policy);
  return v.ok ? 'ok' : v.error;
}

test('open policy admits any well-formed registration, token ignored', () => {
  assert.equal(errorOf(0x01, payload(), OPEN), 'ok');
  assert.equal(errorOf(0x01, payload({ authToken: 'whatever' }), OPEN), 'ok');
});

test('checks run in §9.4 order: the first failing step wins', () => {
  const strict: RegistrationPolicy = { requireAuth: true, authTokens: ['t'], allowedAgents: ['x'] };
  // wrong type beats everything
  assert.match(errorOf(0x41, utf8('garbage'), strict), /got Ping$/);
  // bad shape beats version
  assert.match(errorOf(0x01, utf8('{"protocol_version":1}'), strict), /^Invalid message format: RegistrationRequest: /);
  // version beats empty id
  assert.equal(errorOf(0x01, payload({ protocolVersion: 3, agentId: '' }), strict), 'Protocol version mismatch: expected 2, got 3');
  // empty id beats allow-list
  assert.equal(errorOf(0x01, payload({ agentId: '' }), strict), 'Invalid message format: Agent ID cannot be empty');
  // allow-list beats missing token
  assert.equal(errorOf(0x01, payload(), strict), "Invalid message format: Agent 'waf-1' is not in the allowed list");
  // missing token beats wrong token
  assert.equal(errorOf(0x01, payload({ agentId: 'x' }), strict), 'Invalid message format: Authentication required but no token provided');
  assert.equal(errorOf(0x01, payload({ agentId: 'x', authToken: 'u' }), strict), 'Invalid message format: Authentication failed');
  assert.equal(errorOf(0x01, payload({ agentId: 'x', authToken: 't' }), strict), 'ok');
});

test('an unknown first-frame type is named Unknown(0xNN)', () => {
  assert.equal(
    errorOf(0x99, payload(), OPEN),
    'Invalid message format: Expected registration request (HandshakeRequest), got Unknown(0x99)',
  );
});

test('capability sub-keys default per §5.4; a wrongly typed one is a format error', () => {
  const minimal = utf8('{"protocol_version":2,"agent_id":"a","capabilities":{}}');
  const v = validateRegistration(0x01, minimal, OPEN);
  assert.equal(v.ok, true);
  assert.deepEqual(v.ok && v.request.capabilities.limits, { maxBodySize: 10_485_760, maxConcurrency: 100, preferredChunkSize: 65_536 });
  assert.equal(v.ok && v.request.authToken, null);
  assert.equal(v.ok && v.request.metadata, null);
  assert.equal(
    errorOf(0x01, utf8('{"protocol_version":2,"agent_id":"a","capabilities":{"limits":{"max_concurrency":"many"}}}'), OPEN),
    "Invalid message format: Capabilities.limits: key 'max_concurrency' must be an integer, got string",
  );
});

test('an empty token counts as no token when auth is required', () => {
  const policy: RegistrationPolicy = { requireAuth: true, authTokens: [''], allowedAgents: [] };
  assert.equal(errorOf(0x01, payload({ authToken: '' }), policy), 'Invalid message format: Authentication required but no token provided');
});

test('auth required with no configured tokens refuses every token', () => {
  const policy: RegistrationPolicy = { requireAuth: true, authTokens: [], allowedAgents: [] };
  assert.equal(errorOf(0x01, payload({ authToken: 'x' }), policy), 'Invalid message format: Authentication failed');
});

test('allow-list: exact entries and * globs, case-sensitive', () => {
  const policy = (allowedAgents: string[]): RegistrationPolicy => ({ requireAuth: false, authTokens: [], allowedAgents });
  assert.equal(errorOf(0x01, payload({ agentId: 'waf-1' }), policy(['waf-1'])), 'ok');
  assert.equal(errorOf(0x01, payload({ agentId: 'waf-1' }), policy(['auth', 'waf-*'])), 'ok');
  assert.notEqual(errorOf(0x01, payload({ agentId: 'WAF-1' }), policy(['waf-*'])), 'ok');
  assert.notEqual(errorOf(0x01, payload({ agentId: 'waf-1' }), policy(['waf'])), 'ok');
});

test('globMatch', () => {
  const yes: [string, string][] = [
    ['*', ''],
    ['*', 'anything'],
    ['waf-*', 'waf-'],
    ['waf-*', 'waf-12'],
    ['*-guard-*', 'llm-guard-1'],
    ['a*b*c', 'abc'],
    ['a*b*c', 'aXXbYYbZc'],
    ['**', 'x'],
    ['exact', 'exact'],
    ['a*a', 'aaa'],
    ['?', '?'],
  ];
  const no: [string, string][] = [
    ['waf-*', 'waf'],
    ['waf-*', 'Waf-1'],
    ['a*b', 'ac'],
    ['a*b*c', 'acb'],
    ['exact', 'exactly'],
    ['exact', ''],
    ['', 'x'],
    ['?', 'x'], // only * is special
    ['a.c', 'abc'], // no regex semantics
  ];
  for (const [p, s] of yes) assert.equal(globMatch(p, s), true, `${p} ~ ${s}`);
  for (const [p, s] of no) assert.equal(globMatch(p, s), false, `${p} !~ ${s}`);
  assert.equal(globMatch('', ''), true);
});

test('globMatch stays fast on a pathological pattern', () => {
  // exponential backtracking would never finish this
  assert.equal(globMatch('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
});

test('tokenMatches: exact match against any configured token', () => {
  assert.equal(tokenMatches('t2', ['t1', 't2', 't3']), true);
  assert.equal(tokenMatches('t3', ['t1', 't2', 't3']), true);
  assert.equal(tokenMatches('t', ['t1', 't2']), false);
  assert.equal(tokenMatches('T1', ['t1']), false);
  assert.equal(tokenMatches('t1 ', ['t1']), false);
  assert.equal(tokenMatches('x', []), false);
  // lengths differ wildly: still a clean false, never a throw
  assert.equal(tokenMatches('a'.repeat(10_000), ['a']), false);
  assert.equal(tokenMatches('ü', ['ü']), true);
});

test('connection id and duration text', () => {
  assert.equal(connectionIdFor('llm-guard-1', 1_767_225_600_000), 'llm-guard-1-19b76daa800');
  assert.equal(connectionIdFor('a', 255), 'a-ff');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(10_000), '10s');
  assert.equal(formatDuration(1_500), '1.5s');
  assert.equal(formatDuration(1_000), '1s');
  assert.equal(formatDuration(999), '999ms');
  assert.equal(formatDuration(120_000), '120s');
});

test('decodeRegistrationRequest keeps free-form metadata', () => {
  const r = decodeRegistrationRequest(
    utf8('{"protocol_version":2,"agent_id":"a","capabilities":{},"auth_token":null,"metadata":{"pid":1,"tags":["x"]}}'),
  );
  assert.deepEqual(r.metadata, { pid: 1, tags: ['x'] });
});

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
