// Bounded memory in a real `zap gateway` when one side is slower than the other: 200 MiB uploaded
// to a route with no body agents while the upstream holds off reading, and 200 MiB downloaded by a
// client that holds off reading, both stream with backpressure (the gateway's RSS is sampled all
// along and grows by less than RSS_GROWTH_MAX); a buffering agent's max-request-body-bytes answers
// 413 to a 32 MiB body without holding it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { socketPath } from '../support/tmp.js';
import { waitForOutput, zap } from '../support/zap-process.js';
import { rssOf, startGateway } from './gateway-child.js';

const MIB = 1 << 20;
const TOTAL = 200 * MIB;
/** The upstream or the client holds off reading this long: a 1 GB/s loopback could pile up all of TOTAL. */
const HOLD_MS = 1_000;
/** What the gateway's RSS may grow by while TOTAL goes through: socket and stream buffers, not the body. */
const RSS_GROWTH_MAX = 64 * MIB;
const PIECE = Buffer.alloc(MIB, 'p');

// The upstream: /plain/up counts the body after holding off; /plain/down sends TOTAL with backpressure.
const upstream = http.createServer((req, res) => {
  if (req.url === '/plain/up') {
    let got = 0;
    req.pause();
    setTimeout(() => {
      req.on('data', (d: Buffer) => (got += d.length));
      req.resume();
    }, HOLD_MS);
    req.on('end', () => res.end(String(got)));
    return;
  }
  if (req.url === '/plain/count') {
    let got = 0;
    req.on('data', (d: Buffer) => (got += d.length));
    req.on('end', () => res.end(String(got)));
    return;
  }
  req.resume();
  if (req.url === '/plain/down') {
    res.writeHead(200, { 'content-length': String(TOTAL) });
    void (async () => {
      for (let sent = 0; sent < TOTAL && !res.destroyed; sent += MIB) {
        if (!res.write(PIECE)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
      res.end();
    })();
    return;
  }
  req.on('end', () => res.end('ok'));
});
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
after(() => {
  upstream.closeAllConnections();
  upstream.close();
});

const wafPath = socketPath('backpressure-waf');
const waf = zap(['agent', '--listen', wafPath, '--example', 'waf']);
await waitForOutput(waf.stdout, /listening on /);

const gw = await startGateway(`listeners {
    listener "http" { address "127.0.0.1:0"; request-timeout-secs 60; }
}
upstreams {
    upstream "u" { target "127.0.0.1:${(upstream.address() as AddressInfo).port}"; }
}
routes {
    route "plain" {
        matches { path-prefix "/plain/"; }
        upstream "u"
    }
    route "buffered" {
        matches { path-prefix "/buffered/"; }
        upstream "u"
        agents "waf"
    }
}
agents {
    agent "waf" type="waf" {
        unix-socket "${wafPath}"
        events "request_headers" "request_body"
        request-body-mode "buffer"
        max-request-body-bytes ${MIB}
        failure-mode "closed"
    }
}
`);
const pid = gw.child.pid as number;

/** Samples the gateway's RSS every 50 ms until `stop()`; resolves with the highest seen. */
function sampleRss(): { stop: () => number } {
  let max = rssOf(pid);
  const timer = setInterval(() => (max = Math.max(max, rssOf(pid))), 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, rssOf(pid));
    },
  };
}

/** Warm-up so that the baseline includes the connection pools and JIT. */
async function baseline(): Promise<number> {
  for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`http://${gw.address}/plain/x`)).text(), 'ok');
  return rssOf(pid);
}

/** Writes TOTAL bytes on `req`, honouring 'drain'. */
async function upload(req: http.ClientRequest): Promise<void> {
  for (let written = 0; written < TOTAL && !req.destroyed; written += MIB) {
    if (!req.write(PIECE)) await Promise.race([once(req, 'drain'), once(req, 'close')]);
  }
  req.end();
}

test('200 MiB up to a slow upstream and 200 MiB down to a slow client stream with bounded RSS', async () => {
  const base = await baseline();
  const up = sampleRss();
  const req = http.request({
    host: gw.host,
    port: gw.port,
    method: 'POST',
    path: '/plain/up',
    agent: false,
    headers: { 'content-length': String(TOTAL) },
  });
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  await upload(req);
  const [res] = await answered;
  let text = '';
  for await (const d of res) text += String(d);
  const upPeak = up.stop();
  assert.equal(text, String(TOTAL), `the upstream got the whole body; gateway said: ${gw.stdout()}`);
  assert.ok(upPeak - base < RSS_GROWTH_MAX, `upload: RSS grew by ${((upPeak - base) / MIB).toFixed(1)} MiB`);

  const down = sampleRss();
  const get = http.get({ host: gw.host, port: gw.port, path: '/plain/down', agent: false });
  const [body] = (await once(get, 'response')) as [http.IncomingMessage];
  body.pause();
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  let got = 0;
  for await (const d of body) got += (d as Buffer).length;
  const downPeak = down.stop();
  assert.equal(got, TOTAL, 'the client got the whole body');
  assert.ok(downPeak - base < RSS_GROWTH_MAX, `download: RSS grew by ${((downPeak - base) / MIB).toFixed(1)} MiB`);
  process.stdout.write(
    `# RSS growth: upload ${((upPeak - base) / MIB).toFixed(1)} MiB, download ${((downPeak - base) / MIB).toFixed(1)} MiB\n`,
  );
});

test('a buffering agent’s max-request-body-bytes answers 413 to a 32 MiB body without holding it', async () => {
  const base = await baseline();
  const sample = sampleRss();
  const size = 32 * MIB;
  const req = http.request({
    host: gw.host,
    port: gw.port,
    method: 'POST',
    path: '/buffered/x',
    agent: false,
    headers: { 'content-length': String(size) },
  });
  req.on('error', () => {}); // the gateway may close before the client has written everything
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  void (async () => {
    for (let written = 0; written < size && !req.destroyed; written += MIB) {
      if (!req.write(PIECE)) await Promise.race([once(req, 'drain'), once(req, 'close')]);
    }
    req.end();
  })();
  const [res] = await answered;
  assert.equal(res.statusCode, 413);
  res.resume();
  req.destroy();
  const peak = sample.stop();
  assert.ok(peak - base < RSS_GROWTH_MAX, `RSS grew by ${((peak - base) / MIB).toFixed(1)} MiB`);
  assert.equal(await (await fetch(`http://${gw.address}/plain/x`)).text(), 'ok', 'still serving');
});

test('chunked uploads reach the upstream whole (the first chunks are not lost before the upstream client reads)', async () => {
  for (let i = 0; i < 5; i++) {
    const req = http.request({ host: gw.host, port: gw.port, method: 'POST', path: '/plain/count', agent: false });
    const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
    for (let j = 0; j < 4; j++) req.write(PIECE);
    req.end();
    const [res] = await answered;
    let text = '';
    for await (const d of res) text += String(d);
    assert.equal(text, String(4 * MIB), `upload ${i}`);
  }
});
