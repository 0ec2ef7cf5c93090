// The HTTP lifecycle (spec §10.2) through real sockets: a client, the engine behind each adapter
// (plain node:http handler, Express middleware, Fastify plugin), a real agent process and a real
// upstream. One table of cases, run through the three adapters; the processes are shared.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { createHttpEngine } from '../../src/http/engine.js';
import { createHttpHandler } from '../../src/http/node-handler.js';
import { zapMiddleware } from '../../src/http/express-middleware.js';
import { zapFastify } from '../../src/http/fastify-plugin.js';
import type { HttpEngine, RequestOutcome } from '../../src/http/engine-types.js';
import { send, startRig, type ClientResponse, type Echo, type HttpRig } from './support/http-rig.js';
import { rawExchange, rawSocket, upgradeRequest } from '../support/raw-http.js';

interface Served {
  port: number;
  outcomes: Map<string, RequestOutcome>;
  close(): Promise<void>;
}

type Adapter = (engine: HttpEngine) => Promise<{ port: number; close(): Promise<void> }>;

async function listen(server: http.Server): Promise<{ port: number; close(): Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ADAPTERS: Record<string, Adapter> = {
  'node:http handler': (engine) => listen(http.createServer(createHttpHandler(engine))),
  'Express middleware': (engine) => {
    const app = express();
    app.use(zapMiddleware(engine));
    app.use((_req, res) => void res.status(418).send('not routed'));
    return listen(http.createServer(app));
  },
  'Fastify plugin': async (engine) => {
    const app = Fastify();
    await app.register(zapFastify(engine));
    app.get('/plain', () => 'not routed');
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  },
};

let rig: HttpRig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig.close();
});

let tags = 0;
/** A fresh x-test-id and the headers scripting agents a and b. */
function script(a: string, b = ''): { tag: string; headers: Record<string, string> } {
  const tag = `t${++tags}`;
  return { tag, headers: { 'x-test-id': tag, 'x-script-a': a, 'x-script-b': b } };
}

function echo(res: ClientResponse): Echo {
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()) as Echo;
}

const SMALL = Buffer.from('name=bob&age=7');
const BIG = Buffer.alloc(200_000, 'xyz');

/** What each decision kind renders as, in any phase. */
function assertDecision(kind: string, res: ClientResponse): void {
  switch (kind) {
    case 'block':
      assert.equal(res.status, 403);
      assert.equal(res.body.toString(), 'blocked by script');
      assert.equal(res.headers['x-blocked-by'], 'script');
      return;
    case 'redirect':
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, 'https://login.example/');
      return;
    case 'challenge':
      assert.equal(res.status, 403);
      assert.deepEqual(JSON.parse(res.body.toString()), { challenge: { type: 'captcha', params: { site_key: 'k<1>' } } });
      return;
    case 'ratelimit':
      assert.equal(res.status, 429);
      assert.equal(res.headers['content-type'], 'application/json');
      return;
  }
}

/** Sends a WebSocket upgrade request with `headers`; resolves with all the engine wrote before closing. */
function sendUpgrade(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return rawExchange(port, upgradeRequest(path, 'x', headers));
}

test('an upgrade request blocked in the request headers phase gets the block on its socket', async () => {
  const engine = createHttpEngine(rig.engineOptions);
  const server = http.createServer(createHttpHandler(engine));
  server.on('upgrade', engine.upgrade);
  const { port, close } = await listen(server);
  try {
    const text = await sendUpgrade(port, '/r/basic/ws', script('rh=block').headers);
    assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(text, /\r\n\r\nblocked by script$/);

    // As for any request: the first agent blocks while the second still holds its call, which is cancelled.
    const { tag, headers } = script('rh=block', 'rh=hang');
    const held = rig.record('b', `${tag}#hang`);
    assert.match(await sendUpgrade(port, '/r/two/ws', headers), /^HTTP\/1\.1 403 Forbidden\r\n/);
    await held;
    assert.deepEqual((await rig.record('b', `${tag}#cancel`)).cancels, ['blocked_by_agent']);

    // A client that resets the connection while the agent still holds the headers: the call is
    // cancelled, and the reset (ECONNRESET on the server's socket) is no uncaught error.
    const reset = script('rh=hang');
    const hanging = rig.record('a', `${reset.tag}#hang`);
    const socket = await rawSocket(port);
    socket.write(upgradeRequest('/r/basic/ws', 'x', reset.headers));
    await hanging;
    socket.resetAndDestroy();
    assert.deepEqual((await rig.record('a', `${reset.tag}#cancel`)).cancels, ['client_disconnect']);
  } finally {
    await close();
  }
});

