// README "Express": the engine as Connect/Express middleware; requests no route takes go on to the app.
// Runs on its own (an agent and an upstream on loopback): node --import tsx examples/http-express.ts
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalAgent } from './local-agent.js';

const stopAgent = await startLocalAgent();
const service = http.createServer((req, res) => res.end(`service saw x-checked=${req.headers['x-checked']}`));
service.listen(0, '127.0.0.1');
await once(service, 'listening');
process.env.SERVICE = `127.0.0.1:${(service.address() as AddressInfo).port}`;
// readme:start
import express from 'express';
import { AgentPool } from '../src/index.js';
import { createHttpEngine, createUpstream, routeAgent, zapMiddleware, type HttpRoute } from '../src/http-entry.js';

const pool = new AgentPool();
await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? '/run/waf.sock');
const api: HttpRoute = {
  id: 'api',
  upstream: createUpstream({ id: 'api', target: process.env.SERVICE ?? '127.0.0.1:3000' }),
  agents: [routeAgent('waf')],
};
// Mount before any body parser: the engine streams the raw request body.
const app = express();
app.use(zapMiddleware(createHttpEngine({ pool, route: (req) => (req.url?.startsWith('/api/') ? api : undefined) })));
app.get('/health', (_req, res) => void res.send('ok')); // not routed: served by Express
// readme:end
const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
try {
  for (const path of ['/api/cart', '/health']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual' });
    console.log(`${path} → ${res.status} ${res.headers.get('location') ?? (await res.text())}`);
  }
} finally {
  server.close();
  service.close();
  await api.upstream.close();
  await pool.close();
  await stopAgent();
}
