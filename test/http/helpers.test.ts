// The /http helpers on their own: header conversion and forwarding rules, upstream targets, challenges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpEngine } from '../../src/http/engine.js';
import type { EnginePool } from '../../src/http/engine-types.js';
import { createHttpHandler } from '../../src/http/node-handler.js';
import { headerMapOf, nodeHeadersOf, withForwarded, withoutHopByHop } from '../../src/http/node-headers.js';
import { upstreamOrigin } from '../../src/http/upstream.js';
import { challengeBody, challengeStatus } from '../../src/http/render-decision.js';
import { writableDecision } from '../../src/http/header-guard.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import { agentsFor, routeAgent, type RouteAgent } from '../../src/http/route.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { AgentConfig } from '../../src/config/config-types.js';

test('headerMapOf and nodeHeadersOf: arrays per name one way, a single value as a string the other', () => {
  const map = headerMapOf({ Host: 'a', 'set-cookie': ['x=1', 'y=2'], 'content-length': 3 as unknown as string });
  assert.deepEqual(map, { host: ['a'], 'set-cookie': ['x=1', 'y=2'], 'content-length': ['3'] });
  assert.deepEqual(nodeHeadersOf({ ...map, empty: [] }), { host: 'a', 'set-cookie': ['x=1', 'y=2'], 'content-length': '3' });
});

test('withoutHopByHop drops the RFC 9110 list and the names the connection header lists', () => {
  const out = withoutHopByHop({
    connection: ['keep-alive, X-Secret'],
    'keep-alive': ['timeout=5'],
    'transfer-encoding': ['chunked'],
    upgrade: ['h2c'],
    'x-secret': ['1'],
    accept: ['*/*'],
  });
  assert.deepEqual(out, { accept: ['*/*'] });
});

test('withForwarded replaces a client’s x-forwarded-* unless trusted, then appends to it', () => {
  const sent = { 'x-forwarded-for': ['6.6.6.6'], 'X-Forwarded-Host': ['evil'], accept: ['*/*'] };
  const facts = { clientIp: '192.0.2.1', proto: 'http', host: 'shop.example' };
  assert.deepEqual(withForwarded(sent, facts, false), {
    accept: ['*/*'],
    'x-forwarded-for': ['192.0.2.1'],
    'x-forwarded-proto': ['http'],
    'x-forwarded-host': ['shop.example'],
  });
  assert.deepEqual(withForwarded(sent, facts, true), {
    accept: ['*/*'],
    'x-forwarded-for': ['6.6.6.6, 192.0.2.1'],
    'x-forwarded-host': ['evil'],
    'x-forwarded-proto': ['http'],
  });
});

test('upstreamOrigin takes host:port or an origin; anything else is ZAP_INVALID_ARGUMENT', () => {
  assert.equal(upstreamOrigin('127.0.0.1:3000'), 'http://127.0.0.1:3000');
  assert.equal(upstreamOrigin('https://api.example'), 'https://api.example');
  for (const bad of ['ftp://x:1', 'http://x:1/path', 'http://u:p@x:1', 'not a target']) {
    assert.throws(
      () => upstreamOrigin(bad),
      (e: unknown) => e instanceof AgentPoolError && e.code === 'ZAP_INVALID_ARGUMENT',
      bad,
    );
  }
});

test('a challenge: 429 for rate_limit, 403 otherwise; the HTML form escapes the agent’s text', () => {
  assert.equal(challengeStatus('rate_limit'), 429);
  assert.equal(challengeStatus('captcha'), 403);
  const html = challengeBody('x"><script>', { '<k>': '"v"' }, true);
  assert.ok(!html.includes('<script>'));
  assert.match(html, /data-challenge-type="x&#34;&#62;&#60;script&#62;"/);
  assert.match(html, /name="&#60;k&#62;" value="&#34;v&#34;"/);
  assert.equal(challengeBody('captcha', { a: 'b' }, false), '{"challenge":{"type":"captcha","params":{"a":"b"}}}');
});

test('an agent loaded from KDL is a RouteAgent as it is (the engine reads the loader’s names)', () => {
  const config = loadConfig(
    `agents {
  agent "waf" {
    unix-socket "/tmp/waf.sock"; events "request_headers" "request_body"
    request-body-mode "hybrid:2048"; failure-mode "closed"
  }
}`,
    'gateway.kdl',
  );
  const agent: RouteAgent = config.agents[0] as AgentConfig;
  assert.deepEqual(agentsFor({ agents: [agent] }, 'request_body_chunk'), [agent]);
  assert.deepEqual(agent.requestBodyMode, { mode: 'hybrid', hybridThreshold: 2048 });
  assert.equal(agent.failureMode, 'closed');
  assert.deepEqual(routeAgent('waf', { failureMode: 'closed' }).requestBodyMode, { mode: 'buffer', hybridThreshold: 65_536 });
});

test('writableDecision answers 502 for a status HTTP/1.1 cannot write, and keeps a three-digit one', () => {
  const warnings: string[] = [];
  const warn = (message: string): void => void warnings.push(message);
  for (const status of [0, 99, 1000, 65535]) {
    assert.deepEqual(writableDecision({ type: 'block', status, body: null, headers: null }, warn), {
      type: 'block',
      status: 502,
      body: 'Bad gateway',
      headers: null,
    });
    assert.equal(writableDecision({ type: 'redirect', status, url: '/x' }, warn).type, 'block');
  }
  assert.equal(warnings.length, 8);
  const kept = { type: 'block', status: 999, body: null, headers: null } as const;
  assert.deepEqual(writableDecision(kept, warn), kept);
  assert.deepEqual(writableDecision({ type: 'redirect', status: 100, url: '/x' }, warn), { type: 'redirect', status: 100, url: '/x' });
  assert.equal(warnings.length, 8);
});

test('createHttpHandler answers a request no route takes with 404 and consults no agent', async () => {
  const pool = new Proxy({}, { get: () => assert.fail('the pool was used') }) as unknown as EnginePool;
  const server = createServer(createHttpHandler(createHttpEngine({ pool, route: () => undefined })));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/nowhere`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'Not found');
  } finally {
    server.close();
  }
});