for (const [name, adapter] of Object.entries(ADAPTERS)) {
  describe(`HTTP lifecycle through the ${name}`, () => {
    let served: Served;
    before(async () => {
      const engine = createHttpEngine(rig.engineOptions);
      const outcomes = new Map<string, RequestOutcome>();
      engine.onOutcome = (outcome) => outcomes.set(outcome.correlationId, outcome);
      served = { ...(await adapter(engine)), outcomes };
    });
    after(() => served.close());

    test('allow: forwarded with x-forwarded-*, without hop-by-hop headers; request_complete reports the sizes', async () => {
      const { tag, headers } = script('');
      const res = await send(served.port, '/r/basic/echo?q=1', {
        method: 'POST',
        body: SMALL,
        headers: { ...headers, host: 'shop.example', connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-forwarded-for': '6.6.6.6' },
      });
      const seen = echo(res);
      assert.equal(seen.url, '/r/basic/echo?q=1');
      assert.equal(seen.body, SMALL.toString());
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-host'], 'shop.example');
      assert.equal(seen.headers['x-hop'], undefined);
      assert.equal(res.headers['x-hop-resp'], undefined);
      assert.equal(res.headers['x-upstream'], '1');
      const record = await rig.record('a', tag);
      assert.deepEqual(record.events, [
        'rh POST /r/basic/echo?q=1',
        `rb 0 ${SMALL.length} true ${SMALL.length}`,
        'sh 200',
        `sb 0 ${res.body.length} true ${res.body.length}`,
      ]);
      assert.deepEqual(record.complete, { status: 200, requestBodySize: SMALL.length, responseBodySize: res.body.length, error: null });
      await rig.ended(record.cid);
      assert.equal(served.outcomes.get(record.cid)?.status, 200);
      // A later request has come and gone: still one endRequest for this one.
      await send(served.port, '/r/basic/again', { headers: script('').headers });
      assert.equal(rig.endRequests(record.cid), 1);
    });

    test('two agents: header ops of both apply in order; the first non-allow in configured order wins', async () => {
      const both = await send(served.port, '/r/two/x', { headers: script('rh=ops', 'rh=ops').headers });
      const seen = echo(both);
      assert.equal(seen.headers['x-from-a'], '1');
      assert.equal(seen.headers['x-from-b'], '1');
      assert.equal(both.headers['x-resp-a'], '1');
      assert.equal(both.headers['x-resp-b'], '1');
      assertDecision('redirect', await send(served.port, '/r/two/x', { headers: script('rh=redirect', 'rh=block').headers }));
      assertDecision('block', await send(served.port, '/r/two/x', { headers: script('rh=ops', 'rh=block').headers }));
      // The first agent blocks while the second still holds its call: that call is cancelled.
      const { tag, headers } = script('rh=block', 'rh=hang');
      const held = rig.record('b', `${tag}#hang`);
      assertDecision('block', await send(served.port, '/r/two/x', { headers }));
      await held;
      assert.deepEqual((await rig.record('b', `${tag}#cancel`)).cancels, ['blocked_by_agent']);
    });

    for (const phase of ['rh', 'rb', 'sh', 'sb']) {
      for (const kind of ['block', 'redirect', 'challenge', 'ratelimit']) {
        test(`${kind} in phase ${phase} is rendered`, async () => {
          const { tag, headers } = script(`${phase}=${kind}`);
          const res = await send(served.port, '/r/basic/d', { method: 'POST', body: SMALL, headers });
          assertDecision(kind, res);
          // Stopped in a request phase (a buffered body): the upstream never heard of it.
          assert.equal(rig.seenByUpstream.has(tag), phase === 'sh' || phase === 'sb');
        });
      }
    }

    test('a challenge renders as HTML for a browser', async () => {
      const headers = { ...script('rh=challenge').headers, accept: 'text/html,application/json' };
      const res = await send(served.port, '/r/basic/d', { headers });
      assert.equal(res.status, 403);
      assert.match(res.headers['content-type'] ?? '', /^text\/html/);
      assert.match(res.body.toString(), /data-challenge-type="captcha".*name="site_key" value="k&#60;1&#62;"/);
    });

    test('request body mutation that doubles the length goes upstream chunked and whole', async () => {
      const seen = echo(await send(served.port, '/r/basic/m', { method: 'POST', body: SMALL, headers: script('rb=double').headers }));
      assert.equal(seen.body, SMALL.toString() + SMALL.toString());
      assert.equal(seen.headers['content-length'], undefined);
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
    });

    test('buffered response body mutation: content-length is the new length', async () => {
      const res = await send(served.port, '/r/basic/text/100', { headers: script('sb=double').headers });
      assert.equal(res.body.toString(), Buffer.alloc(200, 'abcdefghij').toString().slice(0, 100).repeat(2));
      assert.equal(res.headers['content-length'], '200');
      const dropped = await send(served.port, '/r/basic/text/100', { headers: script('sb=drop').headers });
      assert.equal(dropped.body.length, 0);
      assert.equal(dropped.headers['content-length'], '0');
    });

    test('streamed response body mutation: chunked to the client, every chunk changed', async () => {
      const { tag, headers } = script('sb=double');
      const res = await send(served.port, '/r/stream/text/300000', { headers });
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.body.length, 600_000);
      const chunks = (await rig.record('a', tag)).events.filter((e) => e.startsWith('sb '));
      assert.ok(chunks.length > 1, `streamed as several chunks: ${chunks.join(' | ')}`);
      assert.match(chunks.at(-1) ?? '', / true 300000$/);
    });

    test('hybrid: a request body over the threshold is buffered to it, then streamed, with mutations', async () => {
      const { tag, headers } = script('rb=upper');
      const seen = echo(await send(served.port, '/r/hybrid/big', { method: 'POST', body: BIG, headers, piece: 16_384 }));
      assert.equal(seen.bodyLength, BIG.length);
      assert.equal(seen.body, BIG.subarray(0, 256).toString().toUpperCase());
      const chunks = (await rig.record('a', tag)).events.filter((e) => e.startsWith('rb '));
      assert.ok(chunks.length > 1, chunks.join(' | '));
      assert.ok(Number(chunks[0]?.split(' ')[2]) >= 1_024, `first chunk holds the threshold: ${chunks[0]}`);
      assert.match(chunks.at(-1) ?? '', new RegExp(` true ${BIG.length}$`));
      chunks.forEach((c, i) => assert.equal(c.split(' ')[1], String(i)));
    });

    test('hybrid: a response body over the threshold streams back with mutations', async () => {
      const res = await send(served.port, '/r/hybrid/text/100000?chunked', { headers: script('sb=upper').headers });
      assert.equal(res.body.length, 100_000);
      assert.equal(res.body.subarray(0, 10).toString(), 'ABCDEFGHIJ');
    });

    test('needs_more: a provisional block on every chunk but the last lets the request through', async () => {
      const { tag, headers } = script('rb=provisional');
      const seen = echo(await send(served.port, '/r/stream/nm', { method: 'POST', body: BIG, headers, piece: 16_384 }));
      assert.equal(seen.bodyLength, BIG.length);
      const chunks = (await rig.record('a', tag)).events.filter((e) => e.startsWith('rb '));
      assert.ok(chunks.length > 1, chunks.join(' | '));
    });

    test('needs_more: a block that stays to the last chunk is acted on', async () => {
      const res = await send(served.port, '/r/stream/nm', {
        method: 'POST',
        body: BIG,
        headers: script('rb=insist').headers,
        piece: 16_384,
      });
      assertDecision('block', res);
    });

    test('an upstream that answers before the body ends: the agents’ late block still wins', async () => {
      const res = await send(served.port, '/r/stream/early', {
        method: 'POST',
        body: BIG,
        headers: script('rb=insist').headers,
        piece: 16_384,
      });
      assertDecision('block', res);
    });

    for (const phase of ['rh', 'rb', 'sh', 'sb']) {
      test(`an agent timing out in phase ${phase}: 504 when fail-closed, passed when fail-open`, async () => {
        const closed = await send(served.port, '/r/tclosed/t', { method: 'POST', body: SMALL, headers: script(`${phase}=hang`).headers });
        assert.equal(closed.status, 504);
        assert.equal(closed.body.toString(), 'Gateway timeout');
        const open = await send(served.port, '/r/topen/t', { method: 'POST', body: SMALL, headers: script(`${phase}=hang`).headers });
        assert.equal(echo(open).body, SMALL.toString());
      });
    }

    test('two body agents one after another: the second inspects what the first made of the body', async () => {
      const { tag, headers } = script('rb=upper', 'rb=double');
      const seen = echo(await send(served.port, '/r/chain/c', { method: 'POST', body: SMALL, headers }));
      assert.equal(seen.body, SMALL.toString().toUpperCase().repeat(2));
      assert.equal((await rig.record('a', tag)).events.length, 2);
    });

    test('an upstream that refuses connections: 502; a HEAD answer keeps its headers', async () => {
      const down = await send(served.port, '/r/down/x', { headers: script('').headers });
      assert.equal(down.status, 502);
      const head = await send(served.port, '/r/basic/text/500', { method: 'HEAD', headers: script('sb=double').headers });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '500');
      assert.equal(head.body.length, 0);
    });

    test('a body over max-request/response-body-bytes: 413 when fail-closed, passed uninspected when fail-open', async () => {
      const body = Buffer.alloc(5_000, 'b');
      const closed = await send(served.port, '/r/small/b', { method: 'POST', body, headers: script('').headers });
      assert.equal(closed.status, 413);
      const open = await send(served.port, '/r/smallopen/b', { method: 'POST', body, headers: script('rb=upper').headers });
      assert.equal(echo(open).body, body.subarray(0, 256).toString());
      // The same for a response body over max-response-body-bytes (spec §10.11: 413 when fail-closed).
      assert.equal((await send(served.port, '/r/small/text/5000', { headers: script('').headers })).status, 413);
      const passed = await send(served.port, '/r/smallopen/text/5000', { headers: script('sb=upper').headers });
      assert.equal(passed.body.toString(), Buffer.alloc(5000, 'abcdefghij').toString());
    });

    test('a client disconnecting mid-body cancels the agent call with ClientDisconnect', async () => {
      const { tag, headers } = script('rb=hang');
      const req = http.request({
        host: '127.0.0.1',
        port: served.port,
        path: '/r/stream/gone',
        method: 'POST',
        headers: { ...headers, 'content-length': '100000' },
        agent: false,
      });
      req.on('error', () => {});
      req.write(Buffer.alloc(1_000, 'g'));
      await rig.record('a', `${tag}#hang`);
      req.destroy();
      assert.deepEqual((await rig.record('a', `${tag}#cancel`)).cancels, ['client_disconnect']);
      const record = await rig.record('a', tag);
      assert.equal(record.complete?.error, 'client_disconnect');
      await rig.ended(record.cid);
      assert.equal(rig.endRequests(record.cid), 1);
    });

    test('a client disconnecting while two agents hold its headers cancels both; the upstream never hears of it', async () => {
      const { tag, headers } = script('rh=hang', 'rh=hang');
      const req = http.request({ host: '127.0.0.1', port: served.port, path: '/r/two/gone', headers, agent: false });
      req.on('error', () => {});
      req.end();
      await Promise.all([rig.record('a', `${tag}#hang`), rig.record('b', `${tag}#hang`)]);
      req.destroy();
      assert.deepEqual((await rig.record('a', `${tag}#cancel`)).cancels, ['client_disconnect']);
      assert.deepEqual((await rig.record('b', `${tag}#cancel`)).cancels, ['client_disconnect']);
      const record = await rig.record('a', tag);
      assert.equal(record.complete?.error, 'client_disconnect');
      assert.equal(record.complete?.status, 499);
      await rig.ended(record.cid);
      assert.equal(rig.endRequests(record.cid), 1);
      assert.ok(!rig.seenByUpstream.has(tag), 'the upstream got no request');
    });
  });
}
