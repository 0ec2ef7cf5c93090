// A real `zap gateway` against hostile clients on its listener: slowloris heads and a slow body
// drip are cut by the headers / request timeouts (a well-behaved client served meanwhile), an
// oversized head is 431, Transfer-Encoding with Content-Length is 400 and the process lives, a
// `Connection` header cannot strip Host nor the x-forwarded-* the gateway sets, and a client's own
// x-forwarded-for (duplicated, oversized) never reaches the upstream. Past max-connections a
// listener closes new connections at accept and counts them. The last request a kept-alive
// connection may carry closes it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { applyListenerLimits, LISTENER_LIMITS, listenerServerOptions } from '../../src/gateway/listener-limits.js';
import { GatewayMetrics } from '../../src/gateway/gateway-metrics.js';
import { waitFor } from '../support/wait-for.js';
import { rawExchange, rawSocket, startGateway, type GatewayChild } from './gateway-child.js';
import { answerOf } from '../support/raw-http.js';

let upstreamAborts = 0;
// Answers with the headers it got, once the body has ended.
const upstream: Server = createServer((req, res) => {
  req.on('aborted', () => upstreamAborts++);
  req.resume();
  req.on('end', () => res.end(JSON.stringify(req.headers)));
});
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
const target = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
// At module level: a child started in a `before` hook is killed by the hook's own `after`.
const gw: GatewayChild = await startGateway(`listeners {
    listener "http" {
        address "127.0.0.1:0"
        request-timeout-secs 2
        keepalive-timeout-secs 5
    }
}
upstreams {
    upstream "echo" { target "${target}"; }
}
routes {
    route "all" {
        matches { path-prefix "/"; }
        upstream "echo"
    }
}
`);
after(() => {
  upstream.closeAllConnections();
  upstream.close();
});

