// README "A gateway on node:http": the lifecycle engine behind a plain (req, res) handler, agents and
// an upstream in front of a Node service. Runs on its own (an agent and an upstream on loopback):
//   node --import tsx examples/http-gateway.ts
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startLocalAgent } from './local-agent.js';

const stopAgent = await startLocalAgent();
const service = http.createServer((req, res) => res.end(`service saw x-checked=${req.headers['x-checked']}`));
service.listen(0, '127.0.0.1');
await once(service, 'listening');
process.env.SERVICE = `127.0.0.1:${(service.address() as AddressInfo).port}`;
// readme:start
import http from 'node:http';
import { AgentPool } from '../src/index.js';
import { createHttpEngine, createHttpHandler, createUpstream, routeAgent } from '../src/http-entry.js';

const pool = new AgentPool();
await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? '/run/waf.sock');
const backend = createUpstream({ id: 'backend', target: process.env.SERVICE ?? '127.0.0.1:3000' }); // pooled undici connections
const engine = createHttpEngine({
  pool,
  // One route for every request; a function (req) => route picks one per request instead.
  route: {
    id: 'all',
    upstream: backend,
    // Agents in configured order, with their events, body modes, failure mode and timeouts.
    agents: [routeAgent('waf', { events: ['request_headers', 'request_body_chunk'], failureMode: 'closed' })],
  },
});
const server = http.createServer(createHttpHandler(engine));
server.on('upgrade', engine.upgrade);
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
// readme:end
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
try {
  for (const path of ['/cart', '/old', '/suspicious']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual' });
    console.log(`${path} → ${res.status} ${res.headers.get('location') ?? (await res.text())}`);
  }
} finally {
  server.close();
  service.close();
  await backend.close();
  await pool.close();
  await stopAgent();
}
