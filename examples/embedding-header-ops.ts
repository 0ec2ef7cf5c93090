// README "Applying header operations to a Node request": a Node IncomingMessage's headers become a HeaderMap,
// the agent's ops apply to it, and the result is what http.request takes (helpers of the /http entry).
// Runs on its own (a proxy and an upstream on loopback): node --import tsx examples/embedding-header-ops.ts
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startLocalAgent } from './local-agent.js';
import { requestHeadersEvent } from './request-event.js';

const stopAgent = await startLocalAgent();
// readme:start
import http from 'node:http';
import { AgentPool, applyHeaderOps, type RequestMetadata } from '../src/index.js';
import { headerMapOf, nodeHeadersOf } from '../src/http-entry.js';

// headerMapOf: IncomingMessage.headers (string or string[] per name) → a HeaderMap (string[] per name).
// nodeHeadersOf: a HeaderMap → what http.request and res.writeHead take (one value as a string, since
// single-valued headers such as host refuse an array). The /http entry's engine does all of this for you.
async function forward(
  pool: AgentPool,
  req: http.IncomingMessage,
  upstream: URL,
  metadata: RequestMetadata,
): Promise<http.IncomingMessage> {
  const cid = metadata.correlationId;
  const headers = headerMapOf(req.headers);
  try {
    const reply = await pool.sendRequestHeaders('waf', cid, { metadata, method: req.method ?? 'GET', uri: req.url ?? '/', headers });
    // set replaces every value, add appends one, remove deletes the name (names compare case-insensitively).
    const upstreamHeaders = applyHeaderOps(headers, reply.requestHeaders);
    const out = http.request(upstream, { method: req.method, headers: nodeHeadersOf(upstreamHeaders) });
    req.pipe(out);
    const [res] = (await once(out, 'response')) as [http.IncomingMessage];
    return res; // apply reply.responseHeaders the same way before answering the client
  } finally {
    pool.endRequest(cid);
  }
}
// readme:end

// An upstream that echoes the headers it got, and one request through forward().
const upstream = http.createServer((req, res) => res.end(JSON.stringify(req.headers)));
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
const proxy = http.createServer();
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1 });
try {
  await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? '', { requireReady: true });
  proxy.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}${req.url ?? '/'}`);
    forward(pool, req, target, requestHeadersEvent(crypto.randomUUID(), req.url ?? '/').metadata).then(
      (up) => up.pipe(res),
      (err: unknown) => res.writeHead(502).end(String(err)),
    );
  });
  const { port } = proxy.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/cart`, { headers: { 'x-internal': '1', 'x-checked': 'no' } });
  const seen = (await res.json()) as Record<string, string>;
  console.log(`upstream saw x-checked=${seen['x-checked']} x-internal=${seen['x-internal'] ?? '(removed)'}`);
} finally {
  await pool.close();
  proxy.close();
  upstream.close();
  await stopAgent();
}