/** Writes `text` one character every `everyMs` until the gateway closes `socket` or the text runs out. */
async function drip(socket: Socket, text: string, everyMs: number): Promise<boolean> {
  for (const piece of text) {
    if (socket.destroyed || socket.writableEnded) return true;
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return socket.destroyed;
}

const bodyOf = (answer: string): string => answer.slice(answer.indexOf('\r\n\r\n') + 4);

test('slowloris heads and a slow body drip are cut by the timeouts; a well-behaved client is served meanwhile', async () => {
  const heads = await Promise.all(Array.from({ length: 40 }, () => rawSocket(gw)));
  const closed = heads.map((s) => answerOf(s, 15_000));
  // 40 pieces × 250 ms = 10 s at most, far past the 2 s headers timeout (checked every second).
  const header = `GET / HTTP/1.1\r\nhost: a\r\n${'x-slow: 1\r\n'.repeat(4)}`;
  void Promise.all(heads.map((s) => drip(s, header.padEnd(40, 'y'), 250)));

  const body = await rawSocket(gw);
  const bodyClosed = answerOf(body, 15_000);
  body.write('POST /drip HTTP/1.1\r\nhost: a\r\ncontent-length: 100000\r\n\r\n');
  void drip(body, 'z'.repeat(40), 250);

  const served = await fetch(`http://${gw.address}/ok`);
  assert.equal(served.status, 200, 'the well-behaved client');
  await served.text();

  for (const answer of await Promise.all(closed)) assert.match(answer, /^(HTTP\/1\.1 408 [^]*)?$/);
  assert.match(await bodyClosed, /^(HTTP\/1\.1 408 [^]*)?$/, 'the slow body is cut');
  // The upstream hears of it on its own socket, possibly after the client's socket closed.
  await waitFor(() => upstreamAborts > 0, 5_000).catch(() => assert.fail('the upstream never saw the dripped request go away'));
  assert.equal(upstreamAborts, 1, 'the upstream saw the dripped request go away, once');
  assert.equal((await fetch(`http://${gw.address}/ok`)).status, 200, 'still serving');
});

test('an oversized head is 431, Transfer-Encoding with Content-Length is 400, and the gateway stays up', async () => {
  const big = await rawExchange(gw, `GET / HTTP/1.1\r\nhost: a\r\nx-big: ${'b'.repeat(LISTENER_LIMITS.maxHeaderBytes)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  const smuggle = await rawExchange(
    gw,
    'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n' +
      'GET /smuggled HTTP/1.1\r\nhost: a\r\n\r\n',
  );
  assert.match(smuggle, /^HTTP\/1\.1 400 /);
  assert.doesNotMatch(smuggle, /smuggled/);
  const twoLengths = await rawExchange(gw, 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab');
  assert.match(twoLengths, /^HTTP\/1\.1 400 /);
  assert.equal(gw.child.exitCode, null);
  assert.equal((await fetch(`http://${gw.address}/ok`)).status, 200);
});

test('Connection cannot strip Host nor x-forwarded-*; a client x-forwarded-for (duplicated, large) is replaced', async () => {
  const answer = await rawExchange(
    gw,
    'GET /h HTTP/1.1\r\nhost: shop.example\r\nconnection: close, x-forwarded-for, host, authorization, x-keep\r\n' +
      `authorization: Bearer t\r\nx-keep: 1\r\nx-forwarded-for: 6.6.6.6\r\nx-forwarded-for: ${'7.7.7.7, '.repeat(600)}8.8.8.8\r\n\r\n`,
  );
  assert.match(answer, /^HTTP\/1\.1 200 /);
  const seen = JSON.parse(bodyOf(answer)) as Record<string, string>;
  assert.equal(seen['host'], 'shop.example');
  assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'only the address the gateway saw');
  assert.equal(seen['x-forwarded-host'], 'shop.example');
  assert.equal(seen['authorization'], undefined, 'a client may drop its own headers (RFC 9110, section 7.6.1)');
  assert.equal(seen['x-keep'], undefined);
});

test('the last request a kept-alive connection may carry is answered, then the connection closes (no 503 after it)', async () => {
  const limit = LISTENER_LIMITS.maxRequestsPerSocket;
  // Pipelined: one more than the limit, so a connection left open would answer the extra one 503.
  const answer = await rawExchange(gw, 'GET /n HTTP/1.1\r\nhost: a\r\n\r\n'.repeat(limit + 1), 30_000);
  // Each body (the upstream's JSON) runs straight into the next status line.
  const statuses = answer.match(/HTTP\/1\.1 \d{3}/g) ?? [];
  assert.equal(statuses.length, limit, 'every request up to the limit answered, none after it');
  assert.ok(
    statuses.every((s) => s === 'HTTP/1.1 200'),
    [...new Set(statuses)].join(', '),
  );
  assert.match(answer.slice(answer.lastIndexOf('HTTP/1.1 ')), /^connection: close\r$/im);
});

test('past maxConnections a listener closes new connections at accept and counts them', async () => {
  const metrics = new GatewayMetrics();
  const server = createServer(listenerServerOptions(), (_req, res) => res.end('ok'));
  applyListenerLimits(
    server,
    { id: 'l', address: '127.0.0.1:0', protocol: 'http', requestTimeoutMs: 5_000, keepaliveTimeoutMs: 5_000 },
    {
      ...LISTENER_LIMITS,
      maxConnections: 2,
    },
  );
  server.on('drop', () => metrics.connectionRefused('l'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const open = (): Promise<Socket> =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
    });
  const held = [await open(), await open()];
  // Served first: the server has seen both before the third arrives.
  for (const s of held) s.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n');
  await Promise.all(held.map((s) => once(s, 'data')));
  const third = await open();
  assert.equal(await answerOf(third, 5_000, () => third.write('GET / HTTP/1.1\r\nhost: a\r\n\r\n')), '');
  assert.match(await metrics.text(), /^zap_gateway_connections_refused_total\{listener="l"\} 1$/m);
  for (const s of held) s.destroy();
});
