// README "The engine's helpers on your own server": the RequestHeadersEvent of a Node request, and a
// decision rendered onto the response, for code that drives the pool itself.
// Runs on its own (an agent on a temp Unix socket): node --import tsx examples/http-helpers.ts
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startLocalAgent } from './local-agent.js';

const stopAgent = await startLocalAgent();
// readme:start
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AgentPool, failClosedResponse } from '../src/index.js';
import { renderDecision, requestHeadersEvent } from '../src/http-entry.js';

const pool = new AgentPool();
await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? '/run/waf.sock');
async function guard(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const cid = randomUUID();
  try {
    // method, uri, headers and metadata (client address, protocol, TLS facts, timestamp) of req
    const event = requestHeadersEvent(req, { correlationId: cid, routeId: 'hello' });
    const reply = await pool.sendRequestHeaders('waf', cid, event).catch(failClosedResponse);
    // block: its status, body and headers; redirect: status + location; challenge: 403 (429 for
    // rate_limit) with {"challenge":{"type","params"}} as JSON, or an HTML page for browsers.
    if (!renderDecision(res, reply.decision, { accept: req.headers.accept })) res.end('hello');
  } finally {
    pool.endRequest(cid);
  }
}
const server = http.createServer((req, res) => void guard(req, res));
// readme:end
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
try {
  for (const path of ['/', '/old', '/suspicious']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', headers: { accept: 'application/json' } });
    console.log(`${path} → ${res.status} ${res.headers.get('location') ?? (await res.text())}`);
  }
} finally {
  server.close();
  await pool.close();
  await stopAgent();
}
