import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatchEvent, type AgentHandler, type HandlerContext } from '../src/agent/handler.js';
import { toAgentResponse } from '../src/agent/reply.js';
import { EXAMPLES, createExampleHandler, isExampleName } from '../src/agent/examples/index.js';
import { WAF_RULES, matchRules } from '../src/agent/examples/waf-rules.js';
import type { AgentResponse, HeaderMap, RequestBodyChunkEvent, RequestHeadersEvent } from '../src/protocol/types.js';

const ctx: HandlerContext = { correlationId: 'c-1', agentId: 'example', transport: 'uds', signal: new AbortController().signal };

function headersEvent(uri: string, headers: HeaderMap = {}, method = 'GET'): RequestHeadersEvent {
  return {
    metadata: {
      correlationId: 'c-1',
      requestId: 'c-1',
      clientIp: '192.0.2.10',
      clientPort: 40000,
      serverName: null,
      protocol: 'HTTP/1.1',
      tlsVersion: null,
      tlsCipher: null,
      routeId: null,
      upstreamId: null,
      timestamp: '2026-01-01T00:00:00.000Z',
    },
    method,
    uri,
    headers,
  };
}

function bodyEvent(text: string): RequestBodyChunkEvent {
  const data = Buffer.from(text, 'utf8');
  return { correlationId: 'c-1', data, isLast: true, totalSize: data.length, chunkIndex: 0, bytesReceived: data.length };
}

async function onHeaders(h: AgentHandler, e: RequestHeadersEvent): Promise<AgentResponse> {
  return toAgentResponse(await dispatchEvent(h, 'request_headers', e, ctx));
}

async function onBody(h: AgentHandler, text: string): Promise<AgentResponse> {
  return toAgentResponse(await dispatchEvent(h, 'request_body_chunk', bodyEvent(text), ctx));
}

const ALLOW = toAgentResponse(undefined);

function wafBlock(ruleIds: string[], tags: string[], reasonCodes: string[]): AgentResponse {
  return {
    ...ALLOW,
    decision: { type: 'block', status: 403, body: 'Forbidden', headers: { 'x-blocked-by': 'waf' } },
    audit: { tags, ruleIds, confidence: 1, reasonCodes, custom: {} },
  };
}

test('echo: allows and sets x-agent-echo to "<METHOD> <uri>"', async () => {
  const echo = createExampleHandler('echo');
  assert.deepEqual(await onHeaders(echo, headersEvent('/cart?step=2', {}, 'POST')), {
    ...ALLOW,
    requestHeaders: [{ op: 'set', name: 'x-agent-echo', value: 'POST /cart?step=2' }],
  });
  assert.deepEqual(await onBody(echo, 'anything'), ALLOW);
});

test('waf: blocks attacks in the URI (URL-decoded) with rule ids, tags and reason codes', async () => {
  const waf = createExampleHandler('waf');
  assert.deepEqual(
    await onHeaders(waf, headersEvent('/search?q=%3Cscript%3Ealert(1)%3C/script%3E')),
    wafBlock(['941100'], ['xss'], ['XSS_DETECTED']),
  );
  assert.deepEqual(await onHeaders(waf, headersEvent("/login?user=admin'+or+1=1--")), wafBlock(['942100'], ['sqli'], ['SQLI_DETECTED']));
  assert.deepEqual(
    await onHeaders(waf, headersEvent('/items?id=1%20UNION%20SELECT%20password%20FROM%20users')),
    wafBlock(['942190'], ['sqli'], ['SQLI_DETECTED']),
  );
  assert.deepEqual(
    await onHeaders(waf, headersEvent('/static/..%2f..%2fetc/passwd')),
    wafBlock(['930100'], ['path-traversal'], ['PATH_TRAVERSAL']),
  );
  assert.deepEqual(
    await onHeaders(waf, headersEvent('/ping?host=127.0.0.1;cat%20/etc/passwd')),
    wafBlock(['932100'], ['command-injection'], ['COMMAND_INJECTION']),
  );
  // Several rules at once: every matching id, tags and codes deduplicated, in rule order.
  assert.deepEqual(
    await onHeaders(waf, headersEvent("/q?a=<script>&b=' OR 'x'='x&c=<img onerror=1>")),
    wafBlock(['941100', '941110', '942100'], ['xss', 'sqli'], ['XSS_DETECTED', 'SQLI_DETECTED']),
  );
});

