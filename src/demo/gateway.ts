// The demo gateway: an HTTP reverse proxy on loopback that runs every request through the HTTP
// lifecycle engine (spec §10.2): request headers to the agents in parallel, request bodies streamed
// chunk by chunk to the WAF, the response phase to the echo agent, then request_complete. The pool
// the engine sees is wrapped only to count each agent's decisions for the summary.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpEngine } from '../http/engine.js';
import type { EnginePool } from '../http/engine-types.js';
import { routeAgent, type HttpRoute, type RouteAgent } from '../http/route.js';
import { createUpstream } from '../http/upstream.js';
import type { AgentPool } from '../pool/agent-pool.js';
import type { AgentResponse } from '../protocol/types.js';
import { DemoStats } from './demo-stats.js';

export interface Gateway {
  readonly server: Server;
  readonly port: number;
  readonly stats: DemoStats;
  close(): Promise<void>;
}

/** Counts every reply the engine gets (decisions per agent, rules), passing it on unchanged. */
function countingPool(pool: AgentPool, stats: DemoStats): EnginePool {
  const counted =
    <A extends unknown[]>(call: (agentId: string, ...rest: A) => Promise<AgentResponse>) =>
    async (agentId: string, ...rest: A): Promise<AgentResponse> => {
      const reply = await call(agentId, ...rest);
      stats.record(agentId, reply);
      return reply;
    };
  return {
    sendRequestHeaders: counted(pool.sendRequestHeaders.bind(pool)),
    sendRequestBodyChunk: counted(pool.sendRequestBodyChunk.bind(pool)),
    sendResponseHeaders: counted(pool.sendResponseHeaders.bind(pool)),
    sendResponseBodyChunk: counted(pool.sendResponseBodyChunk.bind(pool)),
    sendRequestComplete: pool.sendRequestComplete.bind(pool),
    sendWebSocketFrame: pool.sendWebSocketFrame.bind(pool),
    cancelRequest: pool.cancelRequest.bind(pool),
    endRequest: pool.endRequest.bind(pool),
  };
}

/** The demo's agents: the WAF sees headers and each body chunk as it streams in, echo sees the response. */
export const DEMO_AGENTS: readonly RouteAgent[] = [
  routeAgent('waf', {
    events: ['request_headers', 'request_body_chunk'],
    requestBodyMode: { mode: 'stream', hybridThreshold: 65_536 },
    failureMode: 'closed',
    timeoutMs: 1_000,
  }),
  routeAgent('auth', { events: ['request_headers'], failureMode: 'closed', timeoutMs: 1_000 }),
  routeAgent('echo', { events: ['request_headers', 'response_headers'], timeoutMs: 1_000 }),
];

export async function startGateway(pool: AgentPool, upstreamPort: number): Promise<Gateway> {
  const stats = new DemoStats(DEMO_AGENTS.map((a) => a.id));
  const upstream = createUpstream({ id: 'demo-upstream', target: `127.0.0.1:${upstreamPort}` });
  const route: HttpRoute = { id: 'demo', agents: DEMO_AGENTS, upstream };
  const engine = createHttpEngine({
    pool: countingPool(pool, stats),
    route,
    log: (level, message) => {
      if (level === 'error') stats.gatewayErrors++;
      process.stderr.write(`zap demo: ${level}: ${message}\n`);
    },
  });
  const server = createServer((req, res) => {
    void engine.handle(req, res).then((outcome) => {
      stats.latency.recordValue(Math.max(1, Math.round(outcome.durationMs * 1000)));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await upstream.close();
    },
  };
}