test('waf: inspects header values and request body chunks', async () => {
  const waf = createExampleHandler('waf');
  assert.deepEqual(
    await onHeaders(waf, headersEvent('/', { referer: ['javascript:alert(1)'] })),
    wafBlock(['941110'], ['xss'], ['XSS_DETECTED']),
  );
  assert.deepEqual(await onBody(waf, 'name=bob&comment=%3Cscript%3Ex%3C%2Fscript%3E'), wafBlock(['941100'], ['xss'], ['XSS_DETECTED']));
  assert.deepEqual(await onBody(waf, '{"q":"1 union all select 2"}'), wafBlock(['942190'], ['sqli'], ['SQLI_DETECTED']));
});

test('waf: ordinary traffic passes (no false positives on common shapes)', async () => {
  const waf = createExampleHandler('waf');
  const benign: Array<[string, HeaderMap]> = [
    ['/cart?step=2&cat=shoes&sort=price', { cookie: ['session=abc; id=7; ls=1'], accept: ['text/html'] }],
    ['/docs/union-station/select-a-seat', { 'user-agent': ['Mozilla/5.0 (X11; Linux x86_64)'] }],
    ['/a/b/./c?next=%2Fhome', { 'content-type': ['application/x-www-form-urlencoded'] }],
    ["/o'reilly-books?q=it's+or+never", {}],
  ];
  for (const [uri, headers] of benign) assert.deepEqual(await onHeaders(waf, headersEvent(uri, headers)), ALLOW, uri);
  assert.deepEqual(await onBody(waf, 'name=bob&age=7&note=50%25+off'), ALLOW);
});

test('waf: disabledRules switches rules off', async () => {
  const waf = createExampleHandler('waf', { disabledRules: ['941100'] });
  assert.deepEqual(await onHeaders(waf, headersEvent('/?q=<script>')), ALLOW);
  assert.deepEqual(
    matchRules('<script>').map((r) => r.id),
    ['941100'],
  );
  assert.deepEqual(
    WAF_RULES.map((r) => r.id),
    ['941100', '941110', '942100', '942190', '930100', '932100'],
  );
});

test('auth: 401 with www-authenticate unless authorization is exactly "Bearer <token>"', async () => {
  const auth = createExampleHandler('auth', { token: 's3cret', subject: 'alice' });
  const denied: AgentResponse = {
    ...ALLOW,
    decision: { type: 'block', status: 401, body: 'Unauthorized', headers: { 'www-authenticate': 'Bearer' } },
    audit: { tags: ['auth'], ruleIds: [], confidence: null, reasonCodes: ['AUTH_REQUIRED'], custom: {} },
  };
  assert.deepEqual(await onHeaders(auth, headersEvent('/', { authorization: ['Bearer s3cret'] })), {
    ...ALLOW,
    requestHeaders: [{ op: 'set', name: 'x-auth-subject', value: 'alice' }],
  });
  // HTTP/1 header names may arrive capitalised.
  assert.equal((await onHeaders(auth, headersEvent('/', { Authorization: ['Bearer s3cret'] }))).decision.type, 'allow');
  for (const headers of [
    {},
    { authorization: ['Bearer wrong'] },
    { authorization: ['bearer s3cret'] },
    { authorization: ['Bearer s3cret '] },
    { authorization: ['Basic czNjcmV0'] },
    { authorization: ['Bearer s3cret', 'Bearer s3cret'] },
  ]) {
    assert.deepEqual(await onHeaders(auth, headersEvent('/', headers)), denied, JSON.stringify(headers));
  }
});

test('auth: the token option is required; subject defaults to "authenticated"', async () => {
  assert.throws(() => createExampleHandler('auth'), TypeError);
  assert.throws(() => createExampleHandler('auth', { token: '' }), TypeError);
  const auth = createExampleHandler('auth', { token: 't' });
  assert.deepEqual((await onHeaders(auth, headersEvent('/', { authorization: ['Bearer t'] }))).requestHeaders, [
    { op: 'set', name: 'x-auth-subject', value: 'authenticated' },
  ]);
});

test("examples registry: names, module URLs with this runtime's extension, default-export factories", async () => {
  assert.deepEqual(Object.keys(EXAMPLES), ['echo', 'waf', 'auth']);
  assert.equal(isExampleName('waf'), true);
  assert.equal(isExampleName('toString'), false);
  for (const url of Object.values(EXAMPLES)) {
    assert.match(url.pathname, /\/src\/agent\/examples\/(echo|waf|auth)\.(ts|js)$/);
    const mod = (await import(url.href)) as { default: unknown };
    assert.equal(typeof mod.default, 'function');
  }
});
